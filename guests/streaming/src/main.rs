//! streaming: sends the response head at once, then the body a piece at a time.
//!
//! Contract — any request:
//!   status 200
//!   content-type: text/plain; charset=utf-8
//!   body "chunk 1 of 5\n" … "chunk 5 of 5\n" (65 bytes), each line written and flushed
//!   separately, with a 200 ms sleep between consecutive chunks (4 sleeps, ~800 ms in all;
//!   none before the first chunk or after the last). The body is then finished normally.

use std::io::Write;
use std::time::Duration;

use fastly::Response;

const CHUNKS: u32 = 5;

fn main() -> std::io::Result<()> {
    // The status and headers go out now; the body follows as it is written.
    let mut body = Response::from_status(200)
        .with_content_type(fastly::mime::TEXT_PLAIN_UTF_8)
        .stream_to_client();

    for i in 1..=CHUNKS {
        if i > 1 {
            // Under WASI this is a poll_oneoff clock wait: the host sees the guest idle.
            std::thread::sleep(Duration::from_millis(200));
        }
        writeln!(body, "chunk {i} of {CHUNKS}")?;
        // The streaming body is buffered; flush so each chunk leaves as it is written.
        body.flush()?;
    }

    // Dropping a streaming body without finishing it aborts the response.
    body.finish()
}
