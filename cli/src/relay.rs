//! `edgeplay relay`: carries a browser's backend requests to origins `fetch` cannot reach as
//! they are — with their own `Host` and cookies, without CORS — by the protocol in
//! `host_core::io::relay`. It is an open proxy for whoever can reach it: it listens on
//! loopback unless told otherwise.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use host_core::io::relay::{HEADER_PREFIX, TARGET};
use host_core::native::Backends;
use host_core::BackendRequest;
use tiny_http::{Header, Response};

use crate::backends::Network;

/// Any page may use the relay and read everything it returns.
const CORS: [(&str, &str); 5] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-headers", "*"),
    ("access-control-allow-methods", "*"),
    ("access-control-expose-headers", "*"),
    ("access-control-max-age", "600"),
];

pub fn relay(addr: SocketAddr) -> Result<ExitCode, String> {
    let http = tiny_http::Server::http(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = http.server_addr().to_ip().map_or(addr.to_string(), |a| a.to_string());
    println!("Relaying on http://{bound}");
    let network = Arc::new(Network::new());
    for request in http.incoming_requests() {
        let network = network.clone();
        std::thread::spawn(move || handle(&network, request));
    }
    Ok(ExitCode::SUCCESS)
}

fn header(name: &str, value: &[u8]) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value).ok()
}

fn with_cors(mut response: Response<std::io::Cursor<Vec<u8>>>) -> Response<std::io::Cursor<Vec<u8>>> {
    for (name, value) in CORS {
        if let Some(h) = header(name, value.as_bytes()) {
            response.add_header(h);
        }
    }
    response
}

fn handle(network: &Network, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_string();
    if method == "OPTIONS" {
        let _ = request.respond(with_cors(Response::from_data(Vec::new()).with_status_code(204)));
        return;
    }
    let mut target = None;
    let mut headers = Vec::new();
    for h in request.headers() {
        let name = h.field.as_str().as_str().to_ascii_lowercase();
        if name == TARGET {
            target = Some(h.value.as_str().to_string());
        } else if let Some(original) = name.strip_prefix(HEADER_PREFIX) {
            headers.push((original.to_string(), h.value.as_str().as_bytes().to_vec()));
        }
    }
    let Some(url) = target.filter(|t| t.starts_with("http://") || t.starts_with("https://")) else {
        let message = format!("a relay request names its origin in `{TARGET}: https://…`");
        let _ = request.respond(with_cors(Response::from_string(message).with_status_code(400)));
        return;
    };
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let result = network.fetch(BackendRequest {
        backend: "relay".into(),
        method,
        url: url.clone(),
        headers,
        body,
        connect_timeout_ms: None,
        first_byte_timeout_ms: None,
        between_bytes_timeout_ms: None,
        proxy: None,
    });
    let response = match result {
        Ok(origin) => {
            let mut response = Response::from_data(origin.body).with_status_code(origin.status);
            for (name, value) in &origin.headers {
                if let Some(h) = header(&format!("{HEADER_PREFIX}{name}"), value) {
                    response.add_header(h);
                }
            }
            response
        }
        // 502 with the failure's kind, so the browser can hand the guest the right error.
        Err(error) => {
            let mut response = Response::from_string(error.to_string()).with_status_code(502);
            if let Some(h) = header("x-edgeplay-error", error.kind.name().as_bytes()) {
                response.add_header(h);
            }
            response
        }
    };
    println!("{} {url} -> {}", request.method(), response.status_code().0);
    let _ = request.respond(with_cors(response));
}
