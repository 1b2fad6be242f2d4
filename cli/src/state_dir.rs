//! `--state DIR`: KV stores and the cache kept on disk between runs and restarts.
//!
//! The whole state is one JSON file, `DIR/stores.json` (a list of records), rewritten after
//! each request that changed something: written to a temporary file and renamed over the old
//! one, so a crash leaves the previous state or the new one, never half of each. Records from
//! a PCI cache override are never written.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use host_core::{Change, Config, SharedStores, Stores};

pub struct StateDir {
    file: PathBuf,
    /// One writer at a time: concurrent requests finish on different threads.
    writing: Mutex<()>,
}

/// The stores for a run or a server: kept under `dir` when one is given, else in memory only.
pub fn stores(dir: Option<&Path>, config: &Config, reset: bool) -> Result<(Option<StateDir>, SharedStores), String> {
    match dir {
        Some(dir) => StateDir::open(dir, config, reset).map(|(state, stores)| (Some(state), stores)),
        None => Ok((None, Stores::shared(config))),
    }
}

impl StateDir {
    /// Opens (creating) `dir` and loads the stores: the config's seed with the persisted
    /// records over it. `reset` discards what was persisted.
    pub fn open(dir: &Path, config: &Config, reset: bool) -> Result<(StateDir, SharedStores), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let file = dir.join("stores.json");
        if reset && file.exists() {
            std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        let stores = Stores::shared(config);
        if file.exists() {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let changes: Vec<Change> = serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a state file this version can read ({e}); start with --reset", file.display()))?;
            stores.lock().restore(changes);
        }
        Ok((StateDir { file, writing: Mutex::new(()) }, stores))
    }

    /// Writes the stores if anything changed since the last save.
    pub fn save(&self, stores: &SharedStores, config: &Config) -> Result<(), String> {
        let _one_writer = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let snapshot = {
            let mut stores = stores.lock();
            if stores.take_journal().is_empty() {
                return Ok(());
            }
            stores.snapshot(config)
        };
        let text = serde_json::to_string_pretty(&snapshot).map_err(|e| e.to_string())?;
        let tmp = self.file.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &self.file).map_err(|e| format!("{}: {e}", self.file.display()))
    }
}
