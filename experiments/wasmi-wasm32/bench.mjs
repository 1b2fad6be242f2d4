// node bench.mjs <experiment.wasm> <guest.wasm> <n> <runs>: wasmi-in-wasm on V8 versus V8 running the
// guest directly. Prints one JSON line with the median times.
import { readFile } from 'node:fs/promises';

const [experimentPath, guestPath, nText, runsText] = process.argv.slice(2);
const n = Number(nText), runs = Number(runsText);

function median(f) {
  const times = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    result = f();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { result, ms: Number(times[Math.floor(runs / 2)].toFixed(1)) };
}

const guest = await readFile(guestPath);
const out = {};
if (experimentPath !== '-') {
  const { instance } = await WebAssembly.instantiate(await readFile(experimentPath), {});
  const wasmi = instance.exports;
  const ptr = wasmi.alloc(guest.length);
  new Uint8Array(wasmi.memory.buffer, ptr, guest.length).set(guest);
  if (wasmi.load(ptr, guest.length) !== 0) throw new Error('load failed');
  try {
    const { result, ms } = median(() => wasmi.bench(n));
    out.wasmi = { count: Number(result), ms };
  } catch (e) {
    out.wasmi = { error: String(e) };
  }
}
const module = await WebAssembly.compile(guest);
const imports = {};
for (const { module: m, name } of WebAssembly.Module.imports(module)) {
  (imports[m] ??= {})[name] = () => { throw new Error(`${m}.${name}`); };
}
const direct = (await WebAssembly.instantiate(module, imports)).exports;
const { result, ms } = median(() => direct.bench(n));
out.v8 = { count: result, ms };
console.log(JSON.stringify(out));
