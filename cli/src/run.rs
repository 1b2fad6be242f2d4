//! `edgeplay run`: one request through a guest.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use host_core::http::ResponseHead;
use host_core::native::{drive, StdPlatform};
use host_core::{DownstreamRequest, GuestError, GuestErrorKind, Outcome};

use crate::backends::Network;
use crate::state_dir;
use crate::{load, report};

#[derive(clap::Args)]
pub struct RunArgs {
    /// The guest module (a `wasm32-wasip1` build).
    wasm: PathBuf,
    /// The config: JSON, or a `fastly.toml` (its `[local_server]` section).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The request method [default: GET, or POST with --data].
    #[arg(short = 'X', long, value_name = "METHOD")]
    request: Option<String>,
    /// A request header, `Name: value`; repeat for more.
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// The request body; `@FILE` reads it from a file, `@-` from stdin.
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    data: Option<String>,
    /// Print one JSON object: status, headers, body, output, logs, error, stats and trace.
    #[arg(long)]
    json: bool,
    /// Keep KV stores and the cache in this directory between runs (see `serve --state`).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Start from the config's initial store values, discarding what `--state` holds.
    #[arg(long, requires = "state")]
    reset: bool,
    /// The request URL; a bare path like `/api` means `http://localhost/api`.
    #[arg(default_value = "http://localhost/")]
    url: String,
}

pub fn run(args: RunArgs) -> Result<ExitCode, String> {
    let config = load::config(args.config.as_deref())?;
    let module = load::module(&args.wasm, &config)?;
    let request = downstream_request(&args)?;
    let (state, stores) = state_dir::stores(args.state.as_deref(), &config, args.reset)?;
    let config = Arc::new(config);
    let outcome = match module.start(config.clone(), request, StdPlatform::new(), stores.clone()) {
        Ok(session) => drive(session, Arc::new(Network::new()), |_| {}),
        Err(message) => not_started(message),
    };
    if let Some(state) = &state {
        state.save(&stores, &config)?;
    }
    print(&outcome, args.json);
    Ok(if outcome.error.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A guest that could not even be instantiated answers like one that failed at once.
fn not_started(message: String) -> Outcome {
    Outcome {
        response: ResponseHead {
            status: 500,
            ..ResponseHead::default()
        },
        body: Vec::new(),
        next_responses: Vec::new(),
        error: Some(GuestError {
            kind: GuestErrorKind::Trap,
            message,
        }),
        stdout: Vec::new(),
        stderr: Vec::new(),
        stdout_times: Vec::new(),
        stderr_times: Vec::new(),
        logs: Default::default(),
        trace: Default::default(),
        stats: Default::default(),
    }
}

fn print(outcome: &Outcome, json: bool) {
    let mut stdout = std::io::stdout().lock();
    if json {
        let _ = writeln!(stdout, "{}", report::to_json(outcome));
        return;
    }
    let _ = stdout.write_all(&report::head_text(&outcome.response));
    let _ = stdout.write_all(&outcome.body);
    let _ = stdout.flush();
    // On a terminal the two streams share the screen: start the report on a line of its own.
    let separator = if outcome.body.last().is_some_and(|&b| b != b'\n') {
        "\n"
    } else {
        ""
    };
    eprint!("{separator}{}", report::diagnostics(outcome));
}

fn downstream_request(args: &RunArgs) -> Result<DownstreamRequest, String> {
    let url = if args.url.starts_with('/') {
        format!("http://localhost{}", args.url)
    } else {
        args.url.clone()
    };
    let authority = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .map(|rest| &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())])
        .filter(|authority| !authority.is_empty())
        .ok_or_else(|| {
            format!("{url}: the URL must start with http:// or https:// and name a host")
        })?;
    let mut headers = Vec::new();
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .filter(|(name, _)| host_core::http::is_valid_header_name(name.as_bytes()))
            .ok_or_else(|| format!("-H {header:?}: a header is `Name: value`"))?;
        headers.push((name.to_string(), value.trim().as_bytes().to_vec()));
    }
    // Like curl, the request carries the URL's host unless -H gives another.
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        headers.insert(0, ("host".to_string(), authority.as_bytes().to_vec()));
    }
    let body = match &args.data {
        None => Vec::new(),
        Some(data) => read_data(data)?,
    };
    let method = match (&args.request, &args.data) {
        (Some(method), _) => method.clone(),
        (None, Some(_)) => "POST".to_string(),
        (None, None) => "GET".to_string(),
    };
    if !host_core::http::is_valid_method(method.as_bytes()) {
        return Err(format!("-X {method:?}: not a valid HTTP method"));
    }
    Ok(DownstreamRequest {
        method,
        url,
        headers,
        body,
        client_ip: None,
    })
}

/// `-d text`, `-d @file`, `-d @-`.
fn read_data(data: &str) -> Result<Vec<u8>, String> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| format!("reading the body from stdin: {e}"))?;
            Ok(body)
        }
        Some(file) => std::fs::read(Path::new(file)).map_err(|e| format!("{file}: {e}")),
        None => Ok(data.as_bytes().to_vec()),
    }
}
