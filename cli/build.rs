//! Reads the Compute ABI as the pinned `fastly-sys` declares it, so `edgeplay abi` compares
//! our hostcalls against the guest side's own list instead of one typed by hand.
//!
//! fastly-sys is a build-dependency only so that cargo fetches its source; this script finds
//! that source in cargo's registry, parses every `#[link(wasm_import_module = "...")]` extern
//! block reachable from its `lib.rs` for the `wasm32-wasip1` target (modules behind
//! `#[cfg(not(target_env = "p1"))]` are the component-model bindings and are skipped), and
//! writes `fastly_sys_imports.rs` into OUT_DIR: each import's module, name and wasm signature.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use syn::{Attribute, FnArg, ForeignItem, Item, ReturnType, Type};

/// A wasm value type, as a Rust guest's parameter types lower to on wasm32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wasm {
    I32,
    I64,
}

impl Wasm {
    fn variant(self) -> &'static str {
        match self {
            Wasm::I32 => "I32",
            Wasm::I64 => "I64",
        }
    }
}

struct Import {
    module: String,
    name: String,
    params: Vec<Wasm>,
    results: Vec<Wasm>,
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let lock = manifest_dir.join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-env-changed=CARGO_HOME");
    let lock = std::fs::read_to_string(&lock).unwrap_or_else(|e| panic!("{}: {e}", lock.display()));

    let sys_version = locked_version(&lock, "fastly-sys");
    let shared_version = locked_version(&lock, "fastly-shared");
    let sys_src = registry_source("fastly-sys", &sys_version);
    let shared_src = registry_source("fastly-shared", &shared_version);

    // Type names the signatures use: aliases, bitflags, `#[repr(..)]` enums and transparent
    // structs, from both crates (fastly-sys names fastly-shared's enums and FastlyStatus).
    let mut types = Types::default();
    let mut sys_files = Vec::new();
    collect_files(&sys_src, "lib.rs", &mut sys_files);
    for (_, file) in &sys_files {
        types.collect(&file.items);
    }
    let mut shared_files = Vec::new();
    collect_files(&shared_src, "lib.rs", &mut shared_files);
    for (_, file) in &shared_files {
        types.collect(&file.items);
    }

    let mut imports: Vec<Import> = Vec::new();
    for (path, file) in &sys_files {
        println!("cargo:rerun-if-changed={}", path.display());
        collect_imports(&file.items, &types, &mut imports);
    }
    let imports = dedupe(imports);
    assert!(
        imports.len() > 100,
        "found only {} imports in fastly-sys {sys_version}: is build.rs out of date?",
        imports.len()
    );

    let mut out = String::new();
    writeln!(out, "/// The `fastly-sys` version the table was read from.").unwrap();
    writeln!(out, "pub const FASTLY_SYS_VERSION: &str = {sys_version:?};").unwrap();
    writeln!(
        out,
        "/// Every import `fastly-sys` declares for `wasm32-wasip1`, in declaration order."
    )
    .unwrap();
    writeln!(out, "pub static FASTLY_SYS_IMPORTS: &[DeclaredImport] = &[").unwrap();
    for import in &imports {
        let list = |types: &[Wasm]| {
            types
                .iter()
                .map(|t| format!("WasmType::{}", t.variant()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            out,
            "    DeclaredImport {{ module: {:?}, name: {:?}, params: &[{}], results: &[{}] }},",
            import.module,
            import.name,
            list(&import.params),
            list(&import.results)
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("fastly_sys_imports.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

/// The version of `name` in the workspace's Cargo.lock.
fn locked_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\n");
    let at = lock
        .find(&needle)
        .unwrap_or_else(|| panic!("{name} is not in Cargo.lock: add it as a build-dependency"));
    let rest = &lock[at + needle.len()..];
    let line = rest.lines().next().unwrap_or_default();
    line.strip_prefix("version = \"")
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("unexpected Cargo.lock entry for {name}: {line}"))
        .to_string()
}

/// `$CARGO_HOME/registry/src/<index>/<name>-<version>/src`.
fn registry_source(name: &str, version: &str) -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry = cargo_home.join("registry/src");
    let entries =
        std::fs::read_dir(&registry).unwrap_or_else(|e| panic!("{}: {e}", registry.display()));
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path().join(format!("{name}-{version}/src")))
        .filter(|path| path.join("lib.rs").is_file())
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no {name}-{version} source under {}", registry.display()))
}

/// Parses `file` and, recursively, the `mod x;` files it declares that compile for p1.
fn collect_files(src: &Path, file: &str, out: &mut Vec<(PathBuf, syn::File)>) {
    let path = src.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let children: Vec<String> = parsed
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Mod(m) if m.content.is_none() && compiles_for_p1(&m.attrs) => {
                Some(format!("{}.rs", m.ident))
            }
            _ => None,
        })
        .collect();
    out.push((path, parsed));
    for child in children {
        collect_files(src, &child, out);
    }
}

