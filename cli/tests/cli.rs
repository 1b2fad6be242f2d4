//! The `edgeplay` binary as a user runs it: exit codes, what goes to stdout and stderr, and
//! real HTTP on loopback for `run` against an origin and for `serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn edgeplay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeplay"))
        .args(args)
        .output()
        .expect("edgeplay runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file under cargo's scratch directory for integration tests.
fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// An example guest, or `None` (and a note) when the guests have not been built.
fn guest(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../guests/target/wasm32-wasip1/release")
        .join(format!("{name}.wasm"));
    if path.is_file() {
        return Some(path.to_string_lossy().into_owned());
    }
    eprintln!(
        "SKIPPED: {} is missing (build the example guests with `make guests`)",
        path.display()
    );
    None
}

/// Bad input: exit 2, the message on stderr naming the file, nothing on stdout.
fn assert_bad_input(out: &Output, file: &str, message: &str) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(out));
    let err = stderr(out);
    assert!(err.contains(file), "the message names {file}: {err}");
    assert!(err.contains(message), "expected {message:?} in: {err}");
}

const MINIMAL_MODULE: &str = r#"(module (memory (export "memory") 1) (func (export "_start")))"#;

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let path = scratch("not-wasm.wasm", b"<!doctype html><html></html>");
    let out = edgeplay(&["run", path.to_str().unwrap()]);
    assert_bad_input(&out, "not-wasm.wasm", "not a WebAssembly file");
    assert!(stderr(&out).contains("HTML"), "{}", stderr(&out));
}

#[test]
fn a_truncated_module_is_refused() {
    let wasm = wat::parse_str(MINIMAL_MODULE).unwrap();
    let path = scratch("truncated.wasm", &wasm[..wasm.len() - 3]);
    let out = edgeplay(&["run", path.to_str().unwrap()]);
    assert_bad_input(&out, "truncated.wasm", "invalid");
}

#[test]
fn a_component_is_refused_with_the_target_to_use() {
    let path = scratch("component.wasm", b"\0asm\x0d\x00\x01\x00");
    let out = edgeplay(&["run", path.to_str().unwrap()]);
    assert_bad_input(&out, "component.wasm", "component");
    assert!(stderr(&out).contains("wasm32-wasip1"), "{}", stderr(&out));
}

#[test]
fn a_module_with_an_unknown_import_names_it() {
    let wasm = wat::parse_str(
        r#"(module
             (import "env" "mystery" (func (param i32) (result i64)))
             (memory (export "memory") 1)
             (func (export "_start")))"#,
    )
    .unwrap();
    let path = scratch("unknown-import.wasm", &wasm);
    let out = edgeplay(&["run", path.to_str().unwrap()]);
    assert_bad_input(&out, "unknown-import.wasm", "env::mystery: (i32) -> (i64)");
}

#[test]
fn a_missing_module_is_bad_input() {
    let out = edgeplay(&["run", "/nonexistent/edgeplay/guest.wasm"]);
    assert_bad_input(&out, "/nonexistent/edgeplay/guest.wasm", "No such file");
}

#[test]
fn malformed_config_json_gives_line_and_column() {
    let wasm = scratch("minimal-1.wasm", &wat::parse_str(MINIMAL_MODULE).unwrap());
    let config = scratch(
        "malformed.json",
        b"{\n  \"backends\": {\n    \"origin\": { \"url\": }\n  }\n}\n",
    );
    let out = edgeplay(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        wasm.to_str().unwrap(),
    ]);
    assert_bad_input(&out, "malformed.json", "(line 3, column 24)");
}

#[test]
fn an_unknown_config_key_gives_its_path() {
    let wasm = scratch("minimal-2.wasm", &wat::parse_str(MINIMAL_MODULE).unwrap());
    let config = scratch(
        "unknown-key.json",
        b"{\n  \"backends\": {\n    \"origin\": { \"ulr\": \"http://x\" }\n  }\n}\n",
    );
    let out = edgeplay(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        wasm.to_str().unwrap(),
    ]);
    assert_bad_input(
        &out,
        "unknown-key.json",
        "backends.origin.ulr: unknown field `ulr`",
    );
}

#[test]
fn a_malformed_header_argument_is_bad_input() {
    let wasm = scratch("minimal-3.wasm", &wat::parse_str(MINIMAL_MODULE).unwrap());
    let out = edgeplay(&["run", "-H", "no colon here", wasm.to_str().unwrap()]);
    assert_bad_input(&out, "no colon here", "Name: value");
}

