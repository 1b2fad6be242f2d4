//! Bad modules get a clear error before anything runs; imports we do not implement are linked
//! as production's "unsupported", never as fake successes.

mod support;

use std::sync::Arc;

use host_core::config::UnknownImports;
use host_core::native::{drive, StdPlatform};
use host_core::{CompileOptions, Config, DownstreamRequest, GuestErrorKind, GuestModule, ImportStatus, ModuleError, Stores};

fn compile(bytes: &[u8]) -> Result<GuestModule, ModuleError> {
    GuestModule::compile(bytes, &CompileOptions::default())
}

fn error(bytes: &[u8]) -> String {
    compile(bytes).err().expect("the module is refused").to_string()
}

#[test]
fn not_wasm_says_what_the_bytes_look_like() {
    let cases: [(&[u8], &str); 6] = [
        (b"<!DOCTYPE html><html>", "HTML page"),
        (b"{\"backends\": {}}", "JSON"),
        (b"(module (func))", "WebAssembly text"),
        (b"\x7fELF\x02\x01\x01\x00", "ELF"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip"),
        (b"", "empty"),
    ];
    for (bytes, looks_like) in cases {
        let message = error(bytes);
        assert!(message.starts_with("this is not a WebAssembly file"), "{message}");
        assert!(message.contains(looks_like), "{looks_like}: {message}");
    }
}

#[test]
fn a_truncated_module_is_invalid() {
    let hello = support::guest_wasm(support::Guest::Hello);
    let message = error(&hello[..hello.len() / 2]);
    assert!(message.starts_with("this WebAssembly module is invalid"), "{message}");
}

#[test]
fn a_component_says_how_to_get_a_core_module() {
    let message = error(b"\0asm\x0d\x00\x01\x00");
    assert!(message.contains("component"), "{message}");
    assert!(message.contains("wasm32-wasip1"), "{message}");
}

#[test]
fn a_module_without_start_cannot_run() {
    let wasm = wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "main")))"#).unwrap();
    assert!(matches!(compile(&wasm), Err(ModuleError::NoStart)));
}

const UNKNOWN_IMPORT: &str = r#"(module
    (import "env" "mystery" (func $mystery (param i32 i64) (result f32)))
    (import "fastly_shielding" "shield_info" (func $shield_info (param i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (func (export "_start")
        ;; an unsupported hostcall answers UNSUPPORTED (5); anything else traps
        (if (i32.ne (call $shield_info (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (i32.const 5))
            (then unreachable))
        (drop (call $mystery (i32.const 1) (i64.const 2)))))"#;

#[test]
fn unknown_imports_are_named_with_their_signatures() {
    let wasm = wat::parse_str(UNKNOWN_IMPORT).unwrap();
    let message = error(&wasm);
    assert!(message.contains("env::mystery: (i32, i64) -> (f32)"), "{message}");
    assert!(!message.contains("fastly_shielding"), "Compute imports are linked as unsupported: {message}");
    assert!(message.contains("\"unknown_imports\": \"trap\""), "the message says how to run it anyway: {message}");
}

#[test]
fn unknown_imports_can_be_linked_to_trap() {
    let wasm = wat::parse_str(UNKNOWN_IMPORT).unwrap();
    let module = GuestModule::compile(&wasm, &CompileOptions { unknown_imports: UnknownImports::Trap }).unwrap();
    let status = |name: &str| module.info().imports.iter().find(|i| i.name == name).unwrap().status;
    assert_eq!(status("mystery"), ImportStatus::Trapping);
    assert_eq!(status("shield_info"), ImportStatus::Unsupported);
    let session = module.start(Arc::new(Config::default()), DownstreamRequest::get("http://localhost/"), StdPlatform::new(), Stores::shared(&Config::default())).unwrap();
    let outcome = drive(session, Arc::new(support::no_network), |_| {});
    assert_eq!(outcome.response.status, 500);
    let error = outcome.error.unwrap();
    assert_eq!(error.kind, GuestErrorKind::Trap);
    assert!(error.message.contains("env::mystery"), "the trap names the import: {}", error.message);
    assert_eq!(outcome.trace.unsupported.get("fastly_shielding::shield_info"), Some(&1), "the unsupported call is counted");
}

#[test]
fn a_wrong_signature_for_a_known_hostcall_is_refused() {
    let wasm = wat::parse_str(
        r#"(module (import "fastly_http_body" "new" (func (param i64) (result i32)))
                   (memory (export "memory") 1) (func (export "_start")))"#,
    )
    .unwrap();
    let message = error(&wasm);
    assert!(message.contains("fastly_http_body::new: (i64) -> (i32), but the host's is (i32) -> (i32)"), "{message}");
}

#[test]
fn a_guest_ending_without_a_response_gets_500() {
    let wasm = wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "_start")))"#).unwrap();
    let module = compile(&wasm).unwrap();
    let session = module.start(Arc::new(Config::default()), DownstreamRequest::get("http://localhost/"), StdPlatform::new(), Stores::shared(&Config::default())).unwrap();
    let outcome = drive(session, Arc::new(support::no_network), |_| {});
    assert_eq!(outcome.response.status, 500);
    assert!(outcome.error.is_none(), "ending without a response is not a crash");
}

#[test]
fn every_example_guest_links_with_no_trapping_imports() {
    for guest in [support::Guest::Hello, support::Guest::CachingProxy, support::Guest::Fanout, support::Guest::Inspector] {
        let module = compile(&support::guest_wasm(guest)).unwrap();
        assert!(module.info().imports.iter().all(|i| i.status != ImportStatus::Trapping), "{guest:?}");
    }
}

#[test]
fn the_producers_section_names_the_toolchain() {
    let hello = support::guest_wasm(support::Guest::Hello);
    let producers = host_core::module::producers(&hello).expect("rustc writes a producers section");
    assert!(producers.contains("Rust") && producers.contains("rustc"), "{producers}");
    let bare = wat::parse_str("(module)").unwrap();
    assert_eq!(host_core::module::producers(&bare), None);
}
