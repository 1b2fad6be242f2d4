//! A `BridgeSession` (the page's path for the browser's own engine) answers as `Session` does:
//! here wasmi stands in for the browser's engine, calling the imports the bridge plans.
mod support;

use host_core::DownstreamRequest;
use support::{no_network, Guest, Host};

fn both(guest: Guest, request: impl Fn() -> DownstreamRequest) -> (host_core::Outcome, host_core::Outcome) {
    let host = Host::new(guest, &guest.example_config());
    (host.request(request(), no_network), host.request_bridged(request()))
}

#[test]
fn hello_answers_the_same_through_the_bridge() {
    let (wasmi, bridged) = both(Guest::Hello, || DownstreamRequest::get("http://localhost/"));
    assert_eq!(bridged.error, None);
    assert_eq!(bridged.response.status, wasmi.response.status);
    assert_eq!(String::from_utf8_lossy(&bridged.body), "Hello from Edgeplay!\n");
    assert_eq!(bridged.response.headers, wasmi.response.headers);
    assert_eq!(bridged.trace.hostcalls, wasmi.trace.hostcalls, "the same hostcalls, each as often");
    assert_eq!(bridged.stats.fuel, 0, "no fuel is counted outside wasmi");
}

#[test]
fn a_post_with_a_body_and_headers_is_echoed_the_same() {
    let request = || {
        let mut request = DownstreamRequest::get("http://localhost/echo?name=edgeplay");
        request.method = "POST".into();
        request.headers.push(("x-demo".into(), b"bridged".to_vec()));
        request.body = b"{\"sent\": true}".to_vec();
        request
    };
    let (wasmi, bridged) = both(Guest::Inspector, request);
    assert_eq!(bridged.error, None);
    let body = String::from_utf8_lossy(&bridged.body);
    assert!(body.contains(r#"["x-demo", "bridged"]"#), "{body}");
    assert!(body.contains(r#""body": "{\"sent\": true}""#), "{body}");
    // The trace id is random per request; the rest of the echo is the same.
    let without_trace_id = |body: &[u8]| {
        String::from_utf8_lossy(body).lines().filter(|l| !l.contains("FASTLY_TRACE_ID")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(without_trace_id(&bridged.body), without_trace_id(&wasmi.body));
}

#[test]
fn a_panic_is_named_the_same_through_the_bridge() {
    let (wasmi, bridged) = both(Guest::Panic, || DownstreamRequest::get("http://localhost/"));
    let (wasmi, bridged) = (wasmi.error.expect("fails"), bridged.error.expect("fails"));
    assert_eq!(bridged.kind, wasmi.kind);
    assert_eq!(bridged.message, wasmi.message);
}

#[test]
fn the_javascript_sdk_runs_through_the_bridge() {
    let (wasmi, bridged) = both(Guest::JsHello, || DownstreamRequest::get("http://localhost/"));
    assert_eq!(bridged.error, None);
    assert_eq!(String::from_utf8_lossy(&bridged.body), String::from_utf8_lossy(&wasmi.body));
    assert!(String::from_utf8_lossy(&bridged.body).contains("Hello from Edgeplay, in JavaScript!"));
    assert_eq!(bridged.trace.hostcalls, wasmi.trace.hostcalls);
}
