//! The readthrough-cache tutorial, through the caching-proxy example guest: it sets a TTL
//! override of 30 s and sends to backend `httpme`. Requests share one host's stores, as
//! requests to one service share the edge's cache.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use host_core::native::Backends;
use host_core::trace::{CacheOutcome, EventKind};
use host_core::{BackendRequest, BackendResponse, DownstreamRequest, FetchError, Outcome};
use support::{header, Guest, Host};

const CONFIG: &str = r#"{ "backends": { "httpme": { "url": "http://origin.test" } } }"#;

/// An origin that counts the requests it gets and answers with `cache_control` (and, under
/// `/products/`, `surrogate_key`), numbering its answers.
#[derive(Clone)]
struct CountingOrigin {
    calls: Arc<AtomicUsize>,
    cache_control: &'static str,
    surrogate_key: &'static str,
}

impl CountingOrigin {
    fn new(cache_control: &'static str) -> CountingOrigin {
        CountingOrigin { calls: Arc::new(AtomicUsize::new(0)), cache_control, surrogate_key: "" }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Backends for CountingOrigin {
    fn fetch(&self, request: BackendRequest) -> Result<BackendResponse, FetchError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let mut headers = vec![("content-type".to_string(), b"text/plain".to_vec())];
        let surrogate_key = if request.url.contains("/products/") { self.surrogate_key } else { "" };
        for (name, value) in [("cache-control", self.cache_control), ("surrogate-key", surrogate_key)] {
            if !value.is_empty() {
                headers.push((name.to_string(), value.as_bytes().to_vec()));
            }
        }
        Ok(BackendResponse { status: 200, headers, body: format!("answer {n}").into_bytes(), remote_addr: None })
    }
}

fn get(host: &Host, origin: &CountingOrigin, path: &str) -> Outcome {
    host.request(DownstreamRequest::get(&format!("http://www.example.test{path}")), origin.clone())
}

fn post(host: &Host, origin: &CountingOrigin, path: &str) -> Outcome {
    let mut request = DownstreamRequest::get(&format!("http://www.example.test{path}"));
    request.method = "POST".into();
    host.request(request, origin.clone())
}

fn body(out: &Outcome) -> String {
    String::from_utf8_lossy(&out.body).into_owned()
}

/// The cache decisions of a request, e.g. `[Miss, Stored]`.
fn decisions(out: &Outcome) -> Vec<CacheOutcome> {
    out.trace.events.iter().filter_map(|e| match &e.kind { EventKind::Cache { outcome, .. } => Some(*outcome), _ => None }).collect()
}

#[test]
fn the_second_request_within_the_ttl_is_a_hit_and_the_backend_is_not_called() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let origin = CountingOrigin::new("public, max-age=300");

    let first = get(&host, &origin, "/api");
    assert_eq!((first.response.status, body(&first).as_str()), (200, "answer 1"));
    assert_eq!(decisions(&first), [CacheOutcome::Miss, CacheOutcome::Stored]);
    assert_eq!(origin.calls(), 1);

    host.clock.advance(10);
    let second = get(&host, &origin, "/api");
    assert_eq!(body(&second), "answer 1", "served from cache");
    assert_eq!(origin.calls(), 1, "the backend was not called");
    assert_eq!(decisions(&second), [CacheOutcome::Hit]);
    assert!(second.trace.backend_calls().is_empty());
    assert_eq!(header(&second, "age"), Some("10"));
    assert_eq!(header(&second, "cache-control"), Some("public, max-age=60"), "the guest still rewrites the hit");
    let Some(EventKind::Cache { ttl_left_s, hits, .. }) = second.trace.events.iter().map(|e| &e.kind).find(|k| matches!(k, EventKind::Cache { .. })) else {
        unreachable!()
    };
    assert_eq!((*ttl_left_s, *hits), (20, 1), "30 s override, 10 s later");
}

#[test]
fn the_ttl_override_wins_over_the_origins_max_age() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let origin = CountingOrigin::new("public, max-age=300");
    get(&host, &origin, "/api");
    host.clock.advance(31);
    let later = get(&host, &origin, "/api");
    assert_eq!(body(&later), "answer 2", "expired after the 30 s override, not the origin's 300 s");
    assert_eq!(decisions(&later), [CacheOutcome::Miss, CacheOutcome::Stored]);
}

