//! Imports the host links but does not implement: they answer UNSUPPORTED (see
//! `module::link_imports`), and this says why, for the coverage table (`edgeplay abi`).

/// Why an import is not implemented yet, for the coverage table (`edgeplay abi`).
pub fn reason(module: &str, name: &str) -> &'static str {
    match (module, name) {
        (
            "fastly_http_req",
            "upgrade_websocket" | "redirect_to_websocket_proxy_v2" | "redirect_to_grip_proxy_v2",
        ) => "needs Fastly's network (the WebSocket and Fanout proxies)",
        ("fastly_http_req", "inspect") => "needs Fastly's network (the Next-Gen WAF)",
        ("fastly_http_req", "on_behalf_of") => "needs Fastly's platform (sending on behalf of another service)",
        ("fastly_http_req", "register_dynamic_backend") => {
            "arrives with the whole-ABI work (dynamic backends)"
        }
        ("fastly_image_optimizer", _) => "needs Fastly's network (Image Optimizer)",
        ("fastly_shielding", _) => "needs Fastly's network (shield POPs)",
        (
            "fastly_kv_store" | "fastly_object_store" | "fastly_secret_store",
            _,
        ) => "arrives with the stores-and-cache work",
        (
            "fastly_acl"
            | "fastly_geo"
            | "fastly_erl"
            | "fastly_device_detection"
            | "fastly_uap"
            | "fastly_backend"
            | "fastly_compute_runtime"
            | "fastly_http_downstream",
            _,
        ) => "arrives with the whole-ABI work",
        _ => "not implemented yet",
    }
}
