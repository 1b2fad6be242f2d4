//! The page's parts, each a small function component fed from the app's state.

mod cache_inspector;
mod config_editor;
mod kv_editor;
mod logs_view;
mod module_panel;
mod request_composer;
mod response_view;
mod trace_view;

pub use cache_inspector::CacheInspector;
pub use config_editor::ConfigEditor;
pub use kv_editor::KvEditor;
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

/// Offset, 16 bytes in hex, the same bytes as ASCII.
pub fn hex_dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
            let text: String = row.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            format!("{:08x}  {:<48} {text}", i * 16, hex.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
