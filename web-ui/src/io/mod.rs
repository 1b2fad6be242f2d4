//! The browser side of I/O: backend requests through `fetch`, clocks and randomness.

pub mod fetch;
pub mod platform;
