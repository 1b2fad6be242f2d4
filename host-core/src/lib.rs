//! host-core: the Fastly Compute ABI as a sans-I/O state machine over the wasmi interpreter.
//!
//! ```text
//! let module = GuestModule::compile(&wasm, &options)?;          // validate + link once
//! let mut session = module.start(config, request, platform, stores)?; // fresh instance per request
//! loop {
//!     match session.step(FUEL_SLICE) {
//!         Step::Io(op)   => start op; its result goes to session.complete(op.id, result),
//!         Step::Blocked  => wait for any started op to complete, then complete() it,
//!         Step::Yield    => let the event loop breathe; honour cancel,
//!         Step::Done(outcome) => break outcome,
//!     }
//! }
//! ```
#![no_std]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod abi;
pub mod body;
pub mod bridge;
pub mod cache;
pub mod config;
pub mod handles;
pub mod http;
pub mod io;
pub mod ip;
pub mod module;
pub mod session;
pub mod state;
pub mod status;
pub mod stores;
pub mod trace;
#[cfg(feature = "std")]
pub mod native;

pub use bridge::{Answer, BridgeSession};
pub use config::{Config, ConfigError};
pub use io::{BackendRequest, BackendResponse, FetchError, FetchErrorKind, IoId, IoKind, IoRequest, IoResult};
pub use module::{CompileOptions, GuestModule, ImportInfo, ImportStatus, ModuleError, ModuleInfo};
pub use session::{GuestError, GuestErrorKind, Outcome, ServedResponse, Session, Stats, Step};
pub use state::{DownstreamRequest, LogLine, Platform};
pub use stores::{Change, SharedStores, Stores};
