//! `edgeplay serve`: a local Compute server. The module is compiled once; every request gets
//! a fresh instance on its own thread, as production gives every request a fresh sandbox.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use host_core::http::ResponseHead;
use host_core::native::{drive, Backends, StdPlatform};
use host_core::{Config, DownstreamRequest, GuestModule, Outcome, Session, SharedStores};

use crate::backends::Network;
use crate::state_dir::{self, StateDir};
use crate::{load, report};

struct Server {
    module: GuestModule,
    config: Arc<Config>,
    backends: Arc<dyn Backends>,
    stores: SharedStores,
    state: Option<StateDir>,
}

pub fn serve(
    wasm: PathBuf,
    config: Option<PathBuf>,
    addr: SocketAddr,
    state: Option<PathBuf>,
    reset: bool,
) -> Result<ExitCode, String> {
    let config = load::config(config.as_deref())?;
    let module = load::module(&wasm, &config)?;
    let (state, stores) = state_dir::stores(state.as_deref(), &config, reset)?;
    let http =
        tiny_http::Server::http(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let server = Arc::new(Server {
        module,
        config: Arc::new(config),
        backends: Arc::new(Network::new()),
        stores,
        state,
    });
    let bound = http
        .server_addr()
        .to_ip()
        .map_or(addr.to_string(), |a| a.to_string());
    println!("Listening on http://{bound}");
    for request in http.incoming_requests() {
        let server = server.clone();
        std::thread::spawn(move || server.handle(request));
    }
    Ok(ExitCode::SUCCESS)
}

impl Server {
    fn handle(&self, mut request: tiny_http::Request) {
        let started = Instant::now();
        let method = request.method().as_str().to_string();
        let path = request.url().to_string();
        let head_only = method.eq_ignore_ascii_case("HEAD");
        // HTTP/1.0 clients cannot take a chunked body: they get the whole response at once.
        let can_stream = *request.http_version() >= tiny_http::HTTPVersion(1, 1);
        let downstream = match downstream_request(&mut request) {
            Ok(downstream) => downstream,
            Err(why) => {
                let _ =
                    request.respond(tiny_http::Response::from_string(why).with_status_code(400));
                return;
            }
        };
        let mut out = Downstream::new(request.into_writer(), head_only, can_stream);
        let outcome = match self
            .module
            .start(self.config.clone(), downstream, StdPlatform::new(), self.stores.clone())
        {
            Ok(session) => drive(session, self.backends.clone(), |session| {
                out.progress(session)
            }),
            Err(message) => {
                eprintln!("{method} {path}: the guest could not start: {message}");
                out.finish_plain(500);
                return;
            }
        };
        out.finish(&outcome);
        if let Some(state) = &self.state {
            if let Err(why) = state.save(&self.stores, &self.config) {
                eprintln!("{method} {path}: the state could not be saved: {why}");
            }
        }
        self.log(&method, &path, &outcome, started);
    }

    /// One line per request, then what the guest printed and logged, written at once so that
    /// concurrent requests do not interleave.
    fn log(&self, method: &str, path: &str, outcome: &Outcome, started: Instant) {
        let mut text = format!(
            "{method} {path} {} {:.0} ms\n",
            outcome.response.status,
            started.elapsed().as_secs_f64() * 1000.0
        );
        let mut lines = |label: &str, bytes: &str| {
            for line in bytes.lines() {
                text.push_str(&format!("  {label} | {line}\n"));
            }
        };
        lines("stdout", &String::from_utf8_lossy(&outcome.stdout));
        lines("stderr", &String::from_utf8_lossy(&outcome.stderr));
        for (endpoint, entries) in &outcome.logs {
            for entry in entries {
                lines(&format!("log {endpoint}"), &entry.text);
            }
        }
        for line in report::cache_lines(outcome) {
            lines("cache", &line);
        }
        for line in report::kv_lines(outcome) {
            lines("kv", &line);
        }
        for call in outcome.trace.backend_calls() {
            lines("backend", &report::call_line(&call));
        }
        if let Some(error) = &outcome.error {
            lines(&format!("error {}", error.kind.as_str()), &error.message);
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
}

fn downstream_request(request: &mut tiny_http::Request) -> Result<DownstreamRequest, String> {
    let headers: Vec<(String, Vec<u8>)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_string(),
                h.value.as_bytes().to_vec(),
            )
        })
        .collect();
    let host = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        .unwrap_or_else(|| "localhost".to_string());
    let url = format!("http://{host}{}", request.url());
    let mut body = Vec::new();
    request
        .as_reader()
        .read_to_end(&mut body)
        .map_err(|e| format!("reading the request body: {e}"))?;
    Ok(DownstreamRequest {
        method: request.method().as_str().to_string(),
        url,
        headers,
        body,
        client_ip: None,
    })
}

