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
        ("fastly_image_optimizer", _) => "needs Fastly's network (Image Optimizer transforms images at the edge)",
        ("fastly_shielding", _) => "needs Fastly's network (shield POPs: one playground host has no other POP)",
        _ => "not implemented yet",
    }
}
