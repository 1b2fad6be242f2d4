// The playground as a person uses it: pick an example, edit the config, send, read the result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openBrowser, snapshot } from '../lib/browser.mjs';
import { serveSite, serveOrigin, startRelay } from '../lib/servers.mjs';
import { freshPage as openPage, selectExample, send, config, text, useEngine } from '../lib/page.mjs';

const EXAMPLES = fileURLToPath(new URL('../../dist/examples/', import.meta.url));
let site, origin, browser;

before(async () => {
  site = await serveSite();
  origin = await serveOrigin();
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  site?.close();
  origin?.close();
});

const freshPage = () => openPage(browser, site);

test('the page loads with an example ready to run', async () => {
  const page = await freshPage();
  assert.equal(await page.title(), 'Edgeplay — Fastly Compute in your browser');
  assert.match(await text(page, '#module-info'), /hello/);
  assert.match(await text(page, '#module-info'), /Built with Rust, the fastly crate \(.*rustc 1\.\d+/);
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  assert.equal(await text(page, '#response-body'), 'Hello from Edgeplay!\n');
  await snapshot(page, 'hello');
  assert.deepEqual(page.errors, []);
  await page.close();
});

// Each engine on a fresh page: the KV examples count from the config's seed on each.
for (const [engineName, ranOn] of [['wasmi', /^Ran on wasmi$/], ['browser', /^Ran on the browser's engine \(JSPI/]]) {
  test(`every example runs and answers as it should on ${engineName}`, async () => {
    const page = await freshPage();
    await useEngine(page, engineName);
    const expectations = {
      hello: { status: '200 OK', body: /Hello from Edgeplay!/ },
      inspector: { status: '200 OK', body: /"method": "POST"/ },
      'caching-proxy': { status: '200 OK', body: /fresh from the origin/ },
      streaming: { status: '200 OK', body: /chunk 1 of 5\nchunk 2 of 5\nchunk 3 of 5\nchunk 4 of 5\nchunk 5 of 5/ },
      fanout: { status: '200 OK', body: /"alpha"[\s\S]*"bravo"[\s\S]*"charlie"/ },
      stores: { status: '200 OK', body: /hello from config store/ },
      logging: { status: '200 OK', body: /logged 3 lines/ },
      panic: { status: '500 Internal Server Error', error: /something went wrong/ },
      'edge-features': { status: '200 OK', body: /"fastly_key_valid":\s*true[\s\S]*"protocol":\s*"TLSv1.3"/ },
      lookups: { status: '200 OK', body: /"city": "Lisbon"[\s\S]*"family": "Mobile Safari"/ },
      kv: { status: '200 OK', body: /"key": "visits"[\s\S]*"value": "\+1"/ },
      'core-cache': { status: '200 OK', body: /"value": "the answer is 42"/ },
      'http-cache': { status: '200 OK', body: /Hello from the origin/ },
      'js-hello': { status: '200 OK', body: /Hello from Edgeplay, in JavaScript!/ },
      'js-proxy': { status: '200 OK', body: /fresh from the origin/ },
      'js-kv-counter': { status: '200 OK', body: /"count":4\d/, trace: /KV lookup\s*counters\/hits found[\s\S]*KV insert\s*counters\/hits stored/ },
      'js-geo': { status: '200 OK', body: /"city":"Lisbon"/ },
    };
    const offered = JSON.parse(await readFile(`${EXAMPLES}/examples.json`, 'utf8')).filter((e) => e.picker).map((e) => e.name);
    assert.deepEqual(Object.keys(expectations).sort(), offered.sort(), 'every example in the picker is checked here');
    for (const [name, expected] of Object.entries(expectations)) {
      await selectExample(page, name);
      if (name.startsWith('js-')) assert.match(await text(page, '#module-info'), /Built with JavaScript, @fastly\/js-compute/, name);
      await send(page);
      assert.equal(await text(page, '#response-status'), expected.status, name);
      if (expected.body) assert.match(await text(page, '#response-body'), expected.body, name);
      if (expected.error) assert.match(await text(page, '#run-error'), expected.error, name);
      if (expected.trace) assert.match(await text(page, '#trace'), expected.trace, name);
      assert.match(await text(page, '#run-engine'), ranOn, name);
      await snapshot(page, `example-${name}-${engineName}`);
    }
    await page.close();
  });
}

test('a module file can be uploaded and run', async () => {
  const page = await freshPage();
  await page.setInputFiles('#file-input', `${EXAMPLES}/stores.wasm`);
  await page.waitForSelector('#module-info:has-text("stores.wasm")');
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  assert.match(await text(page, '#response-body'), /"key": "greeting"/);
  await page.close();
});

test('a module dropped on the page loads', async () => {
  const page = await freshPage();
  const dataTransfer = await page.evaluateHandle(async () => {
    const bytes = await (await fetch('examples/logging.wasm')).arrayBuffer();
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'dropped.wasm', { type: 'application/wasm' }));
    return transfer;
  });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
  await page.waitForSelector('#module-info:has-text("dropped.wasm"):has-text("imports")');
  await send(page);
  assert.match(await text(page, '#response-body'), /logged 3 lines/);
  await page.close();
});

test('a module loads from a URL, and an unreachable URL says why', async () => {
  const page = await freshPage();
  await page.fill('#module-url', `${site.url}examples/logging.wasm`);
  await page.click('#module-url-load');
  await page.waitForSelector('#module-info:has-text("logging.wasm"):has-text("imports")');
  await send(page);
  assert.match(await text(page, '#response-body'), /logged 3 lines/);
  await page.fill('#module-url', 'http://127.0.0.1:9/app.wasm');
  await page.click('#module-url-load');
  await page.waitForSelector('#module-error');
  assert.match(await text(page, '#module-error'), /could not download http:\/\/127\.0\.0\.1:9\/app\.wasm/);
  await page.close();
});

test('a mock backend answers offline and the trace shows it', async () => {
  const page = await freshPage();
  await selectExample(page, 'caching-proxy');
  await send(page);
  assert.match(await text(page, '#response-body'), /fresh from the origin/);
  assert.match(await text(page, '.trace-backend'), /httpme \(mock\)/);
  assert.match(await text(page, '.trace-backend'), /mock:\/\/httpme\/\S* → 200/);
  await page.close();
});

test('a CORS origin on 127.0.0.1 is reached through fetch', async () => {
  const page = await freshPage();
  await selectExample(page, 'caching-proxy');
  await config(page, () => ({ backends: { httpme: { url: origin.url } } }));
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  assert.match(await text(page, '#response-body'), /hello from the test origin/);
  assert.equal(origin.seen.at(-1).headers['x-edgeplay'], '1', 'the guest added its header');
  assert.match(await text(page, '.trace-backend'), new RegExp(`GET ${origin.url}/\\S* → 200`));
  assert.match(await text(page, '.trace-backend'), /not sent by the browser: host/);
  await snapshot(page, 'cors-origin');
  await page.close();
});

test('a refused backend is the guest\'s error and the page says why', async () => {
  const page = await freshPage();
  await selectExample(page, 'caching-proxy');
  await config(page, () => ({ backends: { httpme: { url: 'http://127.0.0.1:9' } } }));
  await send(page);
  assert.equal(await text(page, '#response-status'), '502 Bad Gateway');
  assert.match(await text(page, '.trace-backend'), /failed: blocked by the browser/);
  await page.close();
});

test('malformed JSON shows line and column, and the last valid config still runs', async () => {
  const page = await freshPage();
  await selectExample(page, 'stores');
  const valid = await page.inputValue('#config-editor');
  await page.fill('#config-editor', valid.replace('"flags"', '"flags" oops'));
  assert.match(await text(page, '#config-error'), /Line \d+, column \d+/);
  await snapshot(page, 'config-error');
  await send(page);
  assert.match(await text(page, '#response-body'), /hi from dictionary/);
  await page.fill('#config-editor', '{ "backends": { "x": { "ulr": "http://a" } } }');
  assert.match(await text(page, '#config-error'), /backends\.x\.ulr: unknown field/);
  await page.close();
});

test('a panicking guest shows the panic and its stderr', async () => {
  const page = await freshPage();
  await selectExample(page, 'panic');
  await send(page);
  assert.match(await text(page, '#run-error'), /panic: the guest panicked: something went wrong/);
  await page.click('#tab-stderr');
  assert.match(await text(page, '#stderr'), /about to panic/);
  await snapshot(page, 'panic');
  await page.close();
});

test('a spinning guest is cancelled and the page keeps answering', async () => {
  const page = await freshPage();
  await page.setInputFiles('#file-input', `${EXAMPLES}/spin.wasm`);
  await page.waitForSelector('#module-info:has-text("spin.wasm")');
  await page.click('#send');
  await page.waitForSelector('#cancel');
  // The page's own thread is free while the guest spins in the worker.
  await page.fill('#req-url', 'http://localhost/still-responsive');
  assert.equal(await page.inputValue('#req-url'), 'http://localhost/still-responsive');
  await page.click('#cancel');
  await page.waitForSelector('#run-state:has-text("Cancelled")');
  await selectExample(page, 'hello');
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  await page.close();
});

test('on the browser\'s engine a guest spinning past its CPU time is stopped by ending the worker', async () => {
  const page = await freshPage();
  await useEngine(page, 'browser');
  await page.setInputFiles('#file-input', `${EXAMPLES}/spin.wasm`);
  await page.waitForSelector('#module-info:has-text("spin.wasm"):has-text("imports")');
  await config(page, () => ({ limits: { cpu_ms: 300 } }));
  await send(page);
  assert.match(await text(page, '#run-error'), /cpu_limit: the guest ran past its CPU-time limit \(limits\.cpu_ms\) on the browser's engine/);
  // The restarted worker has the module again, and the next example runs there.
  await selectExample(page, 'hello');
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  assert.match(await text(page, '#run-engine'), /browser's engine/);
  await page.close();
});

test('a fuel limit keeps a run on wasmi, the one engine that counts fuel', async () => {
  const page = await freshPage();
  await useEngine(page, 'browser');
  await config(page, () => ({ limits: { fuel: 100000000 } }));
  await send(page);
  assert.equal(await text(page, '#response-status'), '200 OK');
  assert.match(await text(page, '#run-engine'), /^Ran on wasmi \(limits\.fuel is set, and only wasmi counts fuel\)$/);
  assert.match(await text(page, '#run-state'), /\d+ fuel/);
  await page.close();
});

test('the trace shows each backend fetch of a fan-out', async () => {
  const page = await freshPage();
  await selectExample(page, 'fanout');
  await send(page);
  const rows = await page.$$eval('.trace-backend .label', (labels) => labels.map((l) => l.textContent));
  assert.deepEqual(rows.sort(), ['a (mock)', 'b (mock)', 'c (mock)']);
  await snapshot(page, 'fanout-trace');
  await page.close();
});

test('a fastly.toml file imports into the JSON config and takes effect', async () => {
  const page = await freshPage();
  await selectExample(page, 'stores');
  const dir = await mkdtemp(join(tmpdir(), 'edgeplay-e2e-'));
  const toml = join(dir, 'fastly.toml');
  await writeFile(toml, [
    'name = "demo"',
    '[local_server.dictionaries.flags]',
    'format = "inline-toml"',
    'contents = { greeting = "hi from fastly.toml" }',
  ].join('\n'));
  await page.setInputFiles('#config-toml-file', toml);
  await page.waitForFunction(() => document.querySelector('#config-editor').value.includes('hi from fastly.toml'));
  await send(page);
  assert.match(await text(page, '#response-body'), /"dictionary": "hi from fastly.toml"/);
  await writeFile(toml, '[local_server.dictionaries.flags]\nfile = "flags.json"\nformat = "json"\n');
  await page.setInputFiles('#config-toml-file', toml);
  await page.waitForSelector('#config-import-error');
  assert.match(await text(page, '#config-import-error'), /flags\.json/);
  await page.close();
});

test('a request body can come from a file', async () => {
  const page = await freshPage();
  await selectExample(page, 'inspector');
  const dir = await mkdtemp(join(tmpdir(), 'edgeplay-e2e-'));
  const body = join(dir, 'payload.txt');
  await writeFile(body, 'sent from a file');
  await page.setInputFiles('#req-body-file', body);
  await page.waitForSelector('.file-chip:has-text("payload.txt")');
  await send(page);
  assert.match(await text(page, '#response-body'), /"body": "sent from a file"/);
  await page.close();
});

test('a backend with a proxy goes through edgeplay relay, Host and all', async () => {
  const relay = await startRelay();
  try {
    const page = await freshPage();
    await selectExample(page, 'caching-proxy');
    await config(page, () => ({ backends: { httpme: { url: origin.url, proxy: relay.url } } }));
    await send(page);
    assert.equal(await text(page, '#response-status'), '200 OK');
    assert.match(await text(page, '#response-body'), /hello from the test origin/);
    assert.equal(origin.seen.at(-1).headers.host, 'localhost', 'the origin sees the Host the guest sent');
    assert.doesNotMatch(await text(page, '.trace-backend'), /not sent by the browser/);
    await page.close();
  } finally {
    relay.close();
  }
});

test('the trace shows the guest\'s sleeps and its waits', async () => {
  const page = await freshPage();
  await selectExample(page, 'streaming');
  await send(page);
  assert.equal(await text(page, '.trace-sleep .label'), 'sleep ×4');
  assert.ok(await page.$$eval('.bar.waiting', (bars) => bars.length) >= 4, 'the guest waited during each sleep');
  await snapshot(page, 'streaming-trace');
  await page.close();
});
