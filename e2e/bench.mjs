// `make bench`, browser half: the same guests in headless Chromium, beside the native figures
// the Rust benchmark wrote a moment earlier in the same `make bench` run. Prints; never fails
// on time.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { openBrowser } from './lib/browser.mjs';
import { serveSite } from './lib/servers.mjs';

const native = JSON.parse(await readFile(fileURLToPath(new URL('../target/bench-native.json', import.meta.url)), 'utf8'));
const CPU_N = 200000;

/** Runs inside the page: host-core in its worker, and the browser's own engine for comparison. */
async function inPage({ cpuN }) {
  const bytes = async (name) => new Uint8Array(await (await fetch(`examples/${name}.wasm`)).arrayBuffer());
  const worker = new Worker('./worker_loader.js');
  await new Promise((resolve) => { worker.onmessage = (e) => e.data.kind === 'ready' && resolve(); });
  const bench = (wasm, url, warmRuns, engine = 'wasmi') => new Promise((resolve, reject) => {
    // Progress messages (response heads, the browser engine's watchdog) are not the answer.
    worker.onmessage = (e) => {
      if (e.data.kind === 'bench_result') resolve(e.data);
      else if (e.data.kind === 'run_failed') reject(new Error(e.data.message));
    };
    worker.postMessage({
      kind: 'bench', wasm, config: '{}', warm_runs: warmRuns, engine,
      request: { method: 'GET', url, headers: [], body: new Uint8Array(), client_ip: null },
    });
  });
  const hello = await bench(await bytes('hello'), 'http://localhost/', 50);
  const jsHello = await bench(await bytes('js-hello'), 'http://localhost/', 10);
  const cpuBytes = await bytes('cpu');
  const cpu = await bench(cpuBytes, `http://localhost/?n=${cpuN}`, 5);
  // The same requests on the browser's own engine, its imports bridged to host-core (JSPI).
  const jsHelloBrowser = await bench(await bytes('js-hello'), 'http://localhost/', 10, 'browser');
  const cpuBrowser = await bench(cpuBytes, `http://localhost/?n=${cpuN}`, 5, 'browser');

  // The limit we measure ourselves against: the same loop on the page's own engine. The
  // guest's imports are never called by `bench`, so stand-ins that trap are enough.
  const module = await WebAssembly.compile(cpuBytes);
  const imports = {};
  for (const { module: m, name } of WebAssembly.Module.imports(module)) {
    (imports[m] ??= {})[name] = () => { throw new Error(`${m}.${name} is not available here`); };
  }
  const { exports } = await WebAssembly.instantiate(module, imports);
  const times = [];
  let count = 0;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    count = exports.bench(cpuN);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  worker.terminate();
  return { hello, jsHello, cpu, jsHelloBrowser, cpuBrowser, engineMs: times[2], engineCount: count };
}

/** The same loop on Node's V8, natively: the reference for the native wasmi figure. */
async function nodeEngineMs() {
  const module = await WebAssembly.compile(await readFile(fileURLToPath(new URL('../dist/examples/cpu.wasm', import.meta.url))));
  const imports = {};
  for (const { module: m, name } of WebAssembly.Module.imports(module)) (imports[m] ??= {})[name] = () => 0;
  const { exports } = await WebAssembly.instantiate(module, imports);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    exports.bench(CPU_N);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2];
}

const site = await serveSite();
const browser = await openBrowser();
try {
  const page = await browser.newPage();
  await page.goto(site.url);
  const r = await page.evaluate(inPage, { cpuN: CPU_N });
  const v8 = await nodeEngineMs();
  const f = (ms) => `${ms.toFixed(ms < 1 ? 3 : 1).padStart(9)} ms`;
  console.log('');
  console.log('                                   native       browser   browser/native');
  console.log(`hello: bytes -> first response  ${f(native.hello.first_ms)} ${f(r.hello.first_ms)} ${(r.hello.first_ms / native.hello.first_ms).toFixed(1).padStart(10)}x`);
  console.log(`hello: warm request             ${f(native.hello.warm_ms)} ${f(r.hello.warm_ms)} ${(r.hello.warm_ms / native.hello.warm_ms).toFixed(1).padStart(10)}x`);
  console.log(`  (compile in the page: ${r.hello.compile_ms.toFixed(1)} ms)`);
  const js = native['js-hello'];
  console.log(`js-hello (11 MB, @fastly/js-compute):`);
  console.log(`  bytes -> first response      ${f(js.first_ms)} ${f(r.jsHello.first_ms)} ${(r.jsHello.first_ms / js.first_ms).toFixed(1).padStart(10)}x`);
  console.log(`  warm request                 ${f(js.warm_ms)} ${f(r.jsHello.warm_ms)} ${(r.jsHello.warm_ms / js.warm_ms).toFixed(1).padStart(10)}x`);
  console.log(`  (compile in the page: ${r.jsHello.compile_ms.toFixed(1)} ms)`);
  const jb = r.jsHelloBrowser;
  console.log(`  browser's engine (JSPI): first ${f(jb.first_ms)}, warm ${f(jb.warm_ms)} (compile, wasmi's check included: ${jb.compile_ms.toFixed(1)} ms)`);
  console.log('');
  console.log(`cpu.wasm, primes below ${CPU_N} (${r.engineCount}):`);
  console.log(`  wasmi, native (request)        ${f(native.cpu.wasmi_ms)}`);
  console.log(`  V8, native (node, bench())     ${f(v8)}   wasmi/V8 natively: ${(native.cpu.wasmi_ms / v8).toFixed(1)}x`);
  console.log(`  wasmi in the page (request)    ${f(r.cpu.warm_ms)}`);
  console.log(`  the page's own engine (bench())${f(r.engineMs)}   wasmi/engine in the page: ${(r.cpu.warm_ms / r.engineMs).toFixed(1)}x`);
  console.log(`  browser's engine (request, JSPI)${f(r.cpuBrowser.warm_ms)}   wasmi/bridged engine: ${(r.cpu.warm_ms / r.cpuBrowser.warm_ms).toFixed(1)}x`);
} finally {
  await browser.close();
  site.close();
}
