//! A guest module: validated and linked once, instantiated fresh for every request.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use wasmi::{CompilationMode, Engine, ExternType, FuncType, Linker, Module, Store, Val, ValType};

use crate::abi::{self, Registry};
use crate::bridge::{Bridge, BridgeImport, BridgeSession, Provider};
use crate::config::{Config, UnknownImports};
use crate::session::Session;
use crate::state::{DownstreamRequest, Platform, State};
use crate::stores::SharedStores;
use crate::status::{Errno, Status};

/// How to compile a guest.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompileOptions {
    pub unknown_imports: UnknownImports,
}

impl CompileOptions {
    pub fn from_config(config: &Config) -> Self {
        CompileOptions { unknown_imports: config.unknown_imports }
    }
}

/// Why a module cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleError {
    /// The bytes are not WebAssembly; says what they look like instead.
    NotWasm { looks_like: String },
    /// A component (the component model), not the core module Compute runs.
    Component,
    /// WebAssembly, but malformed or invalid.
    Invalid(String),
    /// No `_start` export to run.
    NoStart,
    /// Imports the host cannot provide, each as `module::name: (params) -> (results)`.
    Unlinkable(Vec<String>),
}

impl fmt::Display for ModuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModuleError::NotWasm { looks_like } => {
                write!(f, "this is not a WebAssembly file: it does not start with `\\0asm` ({looks_like})")
            }
            ModuleError::Component => f.write_str(
                "this is a WebAssembly component, but Compute runs core modules: build for the \
                 `wasm32-wasip1` target (`cargo build --target wasm32-wasip1`, or the Fastly CLI's \
                 `fastly compute build`), not `wasm32-wasip2`",
            ),
            ModuleError::Invalid(why) => write!(f, "this WebAssembly module is invalid: {why}"),
            ModuleError::NoStart => f.write_str(
                "the module exports no `_start` function, so there is nothing to run: a Compute \
                 guest is a WASI command (a `main` function)",
            ),
            ModuleError::Unlinkable(imports) => {
                write!(f, "the module imports {} function(s) this host does not provide:", imports.len())?;
                for import in imports {
                    write!(f, "\n  {import}")?;
                }
                f.write_str("\n(set \"unknown_imports\": \"trap\" in the config to run it anyway; calling one traps)")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ModuleError {}

/// How the host provides one of the guest's imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    Implemented,
    /// Linked; returns UNSUPPORTED (or ENOSYS for WASI) when called.
    Unsupported,
    /// Linked only because `unknown_imports` is `trap`; calling it traps.
    Trapping,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Implemented => "implemented",
            ImportStatus::Unsupported => "unsupported",
            ImportStatus::Trapping => "trapping",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportInfo {
    pub module: String,
    pub name: String,
    pub signature: String,
    pub status: ImportStatus,
}

/// What a module is, for the person who loaded it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    pub size_bytes: usize,
    pub imports: Vec<ImportInfo>,
}

pub struct GuestModule {
    engine: Engine,
    module: Module,
    linker: Linker<State>,
    info: ModuleInfo,
    /// The same imports, for an engine other than wasmi.
    bridge: Arc<Bridge>,
}

impl GuestModule {
    /// Validates and links `bytes` once; `start` then runs it per request.
    pub fn compile(bytes: &[u8], options: &CompileOptions) -> Result<GuestModule, ModuleError> {
        check_magic(bytes)?;
        let engine = Engine::new(&engine_config());
        let module = Module::new(&engine, bytes).map_err(|e| ModuleError::Invalid(e.to_string()))?;
        if !module.exports().any(|e| e.name() == "_start" && matches!(e.ty(), ExternType::Func(_))) {
            return Err(ModuleError::NoStart);
        }
        let mut linker = Linker::new(&engine);
        let mut registry = Registry::new(&mut linker);
        abi::link_all(&mut registry);
        let (implemented, calls) = (registry.linked, registry.calls);
        let (imports, bridged) = link_imports(&module, &mut linker, &implemented, options)?;
        let bridge = Arc::new(Bridge { imports: bridged, hostcalls: implemented, calls });
        Ok(GuestModule { engine, module, linker, info: ModuleInfo { size_bytes: bytes.len(), imports }, bridge })
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    /// A fresh instance for one downstream request, as production gives every request.
    pub fn start(
        &self,
        config: Arc<Config>,
        request: DownstreamRequest,
        platform: Arc<dyn Platform>,
        stores: SharedStores,
    ) -> Result<Session, String> {
        let state = State::new(config, platform, stores, request);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.heap);
        let instance = self.linker.instantiate_and_start(&mut store, &self.module).map_err(|e| {
            if store.data().heap.refused.is_some() {
                format!("the guest's initial memory is over the {} MB heap limit", store.data().config.limits.heap_mb)
            } else {
                format!("the guest could not be instantiated: {e}")
            }
        })?;
        store.data_mut().memory = instance.get_memory(&store, "memory");
        let start = instance.get_func(&store, "_start").expect("checked at compile time");
        Ok(Session::new(store, start))
    }