/// False for items behind `#[cfg(not(target_env = "p1"))]`; any other cfg is a surprise.
fn compiles_for_p1(attrs: &[Attribute]) -> bool {
    for attr in attrs.iter().filter(|a| a.path().is_ident("cfg")) {
        let cfg = attr
            .meta
            .require_list()
            .map(|l| l.tokens.to_string())
            .unwrap_or_default();
        let cfg: String = cfg.chars().filter(|c| !c.is_whitespace()).collect();
        match cfg.as_str() {
            "not(target_env=\"p1\")" => return false,
            "target_env=\"p1\"" => {}
            other => panic!("fastly-sys uses #[cfg({other})]: teach cli/build.rs whether it applies to wasm32-wasip1"),
        }
    }
    true
}

/// What each named type lowers to.
#[derive(Default)]
struct Types {
    named: BTreeMap<String, Type>,
    flat: BTreeMap<String, Wasm>,
}

impl Types {
    fn collect(&mut self, items: &[Item]) {
        for item in items {
            match item {
                Item::Mod(m) if compiles_for_p1(&m.attrs) => {
                    if let Some((_, items)) = &m.content {
                        self.collect(items);
                    }
                }
                Item::Type(alias) => {
                    self.named
                        .insert(alias.ident.to_string(), (*alias.ty).clone());
                }
                Item::Enum(e) => {
                    if let Some(repr) = repr_int(&e.attrs) {
                        self.flat.insert(e.ident.to_string(), repr);
                    }
                }
                Item::Struct(s) if has_repr(&s.attrs, "transparent") => {
                    if let Some(field) = s.fields.iter().next() {
                        self.named.insert(s.ident.to_string(), field.ty.clone());
                    }
                }
                Item::Macro(m)
                    if m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "bitflags") =>
                {
                    self.collect_bitflags(&m.mac.tokens.to_string());
                }
                _ => {}
            }
        }
    }

    /// `bitflags! { … pub struct Name: u32 { … } … }`: each flag set is its integer type.
    fn collect_bitflags(&mut self, tokens: &str) {
        let words: Vec<&str> = tokens.split_whitespace().collect();
        for window in words.windows(4) {
            if let ["struct", name, ":", int] = window {
                let wasm = primitive(int)
                    .unwrap_or_else(|| panic!("bitflags {name}: unexpected type {int}"));
                self.flat.insert(name.to_string(), wasm);
            }
        }
    }

    /// The wasm type a Rust parameter or result type lowers to.
    fn lower(&self, ty: &Type, context: &str) -> Wasm {
        match ty {
            Type::Ptr(_) | Type::Reference(_) => Wasm::I32,
            Type::Paren(inner) => self.lower(&inner.elem, context),
            Type::Path(path) => {
                let name = path
                    .path
                    .segments
                    .last()
                    .expect("a path has a segment")
                    .ident
                    .to_string();
                if let Some(wasm) = primitive(&name).or_else(|| self.flat.get(&name).copied()) {
                    return wasm;
                }
                match self.named.get(&name) {
                    Some(inner) => self.lower(inner, context),
                    None => {
                        panic!("{context}: cannot lower type `{name}` to wasm: teach cli/build.rs")
                    }
                }
            }
            _ => panic!("{context}: unexpected parameter type shape"),
        }
    }
}

