//! inspector: echoes the request it received, and what the guest can see of its world.
//!
//! Contract — any method, any URL, any body:
//!   status 200
//!   content-type: application/json
//!   body: pretty-printed JSON (2-space indent; each header pair on one line, as
//!   `["name", "value"]`) followed by "\n", keys in this order:
//!     "method"     the method, e.g. "POST"
//!     "url"        the full URL, as the guest sees it
//!     "path"       the URL path, e.g. "/echo"
//!     "query"      the raw query string without "?", or null when the URL has none
//!     "headers"    [[name, value], ...]; names lowercase, in the order the host lists the
//!                  names, a repeated header's values together under its first position
//!     "body"       the request body as text (invalid UTF-8 replaced with U+FFFD)
//!     "client_ip"  the downstream client address, or null
//!     "env"        { FASTLY_HOSTNAME, FASTLY_POP, FASTLY_REGION, FASTLY_SERVICE_ID,
//!                    FASTLY_SERVICE_VERSION, FASTLY_TRACE_ID } → value, or null when unset
//!     "greeting"   key `greeting` of config store `settings`, or null when the store or the
//!                  key is missing

use std::collections::BTreeMap;
use std::io;

use fastly::{ConfigStore, Error, Request, Response};
use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

const ENV_VARS: [&str; 6] = [
    "FASTLY_HOSTNAME",
    "FASTLY_POP",
    "FASTLY_REGION",
    "FASTLY_SERVICE_ID",
    "FASTLY_SERVICE_VERSION",
    "FASTLY_TRACE_ID",
];

#[derive(Serialize)]
struct Echo {
    method: String,
    url: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
    client_ip: Option<String>,
    env: BTreeMap<&'static str, Option<String>>,
    greeting: Option<String>,
}

#[fastly::main]
fn main(mut req: Request) -> Result<Response, Error> {
    let headers = req
        .get_headers()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();

    let echo = Echo {
        method: req.get_method_str().to_owned(),
        url: req.get_url_str().to_owned(),
        path: req.get_path().to_owned(),
        query: req.get_query_str().map(str::to_owned),
        headers,
        // The lossy variant: the strict one panics on a body that is not UTF-8.
        body: req.take_body_str_lossy(),
        client_ip: req.get_client_ip_addr().map(|ip| ip.to_string()),
        env: ENV_VARS
            .iter()
            .map(|&k| (k, std::env::var(k).ok()))
            .collect(),
        // `ConfigStore::open`/`get` panic on a missing store; the `try_` forms let us say null.
        greeting: ConfigStore::try_open("settings")
            .ok()
            .and_then(|store| store.try_get("greeting").ok().flatten()),
    };

    let mut body = Vec::new();
    echo.serialize(&mut serde_json::Serializer::with_formatter(
        &mut body,
        PairsInline::default(),
    ))?;
    body.push(b'\n');
    Ok(Response::from_status(200)
        .with_content_type(fastly::mime::APPLICATION_JSON)
        .with_body(body))
}

/// serde_json's pretty printer, except that an array directly inside another array is kept on
/// one line: a header then reads `["accept", "*/*"]` instead of taking four lines.
#[derive(Default)]
struct PairsInline {
    pretty: PrettyFormatter<'static>,
    /// One entry per open array: whether it is written inline.
    arrays: Vec<bool>,
    /// Whether the innermost open container is an array (objects reset it).
    in_array: Vec<bool>,
}

impl PairsInline {
    fn inline(&self) -> bool {
        self.arrays.last().copied().unwrap_or(false)
    }
}

impl Formatter for PairsInline {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        let inline = self.in_array.last().copied().unwrap_or(false);
        self.arrays.push(inline);
        self.in_array.push(true);
        if inline {
            w.write_all(b"[")
        } else {
            self.pretty.begin_array(w)
        }
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_array.pop();
        if self.arrays.pop().unwrap_or(false) {
            w.write_all(b"]")
        } else {
            self.pretty.end_array(w)
        }
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        match (self.inline(), first) {
            (true, true) => Ok(()),
            (true, false) => w.write_all(b", "),
            (false, _) => self.pretty.begin_array_value(w, first),
        }
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.inline() {
            Ok(())
        } else {
            self.pretty.end_array_value(w)
        }
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_array.push(false);
        self.pretty.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.in_array.pop();
        self.pretty.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}
