//! Runs a guest's `bench(n) -> count` export under wasmi, configured as host-core configures it
//! (fuel on, lazy translation). Every import is defined as a trap: `bench` calls none of them.
//!
//! The wasm32 build exports a tiny C-style API for node (`alloc`, `load`, `bench`); the native
//! binary (`src/main.rs`) calls [`Bench`] directly.

use wasmi::{CompilationMode, Engine, ExternType, Func, Linker, Module, Store, TypedFunc};

pub struct Bench {
    store: Store<()>,
    bench: TypedFunc<u32, u32>,
}

impl Bench {
    pub fn new(wasm: &[u8]) -> Result<Bench, wasmi::Error> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(true).compilation_mode(CompilationMode::LazyTranslation);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, wasm)?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::<()>::new(&engine);
        for import in module.imports() {
            if let ExternType::Func(ty) = import.ty() {
                let trap = Func::new(&mut store, ty.clone(), |_, _, _| Err(wasmi::Error::new("import called")));
                linker.define(import.module(), import.name(), trap)?;
            }
        }
        let instance = linker.instantiate_and_start(&mut store, &module)?;
        let bench = instance.get_typed_func::<u32, u32>(&store, "bench")?;
        Ok(Bench { store, bench })
    }

    /// One call of `bench(n)`, with fuel enough never to run out (host-core refuels in slices;
    /// the refuel cost is not what is measured here).
    pub fn run(&mut self, n: u32) -> Result<u32, wasmi::Error> {
        self.store.set_fuel(u64::MAX / 2)?;
        self.bench.call(&mut self.store, n)
    }
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use super::Bench;
    use std::cell::RefCell;

    thread_local! {
        static BENCH: RefCell<Option<Bench>> = const { RefCell::new(None) };
    }

    /// A buffer of `len` bytes for the guest module; `load` frees it.
    #[no_mangle]
    pub extern "C" fn alloc(len: usize) -> *mut u8 {
        let mut buffer = Vec::<u8>::with_capacity(len);
        let ptr = buffer.as_mut_ptr();
        core::mem::forget(buffer);
        ptr
    }

    /// Compiles and instantiates the module in `alloc`'s buffer; 0 on success.
    #[no_mangle]
    pub extern "C" fn load(ptr: *mut u8, len: usize) -> i32 {
        let wasm = unsafe { Vec::from_raw_parts(ptr, len, len) };
        match Bench::new(&wasm) {
            Ok(bench) => {
                BENCH.with(|b| *b.borrow_mut() = Some(bench));
                0
            }
            Err(_) => -1,
        }
    }

    /// `bench(n)` in the loaded guest; -1 on a trap.
    #[no_mangle]
    pub extern "C" fn bench(n: u32) -> i64 {
        BENCH.with(|b| match b.borrow_mut().as_mut().expect("load first").run(n) {
            Ok(count) => i64::from(count),
            Err(_) => -1,
        })
    }
}