#[test]
fn after_a_purge_by_surrogate_key_it_is_a_miss_again() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let mut origin = CountingOrigin::new("max-age=300");
    origin.surrogate_key = "products product-42";
    get(&host, &origin, "/products/42");
    get(&host, &origin, "/other");
    assert_eq!(origin.calls(), 2);

    let purged = post(&host, &origin, "/purge/product-42");
    assert_eq!((purged.response.status, body(&purged).as_str()), (200, "purged product-42\n"));
    assert!(purged.trace.events.iter().any(|e| matches!(&e.kind, EventKind::Purge { purged: 1, soft: false, .. })));

    let again = get(&host, &origin, "/products/42");
    assert_eq!((body(&again).as_str(), origin.calls()), ("answer 3", 3), "purged: fetched again");
    let other = get(&host, &origin, "/other");
    assert_eq!((body(&other).as_str(), origin.calls()), ("answer 2", 3), "other keys stay cached");

    // The guest tags everything with `edgeplay` (its cache override's surrogate key).
    post(&host, &origin, "/purge/edgeplay");
    assert_eq!(body(&get(&host, &origin, "/other")), "answer 4");
}

#[test]
fn a_soft_purge_serves_stale_while_revalidating() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let origin = CountingOrigin::new("max-age=300, stale-while-revalidate=60");
    get(&host, &origin, "/page");
    post(&host, &origin, "/purge/edgeplay?soft=1");
    let stale = get(&host, &origin, "/page");
    assert_eq!(body(&stale), "answer 1", "the stale copy is served at once");
    assert_eq!(decisions(&stale)[0], CacheOutcome::Stale);
    assert_eq!(origin.calls(), 2, "and refreshed in the background within the same run");
    let fresh = get(&host, &origin, "/page");
    assert_eq!((body(&fresh).as_str(), decisions(&fresh).as_slice()), ("answer 2", &[CacheOutcome::Hit][..]));
}

#[test]
fn a_private_response_is_fetched_every_time_ttl_override_or_not() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let origin = CountingOrigin::new("private, max-age=300");
    for n in 1..=3 {
        let out = get(&host, &origin, "/me");
        assert_eq!(body(&out), format!("answer {n}"));
        assert_eq!(decisions(&out), [CacheOutcome::Miss, CacheOutcome::NotStored]);
    }
    assert_eq!(origin.calls(), 3);
    assert_eq!(host.stores.lock().cache.len(), 0);
}

#[test]
fn concurrent_identical_requests_are_collapsed_into_one_backend_request() {
    let host = Arc::new(Host::new(Guest::CachingProxy, CONFIG));
    let calls = Arc::new(AtomicUsize::new(0));
    let slow = {
        let calls = calls.clone();
        move |_: BackendRequest| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(300));
            Ok(BackendResponse { status: 200, headers: vec![], body: b"slow".to_vec(), remote_addr: None })
        }
    };
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (host, slow) = (host.clone(), slow.clone());
            std::thread::spawn(move || host.request(DownstreamRequest::get("http://www.example.test/hot"), slow))
        })
        .collect();
    let outs: Vec<Outcome> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(outs.iter().all(|o| body(o) == "slow"));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one request went to the backend for all three");
    let collapsed = outs.iter().filter(|o| decisions(o).contains(&CacheOutcome::Collapsed)).count();
    assert_eq!(collapsed, 2);
}

#[test]
fn vary_keeps_a_copy_per_header_value() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let calls = Arc::new(AtomicUsize::new(0));
    let by_language = {
        let calls = calls.clone();
        move |request: BackendRequest| {
            calls.fetch_add(1, Ordering::SeqCst);
            let lang = request.headers.iter().find(|(n, _)| n == "accept-language").map(|(_, v)| v.clone()).unwrap_or_default();
            Ok(BackendResponse { status: 200, headers: vec![("vary".into(), b"Accept-Language".to_vec())], body: lang, remote_addr: None })
        }
    };
    let ask = |lang: &str| {
        let mut request = DownstreamRequest::get("http://www.example.test/greeting");
        request.headers = vec![("accept-language".into(), lang.as_bytes().to_vec())];
        body(&host.request(request, by_language.clone()))
    };
    assert_eq!((ask("en"), ask("pt"), ask("en"), ask("pt")), ("en".into(), "pt".into(), "en".into(), "pt".into()));
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one backend request per language");
}

#[test]
fn the_cache_survives_a_restart_through_the_journal() {
    let host = Host::new(Guest::CachingProxy, CONFIG);
    let origin = CountingOrigin::new("max-age=300");
    get(&host, &origin, "/kept");
    let journal = serde_json::to_string(&host.stores.lock().take_journal()).unwrap();

    let restarted = Host::new(Guest::CachingProxy, CONFIG);
    restarted.stores.lock().restore(serde_json::from_str::<Vec<host_core::Change>>(&journal).unwrap());
    let out = get(&restarted, &origin, "/kept");
    assert_eq!((body(&out).as_str(), origin.calls()), ("answer 1", 1));
}
