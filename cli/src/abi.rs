//! `edgeplay abi`: which of the imports a Rust guest can make this host implements.
//!
//! The reference list is `fastly-sys` itself, read by build.rs; ours is what host-core links.

use std::collections::BTreeMap;

use host_core::abi::{self, HostcallInfo};
use serde_json::{json, Value};
use wasmi::{FuncType, ValType};

/// A wasm value type in a declared signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmType {
    I32,
    I64,
}

impl WasmType {
    fn val_type(self) -> ValType {
        match self {
            WasmType::I32 => ValType::I32,
            WasmType::I64 => ValType::I64,
        }
    }
}

/// One import as `fastly-sys` declares it.
#[derive(Debug)]
pub struct DeclaredImport {
    pub module: &'static str,
    pub name: &'static str,
    pub params: &'static [WasmType],
    pub results: &'static [WasmType],
}

impl DeclaredImport {
    pub fn func_type(&self) -> FuncType {
        FuncType::new(
            self.params.iter().map(|t| t.val_type()),
            self.results.iter().map(|t| t.val_type()),
        )
    }
}

include!(concat!(env!("OUT_DIR"), "/fastly_sys_imports.rs"));

const WASI: &str = "wasi_snapshot_preview1";

/// Every hostcall host-core links, as it links them for a guest.
pub fn implemented() -> Vec<HostcallInfo> {
    abi::implemented_hostcalls()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub module: &'static str,
    pub name: &'static str,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Implemented,
    /// Linked to return "unsupported", for this reason.
    Unsupported(&'static str),
    /// Implemented with another signature than the guest side's: a guest importing it would
    /// be refused. The table shows it so that it is fixed, not hidden.
    SignatureMismatch {
        declared: String,
        ours: String,
    },
}

impl Status {
    fn name(&self) -> &'static str {
        match self {
            Status::Implemented => "implemented",
            Status::Unsupported(_) => "unsupported",
            Status::SignatureMismatch { .. } => "signature_mismatch",
        }
    }

    fn reason(&self) -> Option<String> {
        match self {
            Status::Implemented => None,
            Status::Unsupported(reason) => Some(reason.to_string()),
            Status::SignatureMismatch { declared, ours } => Some(format!(
                "fastly-sys declares {declared}, this host links {ours}"
            )),
        }
    }
}

/// One row per fastly-sys import; then the imports we implement that it does not declare
/// (older names the Go and JavaScript SDKs still import), WASI aside; then the WASI count.
pub fn coverage() -> (Vec<Row>, Vec<Row>, usize) {
    let ours = implemented();
    let declared = FASTLY_SYS_IMPORTS
        .iter()
        .map(|d| {
            let status = match ours
                .iter()
                .find(|h| h.module == d.module && h.name == d.name)
            {
                None => Status::Unsupported(abi::unsupported::reason(d.module, d.name)),
                Some(h) if h.ty == d.func_type() => Status::Implemented,
                Some(h) => Status::SignatureMismatch {
                    declared: host_core::module::signature(&d.func_type()),
                    ours: host_core::module::signature(&h.ty),
                },
            };
            Row {
                module: d.module,
                name: d.name,
                status,
            }
        })
        .collect();
    let extra = ours
        .iter()
        .filter(|h| h.module != WASI)
        .filter(|h| {
            !FASTLY_SYS_IMPORTS
                .iter()
                .any(|d| d.module == h.module && d.name == h.name)
        })
        .map(|h| Row {
            module: h.module,
            name: h.name,
            status: Status::Implemented,
        })
        .collect();
    let wasi = ours.iter().filter(|h| h.module == WASI).count();
    (declared, extra, wasi)
}

pub fn print(as_json: bool) {
    let (declared, extra, wasi) = coverage();
    if as_json {
        let mut rows: Vec<Value> = declared.iter().map(|r| row_json(r, true)).collect();
        rows.extend(extra.iter().map(|r| row_json(r, false)));
        println!("{}", Value::Array(rows));
        return;
    }
    print!("{}", table(&declared, &extra, wasi));
}

