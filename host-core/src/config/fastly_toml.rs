//! Import of `fastly.toml`'s `[local_server]` section into [`Config`].
use super::{Config, ConfigError};

pub fn from_fastly_toml(_text: &str) -> Result<Config, ConfigError> {
    Err(ConfigError::at(alloc::string::String::new(), "fastly.toml import is not written yet"))
}
