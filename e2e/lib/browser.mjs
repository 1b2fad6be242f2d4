// Debian's Chromium driven by playwright-core, as a person's browser would load the page.
import { chromium } from 'playwright-core';
import { mkdtemp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

export async function openBrowser() {
  const profile = await mkdtemp(join(tmpdir(), 'edgeplay-chromium-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  return context;
}

/** Saves a screenshot of the page's current state under e2e/screenshots/. */
export async function snapshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
