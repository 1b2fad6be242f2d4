//! Backend requests through the browser's `fetch`.
//!
//! The browser decides what a page may send and read: forbidden headers (`Host`, `Cookie`,
//! `Content-Length` …) are dropped, and a response is readable only with CORS. What was
//! dropped is reported, and a blocked request reaches the guest as a refused connection —
//! the error a failed backend gives in production — with the reason for the person.

use host_core::io::relay;
use host_core::{BackendRequest, BackendResponse, FetchError, FetchErrorKind};
use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response, WorkerGlobalScope};

/// Headers `fetch` will not send from a page (the Fetch standard's forbidden request headers).
const FORBIDDEN: &[&str] = &[
    "accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
    "connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive",
    "origin", "referer", "te", "trailer", "transfer-encoding", "upgrade", "via",
];

fn forbidden(name: &str) -> bool {
    FORBIDDEN.contains(&name) || name.starts_with("proxy-") || name.starts_with("sec-")
}

/// The headers of `request` the browser will drop (none when a relay carries them).
pub fn dropped_headers(request: &BackendRequest) -> Vec<String> {
    if request.proxy.is_some() {
        return Vec::new();
    }
    let mut names: Vec<String> = request.headers.iter().map(|(n, _)| n.clone()).filter(|n| forbidden(n)).collect();
    names.dedup();
    names
}

fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub async fn fetch(request: BackendRequest) -> Result<BackendResponse, FetchError> {
    let headers = Headers::new().map_err(internal)?;
    // Through a relay every header travels under a prefix, the target URL in its own header.
    let url = match &request.proxy {
        Some(proxy) => {
            headers.append(relay::TARGET, &request.url).map_err(internal)?;
            for (name, value) in &request.headers {
                headers.append(&format!("{}{name}", relay::HEADER_PREFIX), &String::from_utf8_lossy(value)).map_err(internal)?;
            }
            proxy.clone()
        }
        None => {
            for (name, value) in request.headers.iter().filter(|(n, _)| !forbidden(n)) {
                headers.append(name, &String::from_utf8_lossy(value)).map_err(internal)?;
            }
            request.url.clone()
        }
    };
    let init = RequestInit::new();
    init.set_method(&request.method);
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Follow);
    if !request.body.is_empty() && request.method != "GET" && request.method != "HEAD" {
        init.set_body(&Uint8Array::from(request.body.as_slice()));
    }
    // The first-byte timeout, as production enforces it, by aborting the fetch.
    let controller = AbortController::new().map_err(internal)?;
    init.set_signal(Some(&controller.signal()));
    let timeout_ms = request.first_byte_timeout_ms.unwrap_or(15_000);
    let abort = controller.clone();
    let timer = gloo_timers::callback::Timeout::new(timeout_ms, move || abort.abort());

    let response = JsFuture::from(scope().fetch_with_str_and_init(&url, &init)).await;
    let response: Response = match response {
        Ok(value) => value.unchecked_into(),
        Err(error) => {
            let timed_out = controller.signal().aborted();
            drop(timer);
            return Err(if timed_out {
                FetchError {
                    kind: FetchErrorKind::FirstByteTimeout,
                    message: format!("no response within {timeout_ms} ms (first_byte_timeout_ms)"),
                }
            } else {
                blocked(&request.url, &error)
            });
        }
    };
    drop(timer);
    let mut response_headers = Vec::new();
    let mut relay_error = None;
    if let Ok(Some(iter)) = js_sys::try_iter(&response.headers()) {
        for entry in iter.flatten() {
            let pair: Array = entry.unchecked_into();
            let (name, value) = (pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default());
            match (&request.proxy, name.strip_prefix(relay::HEADER_PREFIX)) {
                (None, _) => response_headers.push((name, value.into_bytes())),
                (Some(_), Some(original)) => response_headers.push((original.to_string(), value.into_bytes())),
                (Some(_), None) if name == "x-edgeplay-error" => relay_error = Some(value),
                (Some(_), None) => {} // the relay's own headers (CORS)
            }
        }
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(internal)?).await.map_err(|e| FetchError {
        kind: FetchErrorKind::ConnectionTerminated,
        message: format!("the response body could not be read: {}", describe(&e)),
    })?;
    if let Some(kind) = relay_error {
        let message = JsFuture::from(response.text().map_err(internal)?).await.ok().and_then(|t| t.as_string());
        return Err(FetchError {
            kind: relay_error_kind(&kind),
            message: format!("the relay could not reach {}: {}", request.url, message.unwrap_or(kind)),
        });
    }
    Ok(BackendResponse {
        status: response.status(),
        headers: response_headers,
        body: Uint8Array::new(&buffer).to_vec(),
        remote_addr: None,
    })
}

/// `fetch` rejects with a bare TypeError for CORS, mixed content, refused connections and
/// local-network permission alike; the page cannot tell them apart, so it names them all.
fn blocked(url: &str, error: &JsValue) -> FetchError {
    FetchError {
        kind: FetchErrorKind::BlockedByBrowser,
        message: format!(
            "the browser could not fetch {url} ({}): the origin is down or refused the connection, \
             or it does not allow this page to read it (CORS: it must answer with \
             Access-Control-Allow-Origin), or the browser blocked it (mixed content, local-network \
             permission). Use a CORS-enabled origin, a mock backend, or a proxy.",
            describe(error)
        ),
    }
}

/// The relay names failures as `FetchErrorKind::name` does.
fn relay_error_kind(name: &str) -> FetchErrorKind {
    use FetchErrorKind::*;
    [DnsError, ConnectionRefused, ConnectionTimeout, ConnectionTerminated, FirstByteTimeout, TlsError, ProtocolError]
        .into_iter()
        .find(|kind| kind.name() == name)
        .unwrap_or(Internal)
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

fn internal(error: JsValue) -> FetchError {
    FetchError { kind: FetchErrorKind::Internal, message: describe(&error) }
}
