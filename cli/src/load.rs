//! Reading what the user points at: the guest module and its config. Every error names the
//! file it is about, so the message alone says what to fix.

use std::path::Path;

use host_core::{CompileOptions, Config, GuestModule};

/// The config in `path` (JSON, or `fastly.toml` when the name ends in `.toml`), or the
/// defaults when there is none.
pub fn config(path: Option<&Path>) -> Result<Config, String> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    let parsed = if is_toml {
        host_core::config::from_fastly_toml(&text)
    } else {
        Config::from_json(&text)
    };
    parsed.map_err(|e| format!("{}: {e}", path.display()))
}

/// The guest in `path`, validated and linked for `config`.
pub fn module(path: &Path, config: &Config) -> Result<GuestModule, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    GuestModule::compile(&bytes, &CompileOptions::from_config(config))
        .map_err(|e| format!("{}: {e}", path.display()))
}
