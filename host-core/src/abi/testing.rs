//! Calling hostcalls directly in unit tests: a state, a flat guest memory, and helpers to
//! place arguments in it and read results out.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::{AbiResult, Cx, GuestMemory};
use crate::config::Config;
use crate::state::{DownstreamRequest, Platform, State};
use crate::status::Status;

/// A clock that only moves when a test moves it, and fixed "random" bytes.
pub struct FixedPlatform;

impl Platform for FixedPlatform {
    fn monotonic_ms(&self) -> f64 {
        0.0
    }
    fn unix_time_ns(&self) -> u64 {
        1_700_000_000_000_000_000
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    }
}

pub struct TestGuest {
    pub state: State,
    pub memory: Vec<u8>,
    /// Next free byte for `put`.
    next: u32,
}

impl Default for TestGuest {
    fn default() -> Self {
        TestGuest::new()
    }
}

impl TestGuest {
    pub fn new() -> TestGuest {
        TestGuest::with_config(Config::default(), DownstreamRequest::get("http://localhost/"))
    }

    pub fn with_config(config: Config, request: DownstreamRequest) -> TestGuest {
        let state = State::new(Arc::new(config.clone()), Arc::new(FixedPlatform), crate::stores::Stores::shared(&config), request);
        TestGuest { state, memory: vec![0; 64 * 1024], next: 1024 }
    }

    /// Copies `bytes` into guest memory: returns (ptr, len).
    pub fn put(&mut self, bytes: impl AsRef<[u8]>) -> (u32, u32) {
        let bytes = bytes.as_ref();
        let ptr = self.next;
        self.memory[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
        self.next += (bytes.len() as u32 + 7) & !7;
        (ptr, bytes.len() as u32)
    }

    /// Reserves `len` zeroed bytes: returns the pointer.
    pub fn alloc(&mut self, len: u32) -> u32 {
        self.put(vec![0u8; len as usize]).0
    }

    pub fn u32_at(&self, ptr: u32) -> u32 {
        u32::from_le_bytes(self.memory[ptr as usize..ptr as usize + 4].try_into().unwrap())
    }

    pub fn i64_at(&self, ptr: u32) -> i64 {
        i64::from_le_bytes(self.memory[ptr as usize..ptr as usize + 8].try_into().unwrap())
    }

    pub fn bytes_at(&self, ptr: u32, len: u32) -> &[u8] {
        &self.memory[ptr as usize..(ptr + len) as usize]
    }

    pub fn string_at(&self, ptr: u32, len: u32) -> String {
        String::from_utf8_lossy(self.bytes_at(ptr, len)).into_owned()
    }

    /// Runs one hostcall against this guest.
    pub fn call(&mut self, f: impl FnOnce(&mut Cx<'_>) -> AbiResult) -> AbiResult {
        let mut cx = Cx { mem: GuestMemory::new(&mut self.memory), st: &mut self.state };
        f(&mut cx)
    }

    /// Runs one hostcall and returns the status the guest would see.
    pub fn status(&mut self, f: impl FnOnce(&mut Cx<'_>) -> AbiResult) -> Status {
        match self.call(f) {
            Ok(()) => Status::Ok,
            Err(super::AbiError::Status(status)) => status,
            Err(other) => panic!("expected a status, got {other:?}"),
        }
    }
}