fn row_json(row: &Row, in_fastly_sys: bool) -> Value {
    let mut value = json!({ "module": row.module, "name": row.name, "status": row.status.name() });
    if let Some(reason) = row.status.reason() {
        value["reason"] = json!(reason);
    }
    if !in_fastly_sys {
        value["in_fastly_sys"] = json!(false);
    }
    value
}

fn table(declared: &[Row], extra: &[Row], wasi: usize) -> String {
    let mut out = format!("The Compute ABI as fastly-sys {FASTLY_SYS_VERSION} declares it, and what this host implements\n");
    let mut by_module: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in declared {
        by_module.entry(row.module).or_default().push(row);
    }
    let width = declared.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for (module, rows) in &by_module {
        let done = rows
            .iter()
            .filter(|r| r.status == Status::Implemented)
            .count();
        out.push_str(&format!("\n{module} ({done}/{})\n", rows.len()));
        for row in rows {
            let reason = row
                .status
                .reason()
                .map(|r| format!("  {r}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:width$}  {:<11}{reason}\n",
                row.name,
                row.status.name()
            ));
        }
    }
    let done = declared
        .iter()
        .filter(|r| r.status == Status::Implemented)
        .count();
    let percent = if declared.is_empty() {
        0.0
    } else {
        100.0 * done as f64 / declared.len() as f64
    };
    out.push_str(&format!(
        "\nTotal: {done} of {} imports implemented ({percent:.0}%)\n",
        declared.len()
    ));
    if !extra.is_empty() {
        out.push_str(&format!(
            "\nAlso implemented, not declared by fastly-sys {FASTLY_SYS_VERSION} (older names other SDKs import):\n"
        ));
        for row in extra {
            out.push_str(&format!("  {}::{}\n", row.module, row.name));
        }
    }
    out.push_str(&format!("\nWASI ({WASI}): {wasi} functions implemented\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implemented_fastly_sys_import_has_the_guest_side_signature() {
        let (declared, _, _) = coverage();
        let mismatched: Vec<String> = declared
            .iter()
            .filter_map(|row| match &row.status {
                Status::SignatureMismatch { .. } => Some(format!(
                    "{}::{}: {}",
                    row.module,
                    row.name,
                    row.status.reason()?
                )),
                _ => None,
            })
            .collect();
        assert!(
            mismatched.is_empty(),
            "signatures differ:\n{}",
            mismatched.join("\n")
        );
    }

    #[test]
    fn the_table_is_read_from_fastly_sys() {
        let find = |module: &str, name: &str| {
            FASTLY_SYS_IMPORTS
                .iter()
                .find(|d| d.module == module && d.name == name)
        };
        let init = find("fastly_abi", "init").expect("fastly_abi::init is declared");
        assert_eq!(
            (init.params, init.results),
            (&[WasmType::I64][..], &[WasmType::I32][..])
        );
        let send = find("fastly_http_req", "send_v2").expect("send_v2 is declared");
        assert_eq!(send.params.len(), 7, "{send:?}");
        // KV lives under the module name the ABI kept from its object-store days.
        assert!(find("fastly_object_store", "open").is_some());
        // The component-model bindings (service_0_1.rs) are not part of the p1 ABI.
        assert!(FASTLY_SYS_IMPORTS
            .iter()
            .all(|d| d.module.starts_with("fastly_")));
    }

    #[test]
    fn unsupported_rows_say_why() {
        let (declared, _, _) = coverage();
        assert!(declared
            .iter()
            .all(|r| (r.status == Status::Implemented) == r.status.reason().is_none()));
        let shield_info = declared
            .iter()
            .find(|r| r.module == "fastly_shielding" && r.name == "shield_info")
            .expect("declared");
        assert_eq!(
            shield_info.status,
            Status::Unsupported("needs Fastly's network (shield POPs: one playground host has no other POP)")
        );
    }
}
