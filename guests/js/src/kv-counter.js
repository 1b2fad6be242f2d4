/// <reference types="@fastly/js-compute" />
// js-kv-counter: a visit counter kept in a KV store.
//
// Contract — any request:
//   reads key `hits` of KV store `counters` (a missing key counts as 0), adds one, writes the
//   new count back, and answers status 200, content-type: application/json,
//   body {"key":"hits","count":<new count>} and a newline.
//   When the store cannot be used: status 500, content-type: text/plain; charset=utf-8,
//     body "kv store failed: <error>\n".
import { KVStore } from "fastly:kv-store";

const STORE = "counters";
const KEY = "hits";

addEventListener("fetch", (event) => event.respondWith(handle()));

async function handle() {
  try {
    const store = new KVStore(STORE);
    const entry = await store.get(KEY);
    const previous = entry === null ? 0 : Number.parseInt(await entry.text(), 10) || 0;
    const count = previous + 1;
    await store.put(KEY, String(count));
    return new Response(JSON.stringify({ key: KEY, count }) + "\n", {
      headers: { "content-type": "application/json" },
    });
  } catch (error) {
    return new Response(`kv store failed: ${error}\n`, {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}
