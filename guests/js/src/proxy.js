/// <reference types="@fastly/js-compute" />
// js-proxy: the readthrough-cache proxy, the twin of the Rust `caching-proxy` example.
//
// Contract — any request:
//   the request goes to backend `httpme` with the same method, URL, headers and body, plus
//   the header `x-edgeplay: 1`, and a cache TTL override of 30 seconds.
//   On a backend response: the backend's status, headers and body, except that
//     `cache-control` is replaced by `public, max-age=60`.
//   When the fetch fails: status 502, content-type: text/plain; charset=utf-8,
//     body "backend request failed: <error>\n".
import { CacheOverride } from "fastly:cache-override";

const BACKEND = "httpme";

addEventListener("fetch", (event) => event.respondWith(handle(event.request)));

async function handle(request) {
  const headers = new Headers(request.headers);
  headers.set("x-edgeplay", "1");
  const hasBody = request.method !== "GET" && request.method !== "HEAD";

  let response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      backend: BACKEND,
      // Cache whatever the origin sends for 30 s, whatever its own Cache-Control says.
      cacheOverride: new CacheOverride("override", { ttl: 30 }),
    });
  } catch (error) {
    return new Response(`backend request failed: ${error}\n`, {
      status: 502,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  // What browsers and downstream caches are told is independent of the edge TTL.
  response.headers.set("cache-control", "public, max-age=60");
  return response;
}
