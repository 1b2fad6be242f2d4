//! fanout: calls three backends at once and collects the answers as they arrive.
//!
//! Contract — any request:
//!   sends `GET <the request's URL>` to backends `a`, `b` and `c` without waiting between them,
//!   then waits for whichever finishes next until all three are done.
//!   status 200
//!   content-type: application/json
//!   body: pretty-printed JSON (2-space indent) followed by "\n":
//!     {"order": [backend names, in the order their outcome became known],
//!      "bodies": {name: response body as text, or {"error": "<SendError text>"}}}
//!   "bodies" keys are sorted; every backend appears once in each field. A send that fails at
//!   once is known before any that are in flight, so it comes first in "order".
//!   With the example config (a: 300 ms, b: 100 ms, c: 200 ms) the body is
//!     {"order": ["b", "c", "a"], "bodies": {"a": "alpha", "b": "bravo", "c": "charlie"}}
//!   and the whole run takes about 300 ms, not 600.

use std::collections::BTreeMap;

use fastly::http::request::{select, PendingRequest};
use fastly::{Error, Request, Response};
use serde::Serialize;
use serde_json::{json, Value};

const BACKENDS: [&str; 3] = ["a", "b", "c"];

#[derive(Serialize, Default)]
struct Report {
    order: Vec<String>,
    bodies: BTreeMap<String, Value>,
}

impl Report {
    fn record(&mut self, backend: &str, outcome: Value) {
        self.order.push(backend.to_owned());
        self.bodies.insert(backend.to_owned(), outcome);
    }
}

#[fastly::main]
fn main(req: Request) -> Result<Response, Error> {
    let mut report = Report::default();

    let mut pending: Vec<PendingRequest> = Vec::new();
    for backend in BACKENDS {
        match Request::get(req.get_url_str()).send_async(backend) {
            Ok(p) => pending.push(p),
            Err(err) => report.record(backend, json!({ "error": err.to_string() })),
        }
    }

    // `select` panics on an empty list, hence the loop condition.
    while !pending.is_empty() {
        let (outcome, rest) = select(pending);
        pending = rest;
        match outcome {
            // A response does not say which request it answers; its backend does.
            Ok(resp) => {
                let backend = resp.get_backend_name().unwrap_or("?").to_owned();
                report.record(&backend, Value::String(resp.into_body_str_lossy()));
            }
            Err(err) => {
                let backend = err.backend_name().to_owned();
                report.record(&backend, json!({ "error": err.to_string() }));
            }
        }
    }

    let mut body = serde_json::to_string_pretty(&report)?;
    body.push('\n');
    Ok(Response::from_status(200)
        .with_content_type(fastly::mime::APPLICATION_JSON)
        .with_body(body))
}
