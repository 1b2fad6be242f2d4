//! hello: the smallest useful guest.
//!
//! Contract — any method, any URL, any body:
//!   status 200
//!   content-type: text/plain; charset=utf-8
//!   body "Hello from Edgeplay!\n"

use fastly::{Error, Request, Response};

#[fastly::main]
fn main(_req: Request) -> Result<Response, Error> {
    // `with_body_text_plain` also sets `content-type: text/plain; charset=utf-8`.
    Ok(Response::from_status(200).with_body_text_plain("Hello from Edgeplay!\n"))
}
