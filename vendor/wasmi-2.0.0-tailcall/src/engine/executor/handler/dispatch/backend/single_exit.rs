//! Tail-call dispatch for Wasm targets on stable Rust: every execution handler has exactly one exit.
//!
//! # Why
//!
//! LLVM lowers a call to Wasm's `return_call` only if the call sits directly before the `ret`.
//! A handler with an early exit (a trap, running out of fuel, a host call) has two returns, and
//! rustc emits a single return block for them: `%r = phi [%next, ...], [5, ...]; ret %r`. On
//! x86-64, AArch64 and others `CodeGenPrepare` duplicates that `ret` into the predecessors so the
//! dispatch call lands in tail position again, but only for targets that implement
//! `TargetLowering::mayBeEmittedAsTailCall`, which the WebAssembly backend does not. The dispatch
//! call then stays a plain `call_indirect`: every executed instruction adds a native frame and a
//! long-running guest exhausts the engine's stack ("Maximum call stack size exceeded").
//!
//! Nightly's `become` (the `unstable` feature) does not need any of this: it emits `musttail`.
//!
//! # How
//!
//! The handler body runs as an inlined inner function that returns `Control<Args, Break>`
//! instead of calling the next handler: its `dispatch!` yields the next handler's arguments,
//! its early exits yield the [`Break`] as before. The handler then makes one call in tail
//! position for both outcomes: to the next handler, or to [`break_with_reason`], which returns
//! the reason it finds in the integer register. Clobbering that register on a break is fine: a
//! break returns nothing but its reason, so whatever a resumable break needs (out of fuel, host
//! call) the handler has already saved in the store.

use crate::{
    engine::executor::handler::{
        Args,
        dispatch::{Break, Control},
        state::{Freg32, Freg64, Inst, Ip, Ireg, Mem0Len, Mem0Ptr, Sp},
    },
    store::PrunedStore,
    TrapCode,
};

use super::{Done, Handler, fetch_handler};

/// What a handler body yields: the next handler's arguments, or why execution stops.
pub type Next = Control<Args, Break>;

macro_rules! dispatch {
    ( $store:expr, $args:expr $(,)? ) => {{
        let _: &mut $crate::store::PrunedStore = $store;
        return $crate::engine::executor::handler::Control::Continue($args);
    }};
}

/// Wraps a handler body so the handler has a single exit, a call in tail position.
macro_rules! handler_body {
    (
        $state:ident: $state_ty:ty,
        $ip:ident: $ip_ty:ty,
        $sp:ident: $sp_ty:ty,
        $mem0_ptr:ident: $mem0_ptr_ty:ty,
        $mem0_len:ident: $mem0_len_ty:ty,
        $instance:ident: $instance_ty:ty,
        $ireg:ident: $ireg_ty:ty,
        $freg32:ident: $freg32_ty:ty,
        $freg64:ident: $freg64_ty:ty,
        => $body:tt
    ) => {{
        #[inline(always)]
        #[expect(clippy::too_many_arguments)]
        fn run_body(
            $state: $state_ty,
            $ip: $ip_ty,
            $sp: $sp_ty,
            $mem0_ptr: $mem0_ptr_ty,
            $mem0_len: $mem0_len_ty,
            $instance: $instance_ty,
            $ireg: $ireg_ty,
            $freg32: $freg32_ty,
            $freg64: $freg64_ty,
        ) -> $crate::engine::executor::handler::dispatch::backend::Next $body
        let next = run_body($state, $ip, $sp, $mem0_ptr, $mem0_len, $instance, $ireg, $freg32, $freg64);
        let (handler, args) = $crate::engine::executor::handler::dispatch::backend::next_handler(
            next,
            $crate::engine::executor::handler::Args::from_parts(
                $ip, $sp, $mem0_ptr, $mem0_len, $instance, $ireg, $freg32, $freg64,
            ),
        );
        let (ip, sp, mem0, mem0_len, instance, ireg, freg32, freg64) = args.into_parts();
        return handler($state, ip, sp, mem0, mem0_len, instance, ireg, freg32, freg64);
    }};
}

/// The handler to call next and its arguments; `entry` are the current handler's own arguments.
#[inline(always)]
pub fn next_handler(next: Next, entry: Args) -> (Handler, Args) {
    match next {
        Control::Continue(args) => (fetch_handler(args.ip), args),
        Control::Break(reason) => {
            let mut args = entry;
            args.ireg = Ireg::from(encode_break(reason));
            (break_with_reason, args)
        }
    }
}

/// Ends execution with the [`Break`] that [`next_handler`] put into `ireg`.
#[cold]
#[inline(never)]
#[expect(clippy::too_many_arguments)]
fn break_with_reason(
    _store: &mut PrunedStore,
    _ip: Ip,
    _sp: Sp,
    _mem0: Mem0Ptr,
    _mem0_len: Mem0Len,
    _instance: Inst,
    ireg: Ireg,
    _freg32: Freg32,
    _freg64: Freg64,
) -> Done {
    Control::Break(decode_break(u8::from(ireg)))
}

/// No trap code is 0 (`TrapCode` leaves it out on purpose), so 0 stands for [`Break::WithReason`].
#[inline(always)]
fn encode_break(reason: Break) -> u8 {
    reason.trap_code().map_or(0, u8::from)
}

fn decode_break(bits: u8) -> Break {
    match TrapCode::try_from(bits) {
        Ok(trap_code) => Break::from(trap_code),
        Err(_) => Break::WithReason,
    }
}

