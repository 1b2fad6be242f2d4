// What every test does with the page: open it fresh, pick an example, send, edit the config.

/** A page with no saved configs and no saved stores, the first example loaded. */
export async function freshPage(browser, site) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(site.url);
  await page.evaluate(() => new Promise((resolve) => {
    localStorage.clear();
    // The worker closes its connection when asked, so the deletion is not blocked for long.
    const deletion = indexedDB.deleteDatabase('edgeplay');
    deletion.onsuccess = deletion.onerror = deletion.onblocked = () => resolve();
  }));
  await page.reload();
  await loaded(page);
  // EDGEPLAY_ENGINE=wasmi runs the whole suite on wasmi (the page's default is the browser's engine).
  if (process.env.EDGEPLAY_ENGINE) await useEngine(page, process.env.EDGEPLAY_ENGINE);
  page.errors = errors;
  return page;
}

/** Waits for the first example's module to be ready. */
export async function loaded(page) {
  await page.waitForSelector('#module-info:has-text("imports")');
}

export async function selectExample(page, name) {
  await page.selectOption('#example-picker', name);
  await page.waitForSelector(`#module-info:has-text("${name}"):has-text("imports")`);
}

/** Sends the request and waits for this run (not the one before) to end. */
export async function send(page) {
  await page.evaluate(() => document.querySelector('#trace')?.setAttribute('data-earlier-run', ''));
  await page.click('#send');
  await page.waitForSelector('#trace:not([data-earlier-run]), #run-error, #run-state:has-text("Cancelled")', { timeout: 30_000 });
}

/** Replaces the config with `edit(current config)`. */
export async function config(page, edit) {
  const text = await page.inputValue('#config-editor');
  await page.fill('#config-editor', JSON.stringify(edit(JSON.parse(text)), null, 2));
}

export const text = (page, selector) => page.textContent(selector);

/** Chooses the engine runs use: `wasmi` or `browser` (the browser's own, through JSPI). */
export async function useEngine(page, engine) {
  await page.selectOption('#engine-setting', engine);
}