#[test]
fn abi_json_lists_every_fastly_sys_import_with_its_status() {
    let out = edgeplay(&["abi", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON array");
    let rows = rows.as_array().expect("an array");
    let find = |module: &str, name: &str| {
        rows.iter()
            .find(|r| r["module"] == module && r["name"] == name)
    };
    let implemented = rows.iter().filter(|r| r["status"] == "implemented").count();
    assert!(implemented > 0, "nothing implemented: {rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["status"] == "implemented" || r["reason"].is_string()),
        "unsupported rows carry a reason"
    );
    let kv_open = find("fastly_kv_store", "open").expect("fastly_kv_store::open is listed");
    assert_eq!(kv_open["status"], "unsupported");
    assert_eq!(kv_open["reason"], "arrives with the stores-and-cache work");
    assert_eq!(
        find("fastly_http_req", "send_v2").expect("send_v2 is listed")["status"],
        "implemented"
    );
    assert!(
        rows.iter().all(|r| r["status"] != "signature_mismatch"),
        "{rows:?}"
    );
}

#[test]
fn abi_table_ends_with_totals() {
    let out = edgeplay(&["abi"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("\nfastly_http_req ("), "{text}");
    let total = text
        .lines()
        .find(|l| l.starts_with("Total: "))
        .expect("a totals line");
    assert!(
        total.contains("imports implemented (") && total.ends_with("%)"),
        "{total}"
    );
}

#[test]
fn run_prints_the_response_like_curl_and_the_report_on_stderr() {
    let Some(hello) = guest("hello") else { return };
    let out = edgeplay(&["run", &hello]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\n\r\nHello from Edgeplay!\n"
    );
    let summary = stderr(&out);
    for part in ["wall ", "CPU ", "fuel ", "peak heap ", "hostcalls"] {
        assert!(summary.contains(part), "{part:?} missing from {summary}");
    }
}

#[test]
fn run_json_is_one_object() {
    let Some(logging) = guest("logging") else {
        return;
    };
    let out = edgeplay(&["run", "--json", &logging, "/hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exactly one JSON object");
    assert_eq!(json["status"], 200);
    assert_eq!(json["body"], "logged 3 lines\n");
    assert_eq!(
        json["headers"][0],
        serde_json::json!(["content-type", "text/plain; charset=utf-8"])
    );
    assert_eq!(
        json["logs"]["my_endpoint"],
        serde_json::json!(["request received: GET /hello"])
    );
    assert_eq!(json["stdout"], "logging guest: hello on stdout\n");
    assert_eq!(json["stderr"], "logging guest: hello on stderr\n");
    assert_eq!(json["error"], serde_json::Value::Null);
    assert!(json["stats"]["hostcalls"].as_u64().unwrap() > 0);
    assert!(json["stats"]["fuel"].as_u64().unwrap() > 0);
    assert_eq!(json["trace"], serde_json::json!([]));
}

#[test]
fn run_sends_the_method_headers_and_body_it_is_given() {
    let Some(inspector) = guest("inspector") else {
        return;
    };
    let body = scratch("inspector-body.txt", b"from a file");
    let data = format!("@{}", body.display());
    let out = edgeplay(&[
        "run",
        "--json",
        &inspector,
        "-X",
        "PUT",
        "-H",
        "X-Custom: one",
        "-d",
        &data,
        "http://example.test/echo?x=1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let echo: serde_json::Value = serde_json::from_str(json["body"].as_str().unwrap()).unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["url"], "http://example.test/echo?x=1");
    assert_eq!(echo["body"], "from a file");
    let headers = echo["headers"].as_array().unwrap();
    assert!(
        headers.contains(&serde_json::json!(["x-custom", "one"])),
        "{headers:?}"
    );
    assert!(
        headers.contains(&serde_json::json!(["host", "example.test"])),
        "the URL's host, as curl sends it: {headers:?}"
    );

    // -d alone means POST, and a bare path means http://localhost.
    let out = edgeplay(&["run", "--json", &inspector, "-d", "inline", "/p"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let echo: serde_json::Value = serde_json::from_str(json["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&echo["method"], &echo["url"], &echo["body"]),
        (
            &"POST".into(),
            &"http://localhost/p".into(),
            &"inline".into()
        )
    );
}

#[test]
fn a_failing_guest_exits_1_and_still_prints_its_500() {
    let Some(panic) = guest("panic") else { return };
    let out = edgeplay(&["run", &panic]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("the guest panicked: something went wrong"),
        "{}",
        stderr(&out)
    );

    let out = edgeplay(&["run", "--json", &panic]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 500);
    assert_eq!(json["error"]["kind"], "panic");
}

/// An origin on loopback that answers every request the same way and remembers them.
struct Origin {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
}

fn origin() -> Origin {
    origin_answering("private")
}

/// An origin whose answers carry `cache_control`.
fn origin_answering(cache_control: &'static str) -> Origin {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let (seen, counter) = (requests.clone(), count.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let head = read_head(&mut stream);
            counter.fetch_add(1, Ordering::SeqCst);
            seen.lock().unwrap().push(head);
            let body = "from the origin";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncache-control: {cache_control}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Origin {
        url,
        requests,
        count,
    }
}

/// The request line and headers, up to the blank line.
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn run_reaches_a_real_origin_through_the_caching_proxy() {
    let Some(proxy) = guest("caching-proxy") else {
        return;
    };
    let origin = origin();
    let config = format!(
        r#"{{ "backends": {{ "httpme": {{ "url": "{}" }} }} }}"#,
        origin.url
    );
    let config = scratch("caching-proxy-origin.json", config.as_bytes());
    let out = edgeplay(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        &proxy,
        "http://example.test/api/status?x=1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("cache-control: public, max-age=60\r\n"),
        "the guest rewrites Cache-Control: {text}"
    );
    assert!(text.ends_with("\r\n\r\nfrom the origin"), "{text}");
    assert_eq!(origin.count.load(Ordering::SeqCst), 1);
    let seen = origin.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(
        seen.starts_with("get /api/status?x=1 http/1.1\r\n"),
        "{seen}"
    );
    assert!(seen.contains("\r\nx-edgeplay: 1\r\n"), "{seen}");
    assert!(
        seen.contains("\r\nhost: example.test\r\n"),
        "the client's Host is forwarded: {seen}"
    );
    let report = stderr(&out);
    assert!(
        report.contains(&format!("httpme  GET {}/api/status?x=1 -> 200", origin.url)),
        "{report}"
    );
}

#[test]
fn run_reports_a_refused_backend_as_the_guest_sees_it() {
    let Some(proxy) = guest("caching-proxy") else {
        return;
    };
    // A port nothing listens on: bound, then closed again.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config =
        format!(r#"{{ "backends": {{ "httpme": {{ "url": "http://127.0.0.1:{port}" }} }} }}"#);
    let config = scratch("caching-proxy-refused.json", config.as_bytes());
    let out = edgeplay(&[
        "run",
        "--json",
        "--config",
        config.to_str().unwrap(),
        &proxy,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the guest answered: {}",
        stderr(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 502);
    assert!(
        json["body"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{json}"
    );
    assert!(
        json["trace"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("connection refused"),
        "{json}"
    );
}

#[test]
fn a_backend_that_never_answers_hits_its_first_byte_timeout() {
    let Some(proxy) = guest("caching-proxy") else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        // Take the connection, say nothing, hang up later.
        let (_stream, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(3));
    });
    let config = format!(
        r#"{{ "backends": {{ "httpme": {{ "url": "http://{addr}", "first_byte_timeout_ms": 300 }} }} }}"#
    );
    let config = scratch("caching-proxy-silent.json", config.as_bytes());
    let started = Instant::now();
    let out = edgeplay(&[
        "run",
        "--json",
        "--config",
        config.to_str().unwrap(),
        &proxy,
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout, not the origin, ended it"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], 502, "{json}");
    let error = json["trace"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("first byte timeout"), "{error}");
}

/// `edgeplay serve` on a free port; killed when dropped.
struct Served {
    child: Child,
    base: String,
    log: BufReader<std::process::ChildStdout>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(wasm: &str) -> Served {
    serve_with(&[wasm])
}

fn serve_with(args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeplay"))
        .arg("serve")
        .args(args)
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("edgeplay serve starts");
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    log.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("Listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    Served { child, base, log }
}

/// One HTTP/1.1 request over a plain socket: the raw response and when each read arrived.
fn get(base: &str, path: &str) -> (String, Vec<(Duration, usize)>) {
    request(base, "GET", path)
}

fn request(base: &str, method: &str, path: &str) -> (String, Vec<(Duration, usize)>) {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        // One Host whatever the port, so a restarted server sees the same cache keys.
        "{method} {path} HTTP/1.1\r\nHost: edgeplay.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let started = Instant::now();
    let mut response = Vec::new();
    let mut arrivals = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).expect("the server answers");
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        arrivals.push((started.elapsed(), response.len()));
    }
    (String::from_utf8_lossy(&response).into_owned(), arrivals)
}

#[test]
fn serve_answers_each_request_from_a_fresh_instance() {
    let Some(hello) = guest("hello") else { return };
    let mut served = serve(&hello);
    for _ in 0..2 {
        let (response, _) = get(&served.base, "/");
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("\r\ncontent-length: 21\r\n"),
            "{response}"
        );
        assert!(
            response.ends_with("\r\n\r\nHello from Edgeplay!\n"),
            "{response}"
        );
        let mut line = String::new();
        served.log.read_line(&mut line).unwrap();
        assert!(
            line.starts_with("GET / 200 "),
            "the request log line: {line:?}"
        );
    }
}

#[test]
fn serve_streams_chunks_as_the_guest_writes_them() {
    let Some(streaming) = guest("streaming") else {
        return;
    };
    let served = serve(&streaming);
    let (response, arrivals) = get(&served.base, "/stream");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("\r\ntransfer-encoding: chunked\r\n"),
        "{response}"
    );
    for i in 1..=5 {
        assert!(
            response.contains(&format!("chunk {i} of 5\n")),
            "{response}"
        );
    }
    assert!(
        response.ends_with("\r\n0\r\n\r\n"),
        "the chunked body is terminated: {response:?}"
    );
    // The guest writes a chunk every 200 ms: the first must arrive long before the last.
    let first = arrivals
        .iter()
        .find(|(_, len)| response[..*len].contains("chunk 1 of 5"))
        .unwrap()
        .0;
    let last = arrivals.last().unwrap().0;
    assert!(
        last - first >= Duration::from_millis(500),
        "arrivals {arrivals:?}"
    );
}

/// Sends a streaming response, writes one chunk, computes for a while (the server forwards
/// the chunk meanwhile), then traps.
const FAILS_MID_STREAM: &str = r#"(module
  (import "fastly_http_resp" "new" (func $resp_new (param i32) (result i32)))
  (import "fastly_http_body" "new" (func $body_new (param i32) (result i32)))
  (import "fastly_http_resp" "send_downstream" (func $send (param i32 i32 i32) (result i32)))
  (import "fastly_http_body" "write" (func $write (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "first chunk\n")
  (func (export "_start") (local $i i32)
    (drop (call $resp_new (i32.const 0)))
    (drop (call $body_new (i32.const 4)))
    (drop (call $send (i32.load (i32.const 0)) (i32.load (i32.const 4)) (i32.const 1)))
    (drop (call $write (i32.load (i32.const 4)) (i32.const 64) (i32.const 12) (i32.const 0) (i32.const 8)))
    (loop $spin
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $spin (i32.lt_u (local.get $i) (i32.const 5000000))))
    unreachable))"#;

#[test]
fn serve_cuts_off_a_stream_whose_guest_fails() {
    let wasm = scratch(
        "fails-mid-stream.wasm",
        &wat::parse_str(FAILS_MID_STREAM).unwrap(),
    );
    let mut served = serve(wasm.to_str().unwrap());
    let (response, _) = get(&served.base, "/");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains("\r\n\r\nc\r\nfirst chunk\n\r\n"),
        "the chunk went out: {response:?}"
    );
    assert!(
        !response.ends_with("0\r\n\r\n"),
        "the body must not look complete: {response:?}"
    );
    let mut log = String::new();
    while !log.contains("error trap") {
        assert!(served.log.read_line(&mut log).unwrap() > 0, "{log}");
    }
    assert!(log.starts_with("GET / 200 "), "{log}");
}

/// `edgeplay relay` on a free port; the address it prints.
fn relay() -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgeplay"))
        .args(["relay", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("edgeplay relay starts");
    let mut log = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    log.read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("Relaying on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
    Served { child, base, log }
}

fn raw(base: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(base.strip_prefix("http://").unwrap()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn relay_carries_what_fetch_cannot_both_ways() {
    let origin = origin();
    let relay = relay();
    let addr = relay.base.strip_prefix("http://").unwrap().to_string();
    let response = raw(
        &relay.base,
        &format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nx-edgeplay-target: {}/api?q=1\r\nx-edgeplay-h-host: www.example.test\r\n\
             x-edgeplay-h-cookie: session=abc\r\nConnection: close\r\n\r\n",
            origin.url
        ),
    );
    let seen = origin.requests.lock().unwrap().join("\n").to_ascii_lowercase();
    assert!(seen.starts_with("get /api?q=1 http/1.1"), "{seen}");
    assert!(seen.contains("host: www.example.test"), "the origin sees the guest's Host: {seen}");
    assert!(seen.contains("cookie: session=abc"), "{seen}");
    let lower = response.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{response}");
    assert!(lower.contains("access-control-allow-origin: *"), "{response}");
    assert!(lower.contains("x-edgeplay-h-cache-control: private"), "origin headers ride under the prefix: {response}");
    assert!(response.ends_with("from the origin"), "{response}");
}

#[test]
fn relay_answers_preflights_and_reports_failures() {
    let relay = relay();
    let preflight = raw(&relay.base, "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").to_ascii_lowercase();
    assert!(preflight.starts_with("http/1.1 204"), "{preflight}");
    assert!(preflight.contains("access-control-allow-headers: *"), "{preflight}");
    let refused = raw(
        &relay.base,
        "GET / HTTP/1.1\r\nHost: x\r\nx-edgeplay-target: http://127.0.0.1:9/\r\nConnection: close\r\n\r\n",
    )
    .to_ascii_lowercase();
    assert!(refused.starts_with("http/1.1 502"), "{refused}");
    assert!(refused.contains("x-edgeplay-error: connection refused"), "{refused}");
    let no_target = raw(&relay.base, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(no_target.starts_with("HTTP/1.1 400"), "{no_target}");
}

/// The request's log block from `serve`: its first line and the indented lines under it.
fn log_block(served: &mut Served) -> String {
    let mut block = String::new();
    served.log.read_line(&mut block).unwrap();
    loop {
        let buffered = served.log.buffer();
        if buffered.is_empty() || !buffered.starts_with(b"  ") {
            return block;
        }
        served.log.read_line(&mut block).unwrap();
    }
}

#[test]
fn serve_caches_like_the_edge_and_keeps_the_cache_across_restarts() {
    let Some(proxy) = guest("caching-proxy") else {
        return;
    };
    let origin = origin_answering("public, max-age=300");
    let config = format!(r#"{{ "backends": {{ "httpme": {{ "url": "{}" }} }} }}"#, origin.url);
    let config = scratch("caching-proxy-serve.json", config.as_bytes());
    let state = std::env::temp_dir().join(format!("edgeplay-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let args = ["--config", config.to_str().unwrap(), "--state", state.to_str().unwrap()];
    let calls = || origin.count.load(Ordering::SeqCst);
    {
        let mut served = serve_with(&[&proxy, args[0], args[1], args[2], args[3]]);
        let (first, _) = get(&served.base, "/api");
        assert!(first.ends_with("from the origin"), "{first}");
        assert!(log_block(&mut served).contains("cache | MISS"));
        let (second, _) = get(&served.base, "/api");
        assert!(second.ends_with("from the origin"), "{second}");
        let log = log_block(&mut served);
        assert!(log.contains("cache | HIT"), "{log}");
        assert_eq!(calls(), 1, "the second request was a hit: the origin saw one request");
    }
    {
        let mut served = serve_with(&[&proxy, args[0], args[1], args[2], args[3]]);
        get(&served.base, "/api");
        assert_eq!(calls(), 1, "after a restart the cache still holds the object");
        log_block(&mut served);
        let (purged, _) = request(&served.base, "POST", "/purge/edgeplay");
        assert!(purged.ends_with("purged edgeplay\n"), "{purged}");
        log_block(&mut served);
        get(&served.base, "/api");
        assert_eq!(calls(), 2, "purged by surrogate key: a miss again");
    }
    {
        let _served = serve_with(&[&proxy, args[0], args[1], args[2], args[3], "--reset"]);
        get(&_served.base, "/api");
        assert_eq!(calls(), 3, "--reset starts from an empty cache");
    }
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn serve_fetches_a_private_response_every_time() {
    let Some(proxy) = guest("caching-proxy") else {
        return;
    };
    let origin = origin();
    let config = format!(r#"{{ "backends": {{ "httpme": {{ "url": "{}" }} }} }}"#, origin.url);
    let config = scratch("caching-proxy-private.json", config.as_bytes());
    let served = serve_with(&[&proxy, "--config", config.to_str().unwrap()]);
    for n in 1..=3 {
        get(&served.base, "/me");
        assert_eq!(origin.count.load(Ordering::SeqCst), n);
    }
}
