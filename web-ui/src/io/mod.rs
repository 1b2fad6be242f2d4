//! The browser side of I/O: backend requests through `fetch`, clocks and randomness, IndexedDB.

pub mod fetch;
pub mod idb;
pub mod platform;
