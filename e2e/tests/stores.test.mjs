// The stores a person sees beside the guest: the cache inspector, the KV editor, secret stores,
// cache decisions in the trace, and all of it kept in the browser across a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { openBrowser, snapshot, SCREENSHOTS } from '../lib/browser.mjs';
import { serveSite } from '../lib/servers.mjs';
import { freshPage, loaded, selectExample, send, config, text } from '../lib/page.mjs';

let site, browser;

before(async () => {
  site = await serveSite();
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  site?.close();
});

const badges = (page) => page.$$eval('.trace-cache .badge', (all) => all.map((b) => b.textContent));
const entries = (page) => page.$$('#cache-inspector .cache-entry');
const ttlSeconds = async (page) => Number((await text(page, '#cache-inspector .cache-entry .ttl')).replace(' s', ''));

test('a cached response is a HIT on the next run, counts down, survives a reload, and purges', async () => {
  const page = await freshPage(browser, site);
  await selectExample(page, 'caching-proxy');
  assert.match(await text(page, '#cache-inspector'), /Nothing cached yet/);

  await send(page);
  assert.deepEqual(await badges(page), ['MISS', 'STORED']);
  assert.match(await text(page, '.trace-cache'), /localhost.*fetched from the backend.*stored, TTL 30 s/);
  assert.equal((await page.$$('.trace-backend')).length, 1, 'the miss went to the backend');
  assert.equal((await entries(page)).length, 1);
  assert.match(await text(page, '#cache-inspector .entry-key'), /localhost/);
  assert.equal(await text(page, '#cache-inspector .cache-entry .hits'), '0');
  await snapshot(page, 'stores-cache-miss');

  await send(page);
  assert.deepEqual(await badges(page), ['HIT']);
  assert.match(await text(page, '.trace-cache'), /no backend request/);
  assert.equal((await page.$$('.trace-backend')).length, 0, 'a hit makes no backend request');
  assert.match(await text(page, '#response-body'), /fresh from the origin/);
  assert.equal(await text(page, '#cache-inspector .cache-entry .hits'), '1');

  // The TTL counts down with no run in between.
  const before = await ttlSeconds(page);
  assert.ok(before > 20 && before <= 30, `TTL ${before}`);
  await page.waitForFunction((was) => parseInt(document.querySelector('.cache-entry .ttl').textContent) < was, before, { timeout: 4000 });
  await snapshot(page, 'stores-cache-hit');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snapshot(page, 'stores-cache-hit-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  // A reload keeps the cache: the inspector lists the entry before any run, the next run hits.
  await page.reload();
  await loaded(page);
  await page.waitForSelector('#cache-inspector .cache-entry');
  await selectExample(page, 'caching-proxy');
  await send(page);
  assert.deepEqual(await badges(page), ['HIT']);

  // Purged in the inspector: the next run goes to the backend again.
  await page.click('#cache-inspector .purge');
  await page.waitForSelector('#cache-inspector:has-text("Nothing cached yet")');
  await send(page);
  assert.deepEqual(await badges(page), ['MISS', 'STORED']);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('surrogate keys purge hard and soft, and Clear all empties the cache', async () => {
  const page = await freshPage(browser, site);
  await selectExample(page, 'caching-proxy');
  await config(page, (c) => {
    c.backends.httpme.mock.headers['surrogate-key'] = 'product-1 all';
    return c;
  });
  await send(page);
  assert.deepEqual(
    await page.$$eval('.cache-entry .chip.surrogate', (chips) => chips.map((c) => c.textContent)),
    ['product-1', 'all', 'edgeplay'],
    "the origin's Surrogate-Key, then the guest's own (its cache override)",
  );

  await page.fill('#surrogate-key', 'all');
  await page.check('#surrogate-soft');
  await page.click('#purge-surrogate');
  await page.waitForSelector('.cache-entry .marker:has-text("SOFT-PURGED")');
  assert.equal(await text(page, '.cache-entry .ttl'), 'expired');
  await send(page);
  assert.deepEqual(await badges(page), ['MISS', 'STORED'], 'a soft-purged object with no stale-while-revalidate is refetched');

  await page.fill('#surrogate-key', 'product-1');
  await page.uncheck('#surrogate-soft');
  await page.click('#purge-surrogate');
  await page.waitForSelector('#cache-inspector:has-text("Nothing cached yet")');

  await send(page);
  assert.equal((await entries(page)).length, 1);
  await page.click('#cache-clear');
  await page.waitForSelector('#cache-inspector:has-text("Nothing cached yet")');
  await page.close();
});

test('KV edits are kept across a reload, deletions too, and Reset returns to the seed', async () => {
  const page = await freshPage(browser, site);
  await selectExample(page, 'caching-proxy');
  await config(page, (c) => ({ ...c, kv_stores: { demo: { greeting: 'hello', colour: { data: 'blue', metadata: 'm0' } } } }));
  await page.waitForSelector('#kv-store option[value="demo"]', { state: 'attached' });
  assert.deepEqual(await page.$$eval('.kv-entry td:first-child', (tds) => tds.map((t) => t.textContent)), ['colour', 'greeting']);

  await page.click('.kv-entry:has-text("colour")');
  assert.equal(await page.inputValue('#kv-value'), 'blue');
  assert.equal(await page.inputValue('#kv-metadata'), 'm0');
  assert.match(await text(page, '#kv-editor'), /generation 1/);

  await page.click('#kv-new');
  await page.fill('#kv-key', 'added');
  await page.fill('#kv-value', 'from the editor');
  await page.fill('#kv-metadata', '{"by":"e2e"}');
  await page.click('#kv-save');
  await page.waitForSelector('.kv-entry:has-text("added")');

  await page.click('.kv-entry:has-text("colour")');
  await page.fill('#kv-value', 'green');
  await page.click('#kv-save');
  await page.waitForSelector('#kv-editor:has-text("generation 2")');

  await page.click('.kv-entry:has-text("greeting")');
  await page.click('#kv-delete');
  await page.waitForFunction(() => !document.querySelector('#kv-entries').textContent.includes('greeting'));
  await page.click('.kv-entry:has-text("added")');
  await snapshot(page, 'stores-kv-editor');
  await page.emulateMedia({ colorScheme: 'dark' });
  await snapshot(page, 'stores-kv-editor-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.reload();
  await loaded(page);
  await selectExample(page, 'caching-proxy');
  await page.waitForSelector('.kv-entry:has-text("added")');
  assert.deepEqual(await page.$$eval('.kv-entry td:first-child', (tds) => tds.map((t) => t.textContent)), ['added', 'colour'],
    'the added key is kept and the deleted seed key stays deleted');
  await page.click('.kv-entry:has-text("added")');
  assert.equal(await page.inputValue('#kv-value'), 'from the editor');
  assert.equal(await page.inputValue('#kv-metadata'), '{"by":"e2e"}');
  await page.click('.kv-entry:has-text("colour")');
  assert.equal(await page.inputValue('#kv-value'), 'green');

  await send(page);
  assert.equal((await entries(page)).length, 1);
  await page.click('#reset-stores');
  await page.waitForSelector('#cache-inspector:has-text("Nothing cached yet")');
  assert.deepEqual(await page.$$eval('.kv-entry td:first-child', (tds) => tds.map((t) => t.textContent)), ['colour', 'greeting']);
  await page.click('.kv-entry:has-text("colour")');
  assert.equal(await page.inputValue('#kv-value'), 'blue');

  // The reset is saved too: a reload still shows the seed.
  await page.reload();
  await loaded(page);
  await selectExample(page, 'caching-proxy');
  await page.waitForSelector('.kv-entry:has-text("greeting")');
  assert.deepEqual(await page.$$eval('.kv-entry td:first-child', (tds) => tds.map((t) => t.textContent)), ['colour', 'greeting']);
  assert.equal((await entries(page)).length, 0);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('secret store values are masked until revealed', async () => {
  const page = await freshPage(browser, site);
  await config(page, (c) => ({ ...c, secret_stores: { vault: { token: 's3cr3t-value' } } }));
  await page.waitForSelector('#kv-store option[value="vault"]', { state: 'attached' });
  await page.selectOption('#kv-store', 'vault');
  assert.equal(await text(page, '#secret-entries .secret-value'), '••••');
  assert.doesNotMatch(await text(page, '#kv-editor'), /s3cr3t/);
  await page.locator('#kv-editor').screenshot({ path: `${SCREENSHOTS}/stores-secrets.png` });
  await page.click('#secret-entries .reveal');
  assert.equal(await text(page, '#secret-entries .secret-value'), 's3cr3t-value');
  await page.click('#secret-entries .reveal');
  assert.equal(await text(page, '#secret-entries .secret-value'), '••••');
  await page.close();
});

test('the page asks the browser to keep the saved stores and says what it answered', async () => {
  const page = await freshPage(browser, site);
  await page.waitForSelector('#storage-status:has-text("·")');
  assert.match(await text(page, '#storage-status'), /Stores saved in this browser · (kept|may be evicted)/);
  await page.close();
});

test('a run whose changes cannot be saved says so, and its response still arrives', async () => {
  const page = await freshPage(browser, site);
  await selectExample(page, 'caching-proxy');
  // Another connection upgrades the database away from under the worker (it closes its own
  // connection when asked): the next save fails.
  await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('edgeplay', 2);
    open.onupgradeneeded = () => open.result.deleteObjectStore('rows');
    open.onsuccess = () => { open.result.close(); resolve(); };
    open.onerror = () => reject(open.error);
  }));
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  assert.match(await text(page, '#persist-error'), /not saved: IndexedDB: InvalidStateError/);
  assert.equal((await entries(page)).length, 1, 'the cache still holds the object for this page');
  await page.locator('.response').screenshot({ path: `${SCREENSHOTS}/stores-persist-error.png` });
  await page.close();
});
