//! The hostcalls: one file per `fastly_*` import module, plus WASI.
//!
//! A hostcall is a plain function `fn(cx: &mut Cx, args…) -> AbiResult` that reads like the
//! production documentation. [`Registry::func`] wraps it for wasmi: it lends the guest's
//! memory and the request state as a [`Cx`], turns the result into the status code the guest
//! sees, and turns a hostcall that must wait into a suspension of the guest (DESIGN.md).

pub mod memory;
#[cfg(test)]
pub mod testing;

pub mod acl;
pub mod async_io;
pub mod backend;
pub mod cache;
pub mod compute_runtime;
pub mod config_store;
pub mod device_detection;
pub mod dictionary;
pub mod dynamic_backends;
pub mod erl;
pub mod fastly_abi;
pub mod geo;
pub mod headers;
pub mod http_body;
pub mod http_cache;
pub mod http_downstream;
pub mod http_req;
pub mod http_resp;
pub mod kv_lookup;
pub mod kv_store;
pub mod log;
pub mod purge;
pub mod uap;
pub mod object_store;
pub mod secret_store;
pub mod unsupported;
pub mod wasi;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use wasmi::{Caller, FuncType, Linker, ValType};

pub use self::memory::GuestMemory;
use crate::state::State;
use crate::status::{Errno, Status};

/// What a hostcall works with: the guest's memory and the request's state.
pub struct Cx<'a> {
    pub mem: GuestMemory<'a>,
    pub st: &'a mut State,
}

/// A hostcall that cannot finish yet: called again each time I/O completes, until it
/// returns something other than `AbiError::Block`.
pub type Continuation = Box<dyn FnMut(&mut Cx<'_>) -> AbiResult + Send>;

/// Everything a hostcall can end with besides success.
pub enum AbiError {
    /// A `fastly_*` status code other than OK.
    Status(Status),
    /// A WASI errno other than SUCCESS.
    Errno(Errno),
    /// Waiting for I/O: suspend the guest and run this when something completes.
    Block(Continuation),
    /// Returned by a continuation that is still waiting: run it again after the next completion.
    Pending,
    /// `proc_exit`.
    Exit(i32),
    /// Stop the guest with this message (an unlinkable import called, a host limit hit).
    Trap(String),
}

pub type AbiResult = Result<(), AbiError>;

impl From<Status> for AbiError {
    fn from(status: Status) -> Self {
        AbiError::Status(status)
    }
}

impl From<Errno> for AbiError {
    fn from(errno: Errno) -> Self {
        AbiError::Errno(errno)
    }
}

impl fmt::Debug for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbiError::Status(s) => write!(f, "Status({s:?})"),
            AbiError::Errno(e) => write!(f, "Errno({e:?})"),
            AbiError::Block(_) => f.write_str("Block"),
            AbiError::Pending => f.write_str("Pending"),
            AbiError::Exit(code) => write!(f, "Exit({code})"),
            AbiError::Trap(why) => write!(f, "Trap({why})"),
        }
    }
}

/// Wraps a continuation: `block(move |cx| …)`.
pub fn block(k: impl FnMut(&mut Cx<'_>) -> AbiResult + Send + 'static) -> AbiError {
    AbiError::Block(Box::new(k))
}

/// Runs `k` now and, while it answers `AbiError::Pending`, again after each I/O completion:
/// the shape of every blocking hostcall (`send`, `pending_req_wait`, `select`, sleeps).
pub fn wait_until(cx: &mut Cx<'_>, mut k: impl FnMut(&mut Cx<'_>) -> AbiResult + Send + 'static) -> AbiResult {
    match k(cx) {
        Err(AbiError::Pending) => Err(block(k)),
        done => done,
    }
}

/// How a hostcall hands control back to the session instead of returning to the guest.
/// Carried through wasmi as a host error; the session resumes the guest afterwards.
#[derive(Debug)]
pub enum Suspend {
    /// The hostcall finished with this code, but queued I/O the embedder should start now.
    Ready(u32),
    /// The hostcall is waiting; its continuation is in `State::blocked`.
    Blocked,
    Exit(i32),
    Trap(String),
}

impl fmt::Display for Suspend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Suspend::Ready(_) | Suspend::Blocked => f.write_str("guest suspended for I/O"),
            Suspend::Exit(code) => write!(f, "guest exited with code {code}"),
            Suspend::Trap(why) => f.write_str(why),
        }
    }
}

impl wasmi::errors::HostError for Suspend {}

