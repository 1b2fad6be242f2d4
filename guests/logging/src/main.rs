//! logging: one line to each place a guest can write to.
//!
//! Contract — any request:
//!   log endpoint `my_endpoint` gets exactly one write: "request received: <METHOD> <path>\n"
//!     (e.g. "request received: GET /hello\n"; the path excludes the query string)
//!   stdout gets "logging guest: hello on stdout\n"
//!   stderr gets "logging guest: hello on stderr\n"
//!   then: status 200, content-type: text/plain; charset=utf-8, body "logged 3 lines\n"

use std::io::{BufWriter, Write};

use fastly::log::Endpoint;
use fastly::{Error, Request, Response};

#[fastly::main]
fn main(req: Request) -> Result<Response, Error> {
    // Every `write` on an `Endpoint` is its own log record, and `writeln!` with arguments
    // writes each literal piece and argument separately. Buffering the line and flushing it
    // once hands the host the whole line in a single write.
    let mut log = BufWriter::new(Endpoint::from_name("my_endpoint"));
    writeln!(
        log,
        "request received: {} {}",
        req.get_method_str(),
        req.get_path()
    )?;
    log.flush()?;

    println!("logging guest: hello on stdout");
    eprintln!("logging guest: hello on stderr");

    Ok(Response::from_status(200).with_body_text_plain("logged 3 lines\n"))
}
