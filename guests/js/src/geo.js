/// <reference types="@fastly/js-compute" />
// js-geo: where the client is, from Fastly's geolocation data.
//
// Contract — any request:
//   looks up the client's IP address and answers status 200, content-type: application/json,
//   body {"ip":"<client ip>","geo":<the record>} and a newline. Production answers every
//   address; the fields it knows nothing about read "?", 0 or 9999.
//   When the lookup fails: status 500, content-type: text/plain; charset=utf-8,
//     body "geolocation failed: <error>\n".
import { getGeolocationForIpAddress } from "fastly:geolocation";

addEventListener("fetch", (event) => event.respondWith(handle(event)));

function handle(event) {
  const ip = event.client.address;
  try {
    const geo = getGeolocationForIpAddress(ip);
    return new Response(JSON.stringify({ ip, geo }) + "\n", {
      headers: { "content-type": "application/json" },
    });
  } catch (error) {
    return new Response(`geolocation failed: ${error}\n`, {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}