/// Turns a hostcall's result into the code the guest sees, or the suspension.
pub(crate) fn settle(state: &mut State, result: AbiResult) -> Result<u32, Suspend> {
    let code = match result {
        Ok(()) => 0,
        Err(AbiError::Status(status)) => status as u32,
        Err(AbiError::Errno(errno)) => errno as u32,
        Err(AbiError::Block(k)) => {
            state.blocked = Some(k);
            return Err(Suspend::Blocked);
        }
        Err(AbiError::Exit(code)) => return Err(Suspend::Exit(code)),
        Err(AbiError::Trap(why)) => return Err(Suspend::Trap(why)),
        Err(AbiError::Pending) => return Err(Suspend::Trap("host bug: a hostcall waited without a continuation".into())),
    };
    if state.io.has_queued() {
        return Err(Suspend::Ready(code));
    }
    Ok(code)
}

/// Runs `f` as hostcall `module::name` with `mem` and the state: counts it, maps guest memory
/// faults the way its module reports them, settles the result. The same for every engine.
pub(crate) fn run_hostcall<'a>(
    mem: GuestMemory<'a>,
    state: &'a mut State,
    (module, name): (&'static str, &'static str),
    f: impl FnOnce(&mut Cx<'_>) -> AbiResult,
) -> Result<u32, Suspend> {
    state.trace.count_hostcall(module, name);
    let mut cx = Cx { mem, st: state };
    let result = match f(&mut cx) {
        // Guest memory faults are INVAL to the Compute ABI and EFAULT to WASI.
        Err(AbiError::Status(Status::Inval)) if module == wasi::MODULE => Err(Errno::Fault.into()),
        other => other,
    };
    settle(cx.st, result)
}

/// Runs `f` with the guest's memory and the state, as one hostcall under wasmi.
fn call(
    caller: &mut Caller<'_, State>,
    (module, name): (&'static str, &'static str),
    f: impl FnOnce(&mut Cx<'_>) -> AbiResult,
) -> Result<u32, wasmi::Error> {
    let Some(memory) = caller.data().memory else {
        return Err(wasmi::Error::host(Suspend::Trap(alloc::format!(
            "{module}::{name} was called, but the guest exports no memory named `memory`"
        ))));
    };
    let (bytes, state) = memory.data_and_store_mut(&mut *caller);
    run_hostcall(GuestMemory::new(bytes), state, (module, name), f).map_err(wasmi::Error::host)
}

/// A Rust type that stands for one wasm value type in a hostcall signature.
pub trait AbiTy: wasmi::WasmTy {
    const VAL: ValType;
    /// The value from its bits, as an engine that passes every argument as a `u64` holds it.
    fn from_bits(bits: u64) -> Self;
}
impl AbiTy for u32 {
    const VAL: ValType = ValType::I32;
    fn from_bits(bits: u64) -> Self {
        bits as u32
    }
}
impl AbiTy for i32 {
    const VAL: ValType = ValType::I32;
    fn from_bits(bits: u64) -> Self {
        bits as u32 as i32
    }
}
impl AbiTy for u64 {
    const VAL: ValType = ValType::I64;
    fn from_bits(bits: u64) -> Self {
        bits
    }
}
impl AbiTy for i64 {
    const VAL: ValType = ValType::I64;
    fn from_bits(bits: u64) -> Self {
        bits as i64
    }
}

/// A hostcall called with its arguments as bits (`i32`s zero-extended): how an engine other
/// than wasmi calls it. Arity is checked against the signature before the call.
pub type RawHostcall = Box<dyn Fn(&mut Cx<'_>, &[u64]) -> AbiResult + Send + Sync>;

/// One linked hostcall, as the coverage table and the import check see it.
#[derive(Debug, Clone)]
pub struct HostcallInfo {
    pub module: &'static str,
    pub name: &'static str,
    pub ty: FuncType,
}

/// Links hostcalls into a wasmi linker (when given one) and records each, callable without
/// wasmi, for the browser's own engine.
pub struct Registry<'l> {
    pub linker: Option<&'l mut Linker<State>>,
    pub linked: Vec<HostcallInfo>,
    pub calls: Vec<RawHostcall>,
}

/// A hostcall function of any arity: `fn(&mut Cx, args…) -> AbiResult`.
pub trait Hostcall<Args>: Copy + Send + Sync + 'static {
    fn link(self, linker: &mut Linker<State>, module: &'static str, name: &'static str);
    fn raw(self) -> RawHostcall;
    fn ty() -> FuncType;
}

