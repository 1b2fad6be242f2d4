/// <reference types="@fastly/js-compute" />
// js-hello: the smallest JavaScript guest, the twin of the Rust `hello` example.
//
// Contract — any method, any URL, any body:
//   status 200
//   content-type: text/plain; charset=utf-8
//   body "Hello from Edgeplay, in JavaScript!\n"

addEventListener("fetch", (event) => event.respondWith(handle(event.request)));

function handle(_request) {
  return new Response("Hello from Edgeplay, in JavaScript!\n", {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