fn primitive(name: &str) -> Option<Wasm> {
    Some(match name {
        "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "usize" | "isize" | "bool" | "char" => {
            Wasm::I32
        }
        "u64" | "i64" => Wasm::I64,
        _ => return None,
    })
}

fn has_repr(attrs: &[Attribute], what: &str) -> bool {
    repr_args(attrs).iter().any(|a| a == what)
}

fn repr_int(attrs: &[Attribute]) -> Option<Wasm> {
    repr_args(attrs).iter().find_map(|a| primitive(a))
}

fn repr_args(attrs: &[Attribute]) -> Vec<String> {
    let mut args = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(ident) = meta.path.get_ident() {
                args.push(ident.to_string());
            }
            // `align(8)` and the like carry arguments we do not need.
            if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        });
    }
    args
}

fn collect_imports(items: &[Item], types: &Types, out: &mut Vec<Import>) {
    for item in items {
        match item {
            Item::Mod(m) if compiles_for_p1(&m.attrs) => {
                if let Some((_, items)) = &m.content {
                    collect_imports(items, types, out);
                }
            }
            Item::ForeignMod(block) if compiles_for_p1(&block.attrs) => {
                let Some(module) = wasm_import_module(&block.attrs) else {
                    continue;
                };
                for foreign in &block.items {
                    let ForeignItem::Fn(f) = foreign else {
                        continue;
                    };
                    if !compiles_for_p1(&f.attrs) {
                        continue;
                    }
                    let name = link_name(&f.attrs).unwrap_or_else(|| f.sig.ident.to_string());
                    let context = format!("{module}::{name}");
                    let params = f
                        .sig
                        .inputs
                        .iter()
                        .map(|arg| match arg {
                            FnArg::Typed(typed) => types.lower(&typed.ty, &context),
                            FnArg::Receiver(_) => panic!("{context}: an extern fn has no self"),
                        })
                        .collect();
                    let results = match &f.sig.output {
                        ReturnType::Default => Vec::new(),
                        ReturnType::Type(_, ty) => vec![types.lower(ty, &context)],
                    };
                    out.push(Import {
                        module: module.clone(),
                        name,
                        params,
                        results,
                    });
                }
            }
            _ => {}
        }
    }
}

/// `#[link(wasm_import_module = "fastly_http_req")]`.
fn wasm_import_module(attrs: &[Attribute]) -> Option<String> {
    let mut module = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("link")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("wasm_import_module") {
                let value: syn::LitStr = meta.value()?.parse()?;
                module = Some(value.value());
            }
            Ok(())
        });
    }
    module
}

/// `#[link_name = "send_v2"]`.
fn link_name(attrs: &[Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("link_name"))
        .find_map(|attr| match &attr.meta.require_name_value().ok()?.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        })
}

/// Some imports are declared more than once (in different Rust modules); one row each.
/// Two declarations with different signatures would be a fastly-sys bug worth stopping for.
fn dedupe(imports: Vec<Import>) -> Vec<Import> {
    let mut out: Vec<Import> = Vec::new();
    for import in imports {
        match out
            .iter()
            .find(|o| o.module == import.module && o.name == import.name)
        {
            Some(seen) => assert!(
                seen.params == import.params && seen.results == import.results,
                "fastly-sys declares {}::{} twice with different signatures",
                import.module,
                import.name
            ),
            None => out.push(import),
        }
    }
    out
}
