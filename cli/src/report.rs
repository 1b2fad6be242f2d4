//! What a request produced, as people read it and as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use host_core::http::ResponseHead;
use host_core::trace::{BackendCall, CacheOutcome, EventKind};
use host_core::Outcome;
use serde_json::{json, Value};

/// `HTTP/1.1 200 OK`.
pub fn status_line(status: u16) -> String {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("HTTP/1.1 {status} {reason}").trim_end().to_string()
}

/// The head as `curl -i` prints it, ending with the blank line.
pub fn head_text(head: &ResponseHead) -> Vec<u8> {
    let mut out = format!("{}\r\n", status_line(head.status)).into_bytes();
    for (name, value) in head.headers.iter() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Everything besides the response, for a person: guest output, logs, the error, the
/// backend requests and a one-line summary. Empty sections are left out.
pub fn diagnostics(outcome: &Outcome) -> String {
    let mut out = String::new();
    section(
        &mut out,
        "guest stdout",
        &String::from_utf8_lossy(&outcome.stdout),
    );
    section(
        &mut out,
        "guest stderr",
        &String::from_utf8_lossy(&outcome.stderr),
    );
    for (endpoint, lines) in &outcome.logs {
        let text: String = lines.iter().map(|l| format!("{}\n", l.text)).collect();
        section(&mut out, &format!("log endpoint {endpoint}"), &text);
    }
    if let Some(error) = &outcome.error {
        section(
            &mut out,
            &format!("guest error: {}", error.kind.as_str()),
            &error.message,
        );
    }
    let cache: String = cache_lines(outcome).iter().map(|l| format!("{l}\n")).collect();
    section(&mut out, "cache", &cache);
    let kv: String = kv_lines(outcome).iter().map(|l| format!("{l}\n")).collect();
    section(&mut out, "kv stores", &kv);
    let calls = outcome.trace.backend_calls();
    if !calls.is_empty() {
        let text: String = calls
            .iter()
            .map(|c| format!("{}\n", call_line(c)))
            .collect();
        section(&mut out, "backend requests", &text);
    }
    let _ = writeln!(out, "== {}", summary(outcome));
    out
}

fn section(out: &mut String, title: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let _ = writeln!(out, "== {title}");
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
}

/// `httpme  GET http://127.0.0.1:8080/ -> 200  12.3 ms`.
pub fn call_line(call: &BackendCall) -> String {
    let result = match (&call.status, &call.error) {
        (_, Some(error)) => format!("failed: {error}"),
        (Some(status), None) => status.to_string(),
        (None, None) => "no answer".to_string(),
    };
    let time = call
        .ms
        .map(|ms| format!("  {ms:.1} ms"))
        .unwrap_or_default();
    let mock = if call.mock { " (mock)" } else { "" };
    format!(
        "{}{mock}  {} {} -> {result}{time}",
        call.backend, call.method, call.url
    )
}

/// One line per readthrough cache decision:
/// `HIT  example.com/page  age 4 s, 26 s left, hit 2`.
pub fn cache_lines(outcome: &Outcome) -> Vec<String> {
    outcome
        .trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Cache { outcome, key, age_s, ttl_left_s, hits, note, .. } => {
                let mut facts = Vec::new();
                match outcome {
                    CacheOutcome::Hit | CacheOutcome::Stale => {
                        facts.push(format!("age {age_s} s"));
                        facts.push(if *ttl_left_s >= 0 { format!("{ttl_left_s} s left") } else { format!("expired {} s ago", -ttl_left_s) });
                        facts.push(format!("hit {hits}"));
                    }
                    CacheOutcome::Stored => facts.push(format!("TTL {ttl_left_s} s")),
                    _ => {}
                }
                if !note.is_empty() {
                    facts.push(note.clone());
                }
                Some(format!("{:<10} {key}  {}", outcome.as_str(), facts.join(", ")))
            }
            EventKind::Purge { surrogate_key, soft, purged } => {
                let kind = if *soft { "SOFT PURGE" } else { "PURGE" };
                Some(format!("{kind:<10} surrogate key {surrogate_key}  {purged} object(s)"))
            }
            _ => None,
        })
        .collect()
}

/// One line per KV store operation: `insert  counters/hits  stored`.
pub fn kv_lines(outcome: &Outcome) -> Vec<String> {
    outcome
        .trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Kv { op, store, key, outcome } => Some(format!("{op:<7} {store}/{key}  {outcome}")),
            _ => None,
        })
        .collect()
}

/// `wall 12.3 ms, CPU 4.5 ms, fuel 1234567, peak heap 1.1 MiB, 42 hostcalls`.
pub fn summary(outcome: &Outcome) -> String {
    let s = &outcome.stats;
    format!(
        "wall {:.1} ms, CPU {:.1} ms, fuel {}, peak heap {:.1} MiB, {} hostcalls",
        s.wall_ms,
        s.cpu_ms,
        s.fuel,
        s.peak_heap_bytes as f64 / (1 << 20) as f64,
        s.hostcalls
    )
}

/// The `run --json` object.
pub fn to_json(outcome: &Outcome) -> Value {
    let headers: Vec<Value> = outcome
        .response
        .headers
        .iter()
        .map(|(name, value)| json!([name, String::from_utf8_lossy(value)]))
        .collect();
    let logs: BTreeMap<&str, Vec<&str>> = outcome
        .logs
        .iter()
        .map(|(endpoint, lines)| {
            (
                endpoint.as_str(),
                lines.iter().map(|l| l.text.as_str()).collect(),
            )
        })
        .collect();
    let trace: Vec<Value> = outcome.trace.backend_calls()
        .iter()
        .map(|c| {
            json!({
                "backend": c.backend, "method": c.method, "url": c.url, "mock": c.mock,
                "start_ms": round_ms(c.start_ms), "status": c.status, "error": c.error,
                "body_bytes": c.body_bytes, "ms": c.ms.map(round_ms),
            })
        })
        .collect();
    let s = &outcome.stats;
    let mut object = json!({
        "status": outcome.response.status,
        "headers": headers,
        "stdout": String::from_utf8_lossy(&outcome.stdout),
        "stderr": String::from_utf8_lossy(&outcome.stderr),
        "logs": logs,
        "error": outcome.error.as_ref().map(|e| json!({ "kind": e.kind.as_str(), "message": e.message })),
        "stats": {
            "wall_ms": round_ms(s.wall_ms), "cpu_ms": round_ms(s.cpu_ms), "fuel": s.fuel,
            "peak_heap_bytes": s.peak_heap_bytes, "hostcalls": s.hostcalls,
        },
        "trace": trace,
        "cache": cache_json(outcome),
    });
    match std::str::from_utf8(&outcome.body) {
        Ok(text) => object["body"] = json!(text),
        Err(_) => {
            object["body_base64"] =
                json!(base64::engine::general_purpose::STANDARD.encode(&outcome.body))
        }
    }
    object
}

/// The readthrough cache's decisions for `run --json`.
fn cache_json(outcome: &Outcome) -> Vec<Value> {
    outcome
        .trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Cache { outcome, key, age_s, ttl_left_s, hits, note, .. } => Some(json!({
                "outcome": outcome.as_str(), "key": key, "age_s": age_s, "ttl_left_s": ttl_left_s,
                "hits": hits, "note": note,
            })),
            _ => None,
        })
        .collect()
}

/// Milliseconds to the microsecond: the clocks are no finer, and the JSON stays readable.
fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}
