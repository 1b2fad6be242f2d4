//! core-cache: a value that is slow to compute, cached under a key with the core cache API
//! (`fastly::cache::core`), and the same with the simple API (`fastly::cache::simple`).
//!
//! Contract:
//!   GET /value?key=K&ttl=S  (K defaults to `greeting`, S to 30 seconds)
//!     A cache transaction on key `value:K`. When the object is missing (or expired) this
//!     request must insert it: it asks backend `compute` for `GET /compute?key=K`, and stores
//!     the response body for S seconds with user metadata "computed for K" and surrogate key
//!     `values`. Concurrent requests for the same key wait for that insert and get its value.
//!     status 200, content-type: application/json, body: pretty JSON and "\n":
//!       {"key": K, "value": the cached (or just computed) value,
//!        "source": "cache" when found, "computed" when this request inserted it,
//!        "stale": bool, "hits": hits of the object, "age_s": its age,
//!        "max_age_s": its TTL, "remaining_ttl_s": max_age_s - age_s,
//!        "user_metadata": the metadata as text}
//!     status 502 with a text body when the backend fails (nothing is stored).
//!   GET /simple?key=K
//!     `simple::get_or_set_with` on key `simple:K` with a 60 s TTL and the value
//!     "simple value for K"; status 200, text/plain, the value.
//!   anything else: 404.

use std::io::Write;
use std::time::Duration;

use fastly::cache::core::{Found, Transaction};
use fastly::cache::simple::{self, CacheEntry};
use fastly::http::StatusCode;
use fastly::{Error, Request, Response};
use serde_json::json;

const BACKEND: &str = "compute";

#[fastly::main]
fn main(req: Request) -> Result<Response, Error> {
    let key = req.get_query_parameter("key").filter(|k| !k.is_empty()).unwrap_or("greeting").to_string();
    match req.get_path() {
        "/value" => {
            let ttl = req.get_query_parameter("ttl").and_then(|t| t.parse().ok()).unwrap_or(30);
            value(&key, ttl)
        }
        "/simple" => {
            let body = simple::get_or_set_with(format!("simple:{key}"), || {
                Ok(CacheEntry { value: format!("simple value for {key}").into(), ttl: Duration::from_secs(60) })
            })?
            .expect("get_or_set_with always has a value");
            Ok(Response::from_body(body).with_content_type(fastly::mime::TEXT_PLAIN_UTF_8))
        }
        _ => Ok(Response::from_status(StatusCode::NOT_FOUND)),
    }
}

fn value(key: &str, ttl: u64) -> Result<Response, Error> {
    let transaction = Transaction::lookup(format!("value:{key}").into()).execute()?;
    if let Some(found) = transaction.found().filter(|_| !transaction.must_insert()) {
        let value = found.to_stream()?.into_string();
        return Ok(report(key, &value, "cache", &found));
    }
    // This request must insert the value; others asking for it meanwhile wait for it.
    // A pass: the computed value is cached by this guest, not the HTTP response carrying it.
    let computed = match Request::get(format!("http://compute.example/compute?key={key}")).with_pass(true).send(BACKEND) {
        Ok(resp) if resp.get_status().is_success() => resp.into_body_str(),
        Ok(resp) => return Ok(bad_gateway(&format!("the backend answered {}", resp.get_status()))),
        Err(e) => return Ok(bad_gateway(&e.to_string())),
    };
    let (mut writer, found) = transaction
        .insert(Duration::from_secs(ttl))
        .user_metadata(format!("computed for {key}").into())
        .surrogate_keys(["values"])
        .execute_and_stream_back()?;
    writer.write_all(computed.as_bytes())?;
    writer.finish()?;
    Ok(report(key, &computed, "computed", &found))
}

fn report(key: &str, value: &str, source: &str, found: &Found) -> Response {
    let body = json!({
        "key": key,
        "value": value,
        "source": source,
        "stale": found.is_stale(),
        "hits": found.hits(),
        "age_s": found.age().as_secs(),
        "max_age_s": found.max_age().as_secs(),
        "remaining_ttl_s": found.remaining_ttl().as_secs(),
        "user_metadata": String::from_utf8_lossy(&found.user_metadata()),
    });
    Response::from_body(serde_json::to_string_pretty(&body).unwrap() + "\n").with_content_type(fastly::mime::APPLICATION_JSON)
}

fn bad_gateway(why: &str) -> Response {
    Response::from_status(StatusCode::BAD_GATEWAY).with_body_text_plain(&format!("could not compute the value: {why}\n"))
}
