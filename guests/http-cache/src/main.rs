//! http-cache: guest-side HTTP caching (`fastly::http` cache hooks). The SDK looks the request
//! up in the HTTP cache; on a miss it sends it to the origin and lets these hooks decide how
//! the response is cached.
//!
//! Contract — GET or HEAD (other methods go to the origin uncached):
//!   the request goes to backend `origin` only when the cache has no fresh copy. Then:
//!   before_send: the backend request carries `x-edgeplay-fetch: miss`.
//!   after_send, by the request path:
//!     /no-store/… : the response is not cached;           `x-edgeplay-ttl: none`
//!     /short/…    : cached for 5 s;                       `x-edgeplay-ttl: 5`
//!     otherwise   : cached for 60 s with surrogate keys `page` and `section-<first path
//!                   segment>` (`section-root` for `/`);    `x-edgeplay-ttl: 60`
//!     (`Cache-Control: private` from the origin is still never cached: the hook only sets
//!     TTLs for responses the rules allow.)
//!   The response is the origin's (or the cached copy), with the SDK's `X-Cache` (HIT/MISS)
//!   and `X-Cache-Hits` headers. When the send fails: 502, text/plain, the error.

use std::time::Duration;

use fastly::http::StatusCode;
use fastly::{Error, Request, Response};

const BACKEND: &str = "origin";

#[fastly::main]
fn main(mut req: Request) -> Result<Response, Error> {
    let path = req.get_path().to_string();
    req.set_before_send(|backend_req| {
        backend_req.set_header("x-edgeplay-fetch", "miss");
        Ok(())
    });
    req.set_after_send(move |resp| {
        if path.starts_with("/no-store/") {
            resp.set_uncacheable(false);
            resp.set_header("x-edgeplay-ttl", "none");
        } else if path.starts_with("/short/") {
            resp.set_ttl(Duration::from_secs(5));
            resp.set_header("x-edgeplay-ttl", "5");
        } else {
            resp.set_ttl(Duration::from_secs(60));
            let section = path.trim_start_matches('/').split('/').next().filter(|s| !s.is_empty()).unwrap_or("root");
            let section = format!("section-{section}");
            resp.set_surrogate_keys(["page", section.as_str()]);
            resp.set_header("x-edgeplay-ttl", "60");
        }
        Ok(())
    });
    match req.send(BACKEND) {
        Ok(resp) => Ok(resp),
        Err(e) => Ok(Response::from_status(StatusCode::BAD_GATEWAY).with_body_text_plain(&format!("backend request failed: {e}\n"))),
    }
}
