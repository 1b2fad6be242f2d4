//! caching-proxy: the classic edge proxy — forward to an origin, cache, adjust headers.
//! It is the readthrough-cache tutorial: the edge keeps the origin's answer for 30 s whatever
//! the origin says, except that it never keeps a private one.
//!
//! Contract:
//!   `POST /purge/<surrogate-key>` (`?soft=1` for a soft purge) purges the cache by surrogate
//!   key and answers 200, text/plain, "purged <key>\n".
//!   Any other request goes to backend `httpme` with the same method, URL, headers and body,
//!   plus the header `x-edgeplay: 1`, a cache TTL override of 30 seconds and the surrogate key
//!   `edgeplay` (besides whatever `Surrogate-Key` the origin sends).
//!   On a backend response: the backend's status, headers and body, except that
//!     `cache-control` is replaced by `public, max-age=60` (for browsers; the edge TTL is
//!     separate).
//!   When the send fails: status 502, content-type: text/plain; charset=utf-8,
//!     body "backend request failed: <error>\n", where <error> is the SDK's SendError text
//!     ("error sending request: <cause> to backend httpme").

use fastly::http::header::CACHE_CONTROL;
use fastly::http::{purge, Method};
use fastly::{Error, Request, Response};

const BACKEND: &str = "httpme";

#[fastly::main]
fn main(mut req: Request) -> Result<Response, Error> {
    if req.get_method() == Method::POST {
        if let Some(key) = req.get_path().strip_prefix("/purge/") {
            let soft = req.get_query_str().is_some_and(|q| q.contains("soft=1"));
            let result = if soft { purge::soft_purge_surrogate_key(key) } else { purge::purge_surrogate_key(key) };
            return Ok(match result {
                Ok(()) => Response::from_body(format!("purged {key}\n")),
                Err(e) => Response::from_status(500).with_body_text_plain(&format!("purge failed: {e}\n")),
            });
        }
    }

    req.set_header("x-edgeplay", "1");
    // Cache whatever the origin sends for 30 s, whatever its own Cache-Control says.
    req.set_ttl(30);
    req.set_surrogate_key("edgeplay".parse()?);

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
