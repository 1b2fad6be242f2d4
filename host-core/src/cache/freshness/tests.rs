//! One row per rule. Each row names the Fastly documentation page it encodes.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;

const FRESHNESS: &str = "https://www.fastly.com/documentation/guides/concepts/edge-state/cache/cache-freshness/";
const PREFERENCE: &str = "https://www.fastly.com/documentation/guides/full-site-delivery/caching/about-cache-control-headers";
const STATUSES: &str = "https://docs.fastly.com/en/guides/http-status-codes-cached-by-default";
const DEFAULT_TTL: &str = "https://www.fastly.com/documentation/guides/full-site-delivery/caching/controlling-caching";
const SURROGATE: &str = "https://www.fastly.com/documentation/reference/http/http-headers/Surrogate-Control/";
const PRIVATE: &str = "https://www.fastly.com/blog/cache-recipe-for-success";
const OVERRIDE: &str = "https://www.fastly.com/documentation/reference/compute/sdks/rust/ (fastly::http::CacheOverride)";

const NOW: u64 = 1_700_000_000; // Tue, 14 Nov 2023 22:13:20 GMT

fn headers(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    list.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect()
}

struct Row {
    rule: &'static str,
    source: &'static str,
    status: u16,
    headers: &'static [(&'static str, &'static str)],
    over: Override,
    /// Expected: stored?, seconds of freshness left (max_age - age), stale-while-revalidate.
    stored: bool,
    ttl_left: u64,
    swr: u64,
}

const NO_OVERRIDE: Override = Override { ttl_s: None, stale_while_revalidate_s: None };
const TTL_30: Override = Override { ttl_s: Some(30), stale_while_revalidate_s: None };