    /// The state for one downstream request run by another engine: it instantiates the guest
    /// itself, with `BridgeSession::imports` in the module's import order.
    pub fn start_bridged(
        &self,
        config: Arc<Config>,
        request: DownstreamRequest,
        platform: Arc<dyn Platform>,
        stores: SharedStores,
    ) -> BridgeSession {
        BridgeSession::new(State::new(config, platform, stores, request), self.bridge.clone())
    }
}

/// Fuel metering is always on: it gives the yield points that keep a run cancellable.
/// Translation is lazy (validation is not) so a large guest starts quickly.
///
/// Translating a function on first call costs no fuel: it is the host's work, not the guest's,
/// and wasmi 2.0 cannot resume a call whose lazy translation ran out of fuel (the whole run
/// would fail whenever a slice ended at a first call). Copying bytes keeps wasmi's default cost.
fn engine_config() -> wasmi::Config {
    let mut config = wasmi::Config::default();
    config
        .consume_fuel(true)
        .fuel_cost(wasmi::CustomFuelCosts { bytes_copied_per_fuel: 64, fuel_per_bytes_translated: 0, fuel_per_bytes_validated: 0 })
        .compilation_mode(CompilationMode::LazyTranslation)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_extended_const(true)
        .wasm_tail_call(true)
        .wasm_mutable_global(true);
    config
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";

fn check_magic(bytes: &[u8]) -> Result<(), ModuleError> {
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        return Err(ModuleError::NotWasm { looks_like: describe_bytes(bytes) });
    }
    // A core module is version 1 (`01 00 00 00`); a component has layer 1 in the high half.
    if bytes[4..8] != [1, 0, 0, 0] {
        if bytes[6..8] == [1, 0] {
            return Err(ModuleError::Component);
        }
        return Err(ModuleError::Invalid(format!("unknown binary version {:02x?}", &bytes[4..8])));
    }
    Ok(())
}

/// A short guess at what a non-wasm file is, from its first bytes.
fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "the file is empty".to_string();
    }
    let start = &bytes[..bytes.len().min(16)];
    let text = core::str::from_utf8(start).unwrap_or("").trim_start().to_ascii_lowercase();
    let kind = if bytes.len() < 8 && WASM_MAGIC.starts_with(bytes) || bytes.starts_with(WASM_MAGIC) {
        "it is cut short after the header"
    } else if text.starts_with("<!doctype") || text.starts_with("<html") {
        "it looks like an HTML page"
    } else if text.starts_with('{') || text.starts_with('[') {
        "it looks like JSON"
    } else if text.starts_with("(module") || text.starts_with("(component") {
        "it looks like WebAssembly text (.wat): compile it to binary first"
    } else if start.starts_with(b"\x7fELF") {
        "it looks like a native ELF executable"
    } else if start.starts_with(b"MZ") {
        "it looks like a Windows executable"
    } else if start.starts_with(b"PK\x03\x04") {
        "it looks like a zip archive (a Compute package is a .tar.gz with the .wasm inside)"
    } else if start.starts_with(b"\x1f\x8b") {
        "it looks like gzip data (a Compute package .tar.gz? unpack it and load bin/main.wasm)"
    } else if !text.is_empty() && start.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        "it looks like text"
    } else {
        "unrecognised binary data"
    };
    let hex: Vec<String> = start.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{kind}; first bytes: {}", hex.join(" "))
}

/// Checks every import against what we implement, links stand-ins for the rest.
fn link_imports(
    module: &Module,
    linker: &mut Linker<State>,
    implemented: &[abi::HostcallInfo],
    options: &CompileOptions,
) -> Result<(Vec<ImportInfo>, Vec<BridgeImport>), ModuleError> {
    let mut infos = Vec::new();
    let mut bridged = Vec::new();
    let mut unlinkable = Vec::new();
    for import in module.imports() {
        let (module_name, name) = (import.module(), import.name());
        let ExternType::Func(ty) = import.ty() else {
            unlinkable.push(format!("{module_name}::{name}: {:?} (only functions can be imported)", import.ty()));
            continue;
        };
        let signature = signature(ty);
        let (status, provider) = match implemented.iter().position(|h| h.module == module_name && h.name == name) {
            Some(i) if implemented[i].ty == *ty => (ImportStatus::Implemented, Provider::Hostcall(i)),
            Some(i) => {
                let ours = &implemented[i];
                unlinkable.push(format!(
                    "{module_name}::{name}: {signature}, but the host's is {}",
                    self::signature(&ours.ty)
                ));
                continue;
            }
            None => match stand_in(module_name, ty) {
                Some(code) => {
                    link_constant(linker, module_name, name, ty.clone(), code);
                    (ImportStatus::Unsupported, Provider::Constant(code))
                }
                None if options.unknown_imports == UnknownImports::Trap => {
                    let message = link_trap(linker, module_name, name, ty.clone());
                    (ImportStatus::Trapping, Provider::Trap(message))
                }
                None => {
                    unlinkable.push(format!("{module_name}::{name}: {signature}"));
                    continue;
                }
            },
        };
        bridged.push(BridgeImport {
            module: module_name.to_string(),
            name: name.to_string(),
            wide_params: ty.params().iter().map(|t| *t == ValType::I64).collect(),
            provider,
        });
        infos.push(ImportInfo { module: module_name.to_string(), name: name.to_string(), signature, status });
    }
    if !unlinkable.is_empty() {
        return Err(ModuleError::Unlinkable(unlinkable));
    }
    Ok((infos, bridged))
}

