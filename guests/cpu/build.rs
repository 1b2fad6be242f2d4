// Export `bench` from the command module too, so the benchmark can call the same code
// directly on the browser's own WebAssembly engine.
fn main() {
    println!("cargo:rustc-link-arg-bins=--export=bench");
}
