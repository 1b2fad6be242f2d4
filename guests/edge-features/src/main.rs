//! edge-features: what the edge knows about a request, and Edge Rate Limiting.
//!
//! The guest serves requests with `fastly::http::serve::Serve`, so one instance answers every
//! request the host hands it (a reusable sandbox); each answer says how many this instance
//! has served.
//!
//! Contract:
//!   GET /erl — one weighted hit on the Edge Rate Limiter for the client IP: each request
//!     weighs 30 against a limit of 10 per second over a 10 s window (rate counter `hits`,
//!     penalty box `offenders`, 1 minute penalty). Within 10 s the first three pass (rate 3,
//!     6, 9) and the fourth goes over (12): status 429 from then on, until the penalty ends.
//!     Body (JSON): { "blocked", "in_penalty_box", "count_10s", "rate_10s", "served_by_this_instance" }
//!   any other path — status 200, body (JSON): the client facts below.
//!     "served_by_this_instance"  1 for the first request of this instance, 2 for the next…
//!     "request_id"               the client request's id
//!     "vcpu_ms", "heap_mib"      the instance's vCPU time so far and heap size
//!     "client_ip", "server_ip", "compliance_region"
//!     "original_header_names"    as the client sent them (case and order); "original_header_count"
//!     "fastly_key_valid"         whether the `Fastly-Key` header holds a key valid for the service
//!     "ddos_detected"
//!     "tls"                      null over plain HTTP, else { protocol, cipher, servername,
//!                                ja3_md5 (hex), ja4, client_cert (PEM or null), cert_verify_result }
//!     "bot"                      null unless bot detection ran, else { detected, name, category, kind, verified }

use std::time::Duration;

use fastly::compute_runtime;
use fastly::erl::{Penaltybox, RateCounter, RateWindow, CounterDuration, ERL};
use fastly::http::serve::Serve;
use fastly::http::StatusCode;
use fastly::{Error, Request, Response};
use serde_json::{json, Value};

const WEIGHT: u32 = 30;
const LIMIT_PER_SECOND: u32 = 10;
const PENALTY: Duration = Duration::from_secs(60);

fn main() -> Result<(), Error> {
    let mut served = 0u32;
    Serve::new().run_with_context(handle, &mut served).into_result()
}

fn handle(req: Request, served: &mut u32) -> Result<Response, Error> {
    *served += 1;
    let body = match req.get_path() {
        "/erl" => return rate_limit(&req, *served),
        _ => client_facts(&req, *served),
    };
    Ok(Response::from_status(StatusCode::OK).with_body_json(&body)?)
}

fn rate_limit(req: &Request, served: u32) -> Result<Response, Error> {
    let entry = req.get_client_ip_addr().map(|ip| ip.to_string()).unwrap_or_default();
    let limiter = ERL::open(RateCounter::open("hits"), Penaltybox::open("offenders"));
    let blocked = limiter.check_rate(&entry, WEIGHT, RateWindow::TenSecs, LIMIT_PER_SECOND, PENALTY)?;
    let counter = RateCounter::open("hits");
    let body = json!({
        "blocked": blocked,
        "in_penalty_box": Penaltybox::open("offenders").has(&entry)?,
        "count_10s": counter.lookup_count(&entry, CounterDuration::TenSec)?,
        "rate_10s": counter.lookup_rate(&entry, RateWindow::TenSecs)?,
        "served_by_this_instance": served,
    });
    let status = if blocked { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::OK };
    Ok(Response::from_status(status).with_body_json(&body)?)
}

fn client_facts(req: &Request, served: u32) -> Value {
    let tls = req.get_tls_protocol().ok().flatten().map(|protocol| {
        json!({
            "protocol": protocol,
            "cipher": req.get_tls_cipher_openssl_name().ok().flatten(),
            "servername": req.get_tls_client_servername(),
            "ja3_md5": req.get_tls_ja3_md5().map(|md5| md5.iter().map(|b| format!("{b:02x}")).collect::<String>()),
            "ja4": req.get_tls_ja4(),
            "client_cert": req.get_tls_raw_client_certificate().ok().flatten(),
            "cert_verify_result": req.get_tls_client_cert_verify_result().map(|r| format!("{r:?}")),
        })
    });
    let bot = req.get_bot_analyzed().then(|| {
        json!({
            "detected": req.get_bot_detected(),
            "name": req.get_bot_name().ok().flatten(),
            "category": req.get_bot_category().ok().flatten(),
            "kind": req.get_bot_category_kind().map(|kind| kind.to_string()),
            "verified": req.get_bot_verified(),
        })
    });
    json!({
        "served_by_this_instance": served,
        "request_id": req.get_client_request_id(),
        "vcpu_ms": compute_runtime::elapsed_vcpu_ms().ok(),
        "heap_mib": compute_runtime::heap_memory_snapshot_mib().ok(),
        "client_ip": req.get_client_ip_addr().map(|ip| ip.to_string()),
        "server_ip": req.get_server_ip_addr().map(|ip| ip.to_string()),
        "compliance_region": req.get_compliance_region().map(|region| format!("{region:?}")),
        "original_header_names": req.get_original_header_names().ok().flatten(),
        "original_header_count": req.get_original_header_count(),
        "fastly_key_valid": req.fastly_key_is_valid(),
        "ddos_detected": req.get_client_ddos_detected(),
        "tls": tls,
        "bot": bot,
    })
}
