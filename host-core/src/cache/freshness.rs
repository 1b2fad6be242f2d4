//! How long a backend response may be served from cache, and whether it may be stored at all:
//! the rules of Fastly's readthrough cache, as pure functions of the response headers.
//!
//! Sources (each rule's table test cites its page):
//! - HTTP caching semantics: <https://www.fastly.com/documentation/guides/concepts/edge-state/cache/cache-freshness/>
//! - Cache control headers, order of preference:
//!   <https://www.fastly.com/documentation/guides/full-site-delivery/caching/about-cache-control-headers>
//! - Statuses cached by default: <https://docs.fastly.com/en/guides/http-status-codes-cached-by-default>
//! - Default TTL 3600 s: <https://www.fastly.com/documentation/guides/full-site-delivery/caching/controlling-caching>

use alloc::string::String;
use alloc::vec::Vec;

/// The fallback TTL when a response carries no freshness information.
pub const DEFAULT_TTL_S: u64 = 3600;

/// Statuses the readthrough cache stores unless told otherwise.
pub const CACHEABLE_STATUSES: [u16; 7] = [200, 203, 300, 301, 302, 404, 410];

/// What the cache decided about one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `None` when the response must not be stored, with the reason in `uncacheable`.
    pub uncacheable: Option<&'static str>,
    /// Seconds the response stays fresh from when it was generated (`max_age`), and how old it
    /// already was on arrival (`Age`): the time left is `max_age - initial_age`.
    pub max_age_s: u64,
    pub initial_age_s: u64,
    /// Seconds after expiry a stale copy may be served while it is revalidated.
    pub stale_while_revalidate_s: u64,
    /// Header names the cached copy varies on (lower case), from `Vary`.
    pub vary: Vec<String>,
    /// Where the TTL came from, for the trace.
    pub ttl_source: TtlSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlSource {
    SurrogateControl,
    SMaxAge,
    MaxAge,
    Expires,
    Default,
    Override,
}

impl TtlSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TtlSource::SurrogateControl => "Surrogate-Control max-age",
            TtlSource::SMaxAge => "Cache-Control s-maxage",
            TtlSource::MaxAge => "Cache-Control max-age",
            TtlSource::Expires => "Expires",
            TtlSource::Default => "default 3600 s",
            TtlSource::Override => "TTL override",
        }
    }
}

/// The guest's cache override, as far as freshness is concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Override {
    pub ttl_s: Option<u32>,
    pub stale_while_revalidate_s: Option<u32>,
}

/// A response's headers, looked up case-insensitively; repeated fields are joined with `,`.
pub trait Headers {
    fn get_joined(&self, name: &str) -> Option<String>;
}

impl Headers for [(String, Vec<u8>)] {
    fn get_joined(&self, name: &str) -> Option<String> {
        let values: Vec<String> = self
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// Decides storability and freshness. `now_s` (Unix seconds) resolves `Expires` when the
/// response has no `Date`.
pub fn policy(status: u16, headers: &(impl Headers + ?Sized), over: Override, now_s: u64) -> Policy {
    let cache_control = Directives::parse(headers.get_joined("cache-control").as_deref().unwrap_or(""));
    let surrogate = Directives::parse(headers.get_joined("surrogate-control").as_deref().unwrap_or(""));
    let vary: Vec<String> = headers
        .get_joined("vary")
        .map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();

    // A TTL override changes how long, never whether: private data stays private.
    let uncacheable = if !CACHEABLE_STATUSES.contains(&status) {
        Some("status not cacheable by default")
    } else if cache_control.has("private") {
        Some("Cache-Control: private")
    } else if cache_control.has("no-store") || surrogate.has("no-store") {
        Some("no-store")
    } else if headers.get_joined("set-cookie").is_some() {
        Some("Set-Cookie")
    } else if vary.iter().any(|v| v == "*") {
        Some("Vary: *")
    } else {
        None
    };

    let date_s = headers.get_joined("date").and_then(|d| parse_http_date(&d));
    let (max_age_s, ttl_source) = if let Some(ttl) = over.ttl_s {
        (u64::from(ttl), TtlSource::Override)
    } else if let Some(s) = surrogate.seconds("max-age") {
        (s, TtlSource::SurrogateControl)
    } else if let Some(s) = cache_control.seconds("s-maxage") {
        (s, TtlSource::SMaxAge)
    } else if let Some(s) = cache_control.seconds("max-age") {
        (s, TtlSource::MaxAge)
    } else if let Some(expires) = headers.get_joined("expires") {
        // An unparseable Expires means "already expired" (RFC 9111 §5.3).
        let expires_s = parse_http_date(&expires).unwrap_or(0);
        (expires_s.saturating_sub(date_s.unwrap_or(now_s)), TtlSource::Expires)
    } else {
        (DEFAULT_TTL_S, TtlSource::Default)
    };
    // A TTL override is the time left from now, so it ignores the Age the backend reported.
    let initial_age_s = match ttl_source {
        TtlSource::Override => 0,
        _ => headers.get_joined("age").and_then(|a| a.trim().parse().ok()).unwrap_or(0),
    };
    let stale_while_revalidate_s = over.stale_while_revalidate_s.map(u64::from).unwrap_or_else(|| {
        surrogate.seconds("stale-while-revalidate").or_else(|| cache_control.seconds("stale-while-revalidate")).unwrap_or(0)
    });
    Policy { uncacheable, max_age_s, initial_age_s, stale_while_revalidate_s, vary, ttl_source }
}

/// `Cache-Control`-style directives: `name` or `name=value`, comma-separated, case-insensitive.
struct Directives(Vec<(String, Option<String>)>);

impl Directives {
    fn parse(value: &str) -> Directives {
        Directives(
            value
                .split(',')
                .filter_map(|d| {
                    let d = d.trim();
                    if d.is_empty() {
                        return None;
                    }
                    let (name, arg) = match d.split_once('=') {
                        Some((n, a)) => (n.trim(), Some(String::from(a.trim().trim_matches('"')))),
                        None => (d, None),
                    };
                    Some((name.to_ascii_lowercase(), arg))
                })
                .collect(),
        )
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// A delta-seconds argument; the first valid occurrence wins.
    fn seconds(&self, name: &str) -> Option<u64> {
        self.0.iter().filter(|(n, _)| n == name).find_map(|(_, a)| a.as_deref()?.parse().ok())
    }
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP date format senders
/// must use, into Unix seconds.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let mut parts = text.trim().split_ascii_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day as i64);
    u64::try_from(days * 86_400 + (h * 3600 + m * 60 + s) as i64).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats Unix seconds as an IMF-fixdate.
pub fn format_http_date(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    alloc::format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests;
