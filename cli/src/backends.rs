//! Real backends over the network, as a Compute backend fetch behaves: every status is a
//! response (a 404 is not an error), redirects are returned, not followed, and the body comes
//! back as the origin encoded it. Only failures to get a response at all are errors, sorted
//! into the categories the guest sees (`SendErrorDetailTag`).

use std::io::ErrorKind;
use std::time::Duration;

use host_core::native::Backends;
use host_core::{BackendRequest, BackendResponse, FetchError, FetchErrorKind};
use ureq::config::AutoHeaderValue;
use ureq::http;
use ureq::Timeout;

/// Fastly's defaults for a backend that does not set its own timeouts.
const CONNECT_TIMEOUT_MS: u32 = 1_000;
const FIRST_BYTE_TIMEOUT_MS: u32 = 15_000;
const BETWEEN_BYTES_TIMEOUT_MS: u32 = 10_000;

pub struct Network {
    agent: ureq::Agent,
}

impl Network {
    pub fn new() -> Network {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .allow_non_standard_methods(true)
            // The guest's headers go out as they are: no User-Agent, Accept or
            // Accept-Encoding of the client's own, and no proxy from the environment.
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
            .accept_encoding(AutoHeaderValue::None)
            .proxy(None)
            .build();
        Network {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn send(&self, request: BackendRequest) -> Result<BackendResponse, FetchError> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        let internal = |e: http::Error| {
            fetch_error(
                FetchErrorKind::Internal,
                format!("the request cannot be sent: {e}"),
            )
        };
        let timeouts = Timeouts {
            connect: ms(request.connect_timeout_ms, CONNECT_TIMEOUT_MS),
            first_byte: ms(request.first_byte_timeout_ms, FIRST_BYTE_TIMEOUT_MS),
            between_bytes: ms(request.between_bytes_timeout_ms, BETWEEN_BYTES_TIMEOUT_MS),
        };
        // An empty body is no body: a GET goes out without `Content-Length: 0`.
        let response = if request.body.is_empty() {
            self.run(builder.body(()).map_err(internal)?, timeouts)
        } else {
            self.run(builder.body(request.body).map_err(internal)?, timeouts)
        };
        let response = response.map_err(|e| classify(e, false))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
            .collect();
        let body = response
            .into_body()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| classify(e, true))?;
        Ok(BackendResponse {
            status,
            headers,
            body,
            remote_addr: None,
        })
    }

    fn run<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        t: Timeouts,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        // ureq has one per-read timeout for the head and the body alike: a silent origin is
        // cut off at the between-bytes timeout even while the head is still due.
        let request = self
            .agent
            .configure_request(request)
            .timeout_resolve(Some(t.connect))
            .timeout_connect(Some(t.connect))
            .timeout_recv_response(Some(t.first_byte))
            .timeout_per_read(Some(t.between_bytes))
            .build();
        self.agent.run(request)
    }
}

#[derive(Clone, Copy)]
struct Timeouts {
    connect: Duration,
    first_byte: Duration,
    between_bytes: Duration,
}

impl Backends for Network {
    fn fetch(&self, request: BackendRequest) -> Result<BackendResponse, FetchError> {
        self.send(request)
    }
}

fn ms(value: Option<u32>, default: u32) -> Duration {
    Duration::from_millis(u64::from(value.unwrap_or(default)))
}

fn fetch_error(kind: FetchErrorKind, message: impl Into<String>) -> FetchError {
    FetchError {
        kind,
        message: message.into(),
    }
}

/// Sorts a failure into production's categories; `in_body` when the head had arrived.
fn classify(error: ureq::Error, in_body: bool) -> FetchError {
    use FetchErrorKind::*;
    let message = error.to_string();
    let kind = match &error {
        ureq::Error::HostNotFound => DnsError,
        ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => ConnectionTimeout,
        ureq::Error::Timeout(_) if in_body => ConnectionTerminated,
        ureq::Error::Timeout(_) => FirstByteTimeout,
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => TlsError,
        ureq::Error::Protocol(_) | ureq::Error::BodyExceedsLimit(_) => ProtocolError,
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => ConnectionRefused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock if in_body => ConnectionTerminated,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => ConnectionTimeout,
            ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof => ConnectionTerminated,
            // Resolution failures that the OS reports as plain I/O errors.
            _ if message.contains("failed to lookup address")
                || message.contains("Name or service not known") =>
            {
                DnsError
            }
            _ => ConnectionRefused,
        },
        ureq::Error::ConnectionFailed => ConnectionRefused,
        _ => Internal,
    };
    fetch_error(kind, message)
}
