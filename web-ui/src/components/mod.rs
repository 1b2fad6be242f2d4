//! The page's parts, each a small function component fed from the app's state.

mod config_editor;
mod logs_view;
mod module_panel;
mod request_composer;
mod response_view;
mod trace_view;

pub use config_editor::ConfigEditor;
pub use logs_view::LogsView;
pub use module_panel::ModulePanel;
pub use request_composer::RequestComposer;
pub use response_view::ResponseView;
pub use trace_view::TraceView;

/// `1.2 KiB`, `3.4 MiB`.
pub fn human_bytes(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1 << 20 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
    }
}
