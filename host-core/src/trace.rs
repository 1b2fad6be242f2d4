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
    Blocked,
    Resumed,
    /// The response head went downstream.
    ResponseSent { status: u16, streaming: bool },
    /// The last byte of the response went downstream.
    ResponseFinished { body_bytes: usize },
    /// The instance took a further client request (a reusable sandbox): what follows serves it.
    NextRequest { method: String, url: String },
    /// A readthrough cache decision for send `io`: looked up, stored, or not stored and why.
    Cache { io: IoId, outcome: CacheOutcome, key: String, age_s: u64, ttl_left_s: i64, hits: u64, note: String },
    /// The guest purged the cache by surrogate key.
    Purge { surrogate_key: String, soft: bool, purged: usize },
    /// A KV store operation (lookup, insert, delete, list) and how it ended, e.g. `found, 12 B,
    /// generation 3` or `precondition failed`.
    Kv { op: &'static str, store: String, key: String, outcome: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Served from cache, fresh.
    Hit,
    /// Not in cache (or expired): fetched from the backend.
    Miss,
    /// Not looked up (a pass override, or a method the cache skips).
    Pass,
    /// Served stale within stale-while-revalidate.
    Stale,
    /// Waited for an identical request already fetching the object.
    Collapsed,
    /// The backend's response was stored.
    Stored,
    /// The backend's response was not stored (the note says why).
    NotStored,
}

impl CacheOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "HIT",
            CacheOutcome::Miss => "MISS",
            CacheOutcome::Pass => "PASS",
            CacheOutcome::Stale => "STALE",
            CacheOutcome::Collapsed => "COLLAPSED",
            CacheOutcome::Stored => "STORED",
            CacheOutcome::NotStored => "NOT STORED",
        }
    }
}

/// One backend request as people read it: when it left and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendCall {
    pub io: IoId,
    pub backend: String,
    pub method: String,
    pub url: String,
    pub mock: bool,
    pub start_ms: f64,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub body_bytes: Option<usize>,
    /// From leaving to the answer; `None` when no answer came before the request ended.
    pub ms: Option<f64>,
}

impl Trace {
    /// The backend requests, in the order they left, each with its outcome.
    pub fn backend_calls(&self) -> Vec<BackendCall> {
        let mut calls: Vec<BackendCall> = Vec::new();
        for event in &self.events {
            match &event.kind {
                EventKind::BackendRequest { io, backend, method, url, mock } => calls.push(BackendCall {
                    io: *io,
                    backend: backend.clone(),
                    method: method.clone(),
                    url: url.clone(),
                    mock: *mock,
                    start_ms: event.at_ms,
                    status: None,
                    error: None,
                    body_bytes: None,
                    ms: None,
                }),
                EventKind::BackendResponse { io, status, body_bytes } => {
                    if let Some(call) = calls.iter_mut().find(|c| c.io == *io) {
                        call.status = Some(*status);
                        call.body_bytes = Some(*body_bytes);
                        call.ms = Some(event.at_ms - call.start_ms);
                    }
                }
                EventKind::BackendError { io, error } => {
                    if let Some(call) = calls.iter_mut().find(|c| c.io == *io) {
                        call.error = Some(error.clone());
                        call.ms = Some(event.at_ms - call.start_ms);
                    }
                }
                _ => {}
            }
        }
        calls
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_calls_pair_each_request_with_its_outcome() {
        let mut trace = Trace::default();
        let request = |io: IoId| EventKind::BackendRequest {
            io,
            backend: alloc::format!("b{io}"),
            method: "GET".into(),
            url: "https://origin/".into(),
            mock: false,
        };
        trace.push(1.0, request(1));
        trace.push(2.0, request(2));
        trace.push(5.0, EventKind::BackendError { io: 2, error: "refused".into() });
        trace.push(9.0, EventKind::BackendResponse { io: 1, status: 204, body_bytes: 0 });
        trace.push(9.5, request(3));
        let calls = trace.backend_calls();
        let summary: alloc::vec::Vec<_> =
            calls.iter().map(|c| (c.backend.as_str(), c.status, c.error.as_deref(), c.ms)).collect();
        assert_eq!(
            summary,
            [("b1", Some(204), None, Some(8.0)), ("b2", None, Some("refused"), Some(3.0)), ("b3", None, None, None)]
        );
    }
}
