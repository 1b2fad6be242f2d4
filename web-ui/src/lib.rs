//! The Edgeplay playground. The page (`app`) runs the Yew UI; host-core and the guest run in
//! a Web Worker (`worker`), so a busy guest never freezes the page and Cancel can end a run
//! at once by ending the worker.

pub mod app;
pub mod components;
pub mod io;
mod jspi;
pub mod protocol;
pub mod worker;