/// The response going to the client: the head as soon as the guest sends it, then the body
/// in chunks as the guest writes it.
struct Downstream {
    writer: Box<dyn Write + Send>,
    head_only: bool,
    can_stream: bool,
    state: Sent,
    /// Body bytes already written.
    sent: usize,
}

#[derive(PartialEq)]
enum Sent {
    Nothing,
    /// The head went out with `Transfer-Encoding: chunked`; chunks follow.
    Streaming,
    Done,
}

impl Downstream {
    fn new(writer: Box<dyn Write + Send>, head_only: bool, can_stream: bool) -> Downstream {
        Downstream {
            writer,
            head_only,
            can_stream,
            state: Sent::Nothing,
            sent: 0,
        }
    }

    /// Called whenever the guest pauses: forward what it has sent since last time.
    fn progress(&mut self, session: &mut Session) {
        if self.state == Sent::Done || !self.can_stream {
            return;
        }
        let Some(head) = session.response_head().cloned() else {
            return;
        };
        let finished = session.response_finished();
        let new = session.take_streamed();
        if self.state == Sent::Nothing {
            if finished {
                // The whole response is there (the guest may go on running): send it now.
                self.write_whole(&head, &new);
                return;
            }
            self.write_head(&head, None);
            self.state = Sent::Streaming;
        }
        self.write_chunk(&new);
        if finished {
            self.end_chunks();
        }
    }

    /// The guest is done: send whatever the client has not had yet.
    fn finish(&mut self, outcome: &Outcome) {
        match self.state {
            Sent::Nothing => self.write_whole(&outcome.response, &outcome.body),
            Sent::Streaming => {
                let rest = outcome.body.get(self.sent..).unwrap_or_default();
                self.write_chunk(rest);
                if outcome.error.is_some() {
                    self.break_stream();
                } else {
                    self.end_chunks();
                }
            }
            Sent::Done => {}
        }
    }

    fn finish_plain(&mut self, status: u16) {
        self.write_whole(
            &ResponseHead {
                status,
                ..ResponseHead::default()
            },
            &[],
        );
    }

    fn write_whole(&mut self, head: &ResponseHead, body: &[u8]) {
        self.write_head(head, Some(body.len()));
        if !self.head_only && has_body(head.status) {
            let _ = self.writer.write_all(body);
        }
        let _ = self.writer.flush();
        self.sent = body.len();
        self.state = Sent::Done;
    }

    /// The status line and the guest's headers; this server does the framing itself, so the
    /// guest's own `Content-Length` / `Transfer-Encoding` are replaced.
    fn write_head(&mut self, head: &ResponseHead, length: Option<usize>) {
        let mut text = report::status_line(head.status).into_bytes();
        text.extend_from_slice(b"\r\n");
        for (name, value) in head.headers.iter() {
            if matches!(
                name,
                "content-length" | "transfer-encoding" | "connection" | "keep-alive"
            ) {
                continue;
            }
            text.extend_from_slice(name.as_bytes());
            text.extend_from_slice(b": ");
            text.extend_from_slice(value);
            text.extend_from_slice(b"\r\n");
        }
        if has_body(head.status) {
            match length {
                Some(length) => {
                    text.extend_from_slice(format!("content-length: {length}\r\n").as_bytes())
                }
                None => text.extend_from_slice(b"transfer-encoding: chunked\r\n"),
            }
        }
        text.extend_from_slice(b"\r\n");
        let _ = self.writer.write_all(&text);
        let _ = self.writer.flush();
    }

    fn write_chunk(&mut self, bytes: &[u8]) {
        self.sent += bytes.len();
        if bytes.is_empty() || self.head_only {
            return;
        }
        let _ = write!(self.writer, "{:x}\r\n", bytes.len());
        let _ = self.writer.write_all(bytes);
        let _ = self.writer.write_all(b"\r\n");
        let _ = self.writer.flush();
    }

    fn end_chunks(&mut self) {
        if !self.head_only {
            let _ = self.writer.write_all(b"0\r\n\r\n");
            let _ = self.writer.flush();
        }
        self.state = Sent::Done;
    }

    /// The guest failed mid-stream: the client must see a cut-off response, as production's
    /// reset stream shows it, not a complete one. tiny_http keeps the socket, so the stream is
    /// ended with a chunk header no client accepts; every HTTP client then reports the
    /// response as truncated and drops the connection.
    fn break_stream(&mut self) {
        if !self.head_only {
            let _ = self.writer.write_all(b"incomplete\r\n");
            let _ = self.writer.flush();
        }
        self.state = Sent::Done;
    }
}

/// 1xx, 204 and 304 responses have no body and no framing headers.
fn has_body(status: u16) -> bool {
    !(100..200).contains(&status) && status != 204 && status != 304
}