/// The code an import we do not implement returns: production's "unsupported" for the
/// Compute ABI, ENOSYS for WASI. Only for functions that return one status code.
fn stand_in(module: &str, ty: &FuncType) -> Option<u32> {
    if ty.results() != [ValType::I32] {
        return None;
    }
    if module.starts_with("fastly_") {
        Some(Status::Unsupported as u32)
    } else if module == "wasi_snapshot_preview1" {
        Some(Errno::Nosys as u32)
    } else {
        None
    }
}

fn link_constant(linker: &mut Linker<State>, module: &str, name: &str, ty: FuncType, code: u32) {
    let key = format!("{module}::{name}");
    linker
        .func_new(module, name, ty, move |mut caller, _params, results| {
            let state = caller.data_mut();
            *state.trace.unsupported.entry(key.clone()).or_insert(0) += 1;
            results[0] = Val::I32(code as i32);
            Ok(())
        })
        .expect("an import is linked once");
}

/// Links an import that traps when called; returns the trap's message.
fn link_trap(linker: &mut Linker<State>, module: &str, name: &str, ty: FuncType) -> String {
    let message = format!("the guest called {module}::{name}, which this host does not provide (linked to trap)");
    let trap = message.clone();
    linker
        .func_new(module, name, ty, move |_caller, _params, _results| {
            Err(wasmi::Error::host(abi::Suspend::Trap(trap.clone())))
        })
        .expect("an import is linked once");
    message
}

/// `(i32, i32) -> i32`, as people write signatures.
pub fn signature(ty: &FuncType) -> String {
    fn list(types: &[ValType]) -> String {
        let names: Vec<String> = types.iter().map(|t| format!("{t:?}").to_ascii_lowercase()).collect();
        names.join(", ")
    }
    format!("({}) -> ({})", list(ty.params()), list(ty.results()))
}

/// The environment production gives a guest, overridden by the config's `env`.
pub(crate) fn guest_env(config: &Config, platform: &dyn Platform) -> Vec<(String, String)> {
    let mut trace_id = [0u8; 16];
    platform.fill_random(&mut trace_id);
    let trace_id: String = trace_id.iter().map(|b| format!("{b:02x}")).collect();
    let mut env: Vec<(String, String)> = [
        ("FASTLY_CACHE_GENERATION", "0"),
        ("FASTLY_CUSTOMER_ID", "0000000000000000000000"),
        ("FASTLY_HOSTNAME", "localhost"),
        ("FASTLY_IS_STAGING", "0"),
        ("FASTLY_POP", "EDG"),
        ("FASTLY_REGION", "Edgeplay"),
        ("FASTLY_SERVICE_ID", "0000000000000000000000"),
        ("FASTLY_SERVICE_VERSION", "1"),
        ("FASTLY_TRACE_ID", &trace_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in &config.env {
        match env.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => env.push((key.clone(), value.clone())),
        }
    }
    env
}

/// What produced a module, from its `producers` custom section: `language` and
/// `processed-by` entries, e.g. `Rust; rustc 1.95.0`. `None` when there is no such section.
pub fn producers(bytes: &[u8]) -> Option<String> {
    let mut reader = Reader { bytes, at: 8 };
    while reader.at < bytes.len() {
        let id = reader.byte()?;
        let size = reader.leb()? as usize;
        let end = reader.at.checked_add(size)?;
        if id == 0 {
            let mut section = Reader { bytes: bytes.get(..end)?, at: reader.at };
            if section.string()? == "producers" {
                return section.producers();
            }
        }
        reader.at = end;
    }
    None
}

/// Just enough of the binary format to read custom sections.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn leb(&mut self) -> Option<u32> {
        let mut value = 0u32;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= ((b & 0x7f) as u32).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn string(&mut self) -> Option<&'a str> {
        let len = self.leb()? as usize;
        let s = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        core::str::from_utf8(s).ok()
    }

    fn producers(&mut self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        for _ in 0..self.leb()? {
            let field = self.string()?;
            for _ in 0..self.leb()? {
                let (name, version) = (self.string()?, self.string()?);
                if field == "language" || field == "processed-by" || field == "sdk" {
                    // Versions often carry a URL and a commit in parentheses: keep the number.
                    let version = version.split(" (").next().unwrap_or(version).trim();
                    parts.push(if version.is_empty() { name.to_string() } else { format!("{name} {version}") });
                }
            }
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}