#[rustfmt::skip]
const ROWS: &[Row] = &[
    Row { rule: "Surrogate-Control max-age is preferred over everything", source: PREFERENCE, status: 200,
          headers: &[("surrogate-control", "max-age=86400"), ("cache-control", "s-maxage=60, max-age=10")],
          over: NO_OVERRIDE, stored: true, ttl_left: 86400, swr: 0 },
    Row { rule: "Surrogate-Control wins even when Cache-Control says max-age=0", source: SURROGATE, status: 200,
          headers: &[("cache-control", "max-age=0"), ("surrogate-control", "max-age=86400, stale-while-revalidate=60")],
          over: NO_OVERRIDE, stored: true, ttl_left: 86400, swr: 60 },
    Row { rule: "s-maxage (for the CDN) is preferred over max-age (for the browser)", source: PREFERENCE, status: 200,
          headers: &[("cache-control", "max-age=10, s-maxage=600")], over: NO_OVERRIDE, stored: true, ttl_left: 600, swr: 0 },
    Row { rule: "max-age when there is no s-maxage", source: PREFERENCE, status: 200,
          headers: &[("cache-control", "public, max-age=120")], over: NO_OVERRIDE, stored: true, ttl_left: 120, swr: 0 },
    Row { rule: "Expires minus Date when there is no max-age", source: PREFERENCE, status: 200,
          headers: &[("date", "Tue, 14 Nov 2023 22:13:20 GMT"), ("expires", "Tue, 14 Nov 2023 22:18:20 GMT")],
          over: NO_OVERRIDE, stored: true, ttl_left: 300, swr: 0 },
    Row { rule: "an unparseable Expires means already expired", source: FRESHNESS, status: 200,
          headers: &[("expires", "0")], over: NO_OVERRIDE, stored: true, ttl_left: 0, swr: 0 },
    Row { rule: "no freshness information: 3600 s", source: DEFAULT_TTL, status: 200,
          headers: &[("content-type", "text/html")], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "Age is subtracted from the freshness lifetime", source: FRESHNESS, status: 200,
          headers: &[("cache-control", "max-age=100"), ("age", "40")], over: NO_OVERRIDE, stored: true, ttl_left: 60, swr: 0 },
    Row { rule: "stale-while-revalidate from Cache-Control", source: FRESHNESS, status: 200,
          headers: &[("cache-control", "max-age=10, stale-while-revalidate=30")], over: NO_OVERRIDE, stored: true, ttl_left: 10, swr: 30 },
    Row { rule: "a TTL override replaces the response's freshness", source: OVERRIDE, status: 200,
          headers: &[("cache-control", "max-age=5"), ("age", "2")], over: TTL_30, stored: true, ttl_left: 30, swr: 0 },
    Row { rule: "a stale-while-revalidate override replaces the response's", source: OVERRIDE, status: 200,
          headers: &[("cache-control", "max-age=5, stale-while-revalidate=1")],
          over: Override { ttl_s: None, stale_while_revalidate_s: Some(90) }, stored: true, ttl_left: 5, swr: 90 },
    Row { rule: "203 is cacheable", source: STATUSES, status: 203, headers: &[], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "300 is cacheable", source: STATUSES, status: 300, headers: &[], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "301 is cacheable", source: STATUSES, status: 301, headers: &[], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "302 is cacheable", source: STATUSES, status: 302, headers: &[], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "404 is cacheable", source: STATUSES, status: 404, headers: &[], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "410 is cacheable", source: STATUSES, status: 410, headers: &[], over: NO_OVERRIDE, stored: true, ttl_left: 3600, swr: 0 },
    Row { rule: "500 is not cacheable", source: STATUSES, status: 500, headers: &[("cache-control", "max-age=60")],
          over: NO_OVERRIDE, stored: false, ttl_left: 60, swr: 0 },
    Row { rule: "204 is not cacheable by default, even with a TTL override", source: STATUSES, status: 204, headers: &[],
          over: TTL_30, stored: false, ttl_left: 30, swr: 0 },
    Row { rule: "Cache-Control: private is never stored", source: PRIVATE, status: 200,
          headers: &[("cache-control", "private, max-age=600")], over: NO_OVERRIDE, stored: false, ttl_left: 600, swr: 0 },
    Row { rule: "private is never stored, TTL override or not", source: PRIVATE, status: 200,
          headers: &[("cache-control", "private")], over: TTL_30, stored: false, ttl_left: 30, swr: 0 },
    Row { rule: "no-store is never stored", source: FRESHNESS, status: 200,
          headers: &[("cache-control", "no-store")], over: TTL_30, stored: false, ttl_left: 30, swr: 0 },
    Row { rule: "Set-Cookie responses are not stored", source: PRIVATE, status: 200,
          headers: &[("set-cookie", "session=1"), ("cache-control", "max-age=600")], over: TTL_30, stored: false, ttl_left: 30, swr: 0 },
    Row { rule: "Vary: * can never match a later request", source: FRESHNESS, status: 200,
          headers: &[("vary", "*")], over: NO_OVERRIDE, stored: false, ttl_left: 3600, swr: 0 },
];

#[test]
fn each_freshness_and_cacheability_rule() {
    for row in ROWS {
        let p = policy(row.status, headers(row.headers).as_slice(), row.over, NOW);
        let ttl_left = p.max_age_s.saturating_sub(p.initial_age_s);
        assert_eq!(
            (p.uncacheable.is_none(), ttl_left, p.stale_while_revalidate_s),
            (row.stored, row.ttl_left, row.swr),
            "{} ({}): got {p:?}",
            row.rule,
            row.source
        );
    }
}

#[test]
fn vary_names_are_lower_cased_and_split() {
    let p = policy(200, headers(&[("Vary", "Accept-Encoding, X-Lang")]).as_slice(), NO_OVERRIDE, NOW);
    assert_eq!(p.vary, ["accept-encoding", "x-lang"]);
}

#[test]
fn http_dates_round_trip() {
    assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(format_http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(format_http_date(NOW), "Tue, 14 Nov 2023 22:13:20 GMT");
    assert_eq!(parse_http_date("yesterday"), None);
}
