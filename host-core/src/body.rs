//! HTTP bodies as the guest sees them: a byte buffer read from the front, written at either end.

use alloc::vec::Vec;

use crate::http::Headers;

/// Where a body's bytes go when the guest writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRole {
    /// Held in memory: a new body, a downstream request body, a backend response body.
    Buffer,
    /// The body of a response streaming to the client (`send_downstream(.., streaming=1)`):
    /// writes go out at once, closing ends the response.
    StreamingDownstream,
    /// The body of a request streaming to a backend (`send_async_streaming`). Its bytes are
    /// buffered and the request leaves when the guest closes the body.
    StreamingToBackend,
}

#[derive(Debug, Clone)]
pub struct Body {
    data: Vec<u8>,
    /// Bytes before this index have been read.
    read_pos: usize,
    pub trailers: Headers,
    pub role: BodyRole,
}

impl Body {
    pub fn new() -> Body {
        Body::from_bytes(Vec::new())
    }

    pub fn from_bytes(data: Vec<u8>) -> Body {
        Body { data, read_pos: 0, trailers: Headers::new(), role: BodyRole::Buffer }
    }

    /// The unread bytes.
    pub fn remaining(&self) -> &[u8] {
        &self.data[self.read_pos..]
    }

    pub fn len(&self) -> usize {
        self.data.len() - self.read_pos
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves up to `max` unread bytes out; an empty result means the end of the body.
    pub fn read(&mut self, max: usize) -> &[u8] {
        let start = self.read_pos;
        let end = start + max.min(self.len());
        self.read_pos = end;
        &self.data[start..end]
    }

    pub fn write_back(&mut self, bytes: &[u8]) {
        self.compact();
        self.data.extend_from_slice(bytes);
    }

    pub fn write_front(&mut self, bytes: &[u8]) {
        self.compact();
        self.data.splice(0..0, bytes.iter().copied());
    }

    /// Takes the unread bytes, leaving the body empty.
    pub fn take(&mut self) -> Vec<u8> {
        self.compact();
        core::mem::take(&mut self.data)
    }

    /// The length when every byte is known: a buffered body. Streams have none.
    pub fn known_length(&self) -> Option<u64> {
        match self.role {
            BodyRole::Buffer => Some(self.len() as u64),
            _ => None,
        }
    }

    /// Drops the bytes already read, so buffers do not grow without end while a guest
    /// reads and writes in turns.
    fn compact(&mut self) {
        if self.read_pos > 0 {
            self.data.drain(..self.read_pos);
            self.read_pos = 0;
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::new()
    }
}
