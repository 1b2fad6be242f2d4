//! caching-proxy: the classic edge proxy — forward to an origin, cache, adjust headers.
//!
//! Contract — any request:
//!   the request goes to backend `httpme` with the same method, URL, headers and body, plus
//!   the header `x-edgeplay: 1`, and a cache TTL override of 30 seconds.
//!   On a backend response: the backend's status, headers and body, except that
//!     `cache-control` is replaced by `public, max-age=60`.
//!   When the send fails: status 502, content-type: text/plain; charset=utf-8,
//!     body "backend request failed: <error>\n", where <error> is the SDK's SendError text
//!     ("error sending request: <cause> to backend httpme").

use fastly::http::header::CACHE_CONTROL;
use fastly::{Error, Request, Response};

const BACKEND: &str = "httpme";

#[fastly::main]
fn main(mut req: Request) -> Result<Response, Error> {
    req.set_header("x-edgeplay", "1");
    // Cache whatever the origin sends for 30 s, whatever its own Cache-Control says.
    req.set_ttl(30);

    match req.send(BACKEND) {
        Ok(mut resp) => {
            // What browsers and downstream caches are told is independent of the edge TTL.
            resp.set_header(CACHE_CONTROL, "public, max-age=60");
            Ok(resp)
        }
        Err(err) => Ok(Response::from_status(502)
            .with_body_text_plain(&format!("backend request failed: {err}\n"))),
    }
}