macro_rules! impl_hostcall {
    ($($arg:ident: $ty:ident),*) => {
        impl<F, $($ty: AbiTy),*> Hostcall<($($ty,)*)> for F
        where
            F: Fn(&mut Cx<'_>, $($ty),*) -> AbiResult + Copy + Send + Sync + 'static,
        {
            fn link(self, linker: &mut Linker<State>, module: &'static str, name: &'static str) {
                linker
                    .func_wrap(module, name, move |mut caller: Caller<'_, State>, $($arg: $ty),*| {
                        call(&mut caller, (module, name), |cx| self(cx, $($arg),*))
                    })
                    .expect("each hostcall is linked once");
            }
            #[allow(unused_variables, unused_mut)]
            fn raw(self) -> RawHostcall {
                Box::new(move |cx: &mut Cx<'_>, args: &[u64]| {
                    let mut args = args.iter().copied();
                    $(let $arg = $ty::from_bits(args.next().unwrap_or(0));)*
                    self(cx, $($arg),*)
                })
            }
            fn ty() -> FuncType {
                FuncType::new([$($ty::VAL),*], [ValType::I32])
            }
        }
    };
}

impl_hostcall!();
impl_hostcall!(a: A);
impl_hostcall!(a: A, b: B);
impl_hostcall!(a: A, b: B, c: C);
impl_hostcall!(a: A, b: B, c: C, d: D);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G, h: H);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G, h: H, i: I);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G, h: H, i: I, j: J);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G, h: H, i: I, j: J, k: K);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G, h: H, i: I, j: J, k: K, l: L);
impl_hostcall!(a: A, b: B, c: C, d: D, e: E, g: G, h: H, i: I, j: J, k: K, l: L, m: M, n: N, o: O);

impl<'l> Registry<'l> {
    pub fn new(linker: &'l mut Linker<State>) -> Self {
        Registry { linker: Some(linker), linked: Vec::new(), calls: Vec::new() }
    }

    /// Records the hostcalls without linking them anywhere.
    pub fn recording() -> Registry<'static> {
        Registry { linker: None, linked: Vec::new(), calls: Vec::new() }
    }

    /// Links `proc_exit`, the one import that returns nothing: it never returns at all.
    pub fn exit(&mut self, module: &'static str, name: &'static str) {
        if let Some(linker) = self.linker.as_deref_mut() {
            linker
                .func_wrap(module, name, |mut caller: Caller<'_, State>, code: i32| -> Result<(), wasmi::Error> {
                    caller.data_mut().trace.count_hostcall("wasi_snapshot_preview1", "proc_exit");
                    Err(wasmi::Error::host(Suspend::Exit(code)))
                })
                .expect("each hostcall is linked once");
        }
        self.linked.push(HostcallInfo { module, name, ty: FuncType::new([ValType::I32], []) });
        self.calls.push(Box::new(|_, args| Err(AbiError::Exit(args.first().copied().unwrap_or(0) as u32 as i32))));
    }

    /// Links `f` as `module::name`.
    pub fn func<Args>(&mut self, module: &'static str, name: &'static str, f: impl Hostcall<Args>) {
        fn ty_of<Args, F: Hostcall<Args>>(_: &F) -> FuncType {
            F::ty()
        }
        let ty = ty_of(&f);
        if let Some(linker) = self.linker.as_deref_mut() {
            f.link(linker, module, name);
        }
        self.linked.push(HostcallInfo { module, name, ty });
        self.calls.push(f.raw());
    }
}

/// Every hostcall we implement, with its signature: for coverage tables.
pub fn implemented_hostcalls() -> Vec<HostcallInfo> {
    let mut registry = Registry::recording();
    link_all(&mut registry);
    registry.linked
}

/// Links every hostcall we implement.
pub fn link_all(registry: &mut Registry<'_>) {
    fastly_abi::link(registry);
    http_req::link(registry);
    http_resp::link(registry);
    http_body::link(registry);
    http_downstream::link(registry);
    async_io::link(registry);
    dictionary::link(registry);
    config_store::link(registry);
    kv_store::link(registry);
    object_store::link(registry);
    secret_store::link(registry);
    log::link(registry);
    purge::link(registry);
    backend::link(registry);
    cache::link(registry);
    http_cache::link(registry);
    dynamic_backends::link(registry);
    acl::link(registry);
    geo::link(registry);
    device_detection::link(registry);
    uap::link(registry);
    erl::link(registry);
    compute_runtime::link(registry);
    wasi::link(registry);
}
