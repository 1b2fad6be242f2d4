//! What happened during a request, as data the CLI prints and the page draws.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::io::IoId;

#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// Events in the order they happened; times are milliseconds since the request started.
    pub events: Vec<TraceEvent>,
    /// How often each hostcall was made, keyed by (module, name).
    pub hostcalls: BTreeMap<(&'static str, &'static str), u32>,
    /// Calls to imports linked as unsupported, keyed by `module::name`.
    pub unsupported: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    pub at_ms: f64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// A backend request left (or, for a mock backend, was answered from the config).
    BackendRequest { io: IoId, backend: String, method: String, url: String, mock: bool },
    BackendResponse { io: IoId, status: u16, body_bytes: usize },
    BackendError { io: IoId, error: String },
    /// The guest asked to sleep (`poll_oneoff`) or to wait with a timeout.
    Sleep { io: IoId, ms: u64 },
    /// The guest is waiting on I/O; the matching `Resumed` ends the wait.
    Blocked { on: &'static str },
    Resumed,
    /// The response head went downstream.
    ResponseSent { status: u16, streaming: bool },
    /// The last byte of the response went downstream.
    ResponseFinished { body_bytes: usize },
}

impl Trace {
    pub fn count_hostcall(&mut self, module: &'static str, name: &'static str) {
        *self.hostcalls.entry((module, name)).or_insert(0) += 1;
    }

    pub fn push(&mut self, at_ms: f64, kind: EventKind) {
        self.events.push(TraceEvent { at_ms, kind });
    }

    pub fn total_hostcalls(&self) -> u64 {
        self.hostcalls.values().map(|&n| n as u64).sum()
    }
}
