//! The response: status line, timing, headers, and the body as text, pretty JSON, a sandboxed
//! HTML preview or hex. Streamed bytes appear as they arrive.

use yew::prelude::*;

use super::{hex_dump, human_bytes};
use crate::app::RunState;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub run: RunState,
}

#[derive(Clone, Copy, PartialEq)]
enum View {
    Body,
    Json,
    Headers,
    Preview,
    Hex,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The body re-indented, when it is JSON.
fn pretty_json(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

#[function_component(ResponseView)]
pub fn response_view(props: &Props) -> Html {
    let view = use_state(|| View::Body);
    let (status, headers, body, error, summary) = match &props.run {
        RunState::Idle => return html! { <div class="panel response"><div class="panel-title">{ "Response" }</div>
            <p class="muted" id="run-state">{ "Press Send (or Ctrl+Enter) to run the guest." }</p></div> },
        RunState::Cancelled => return html! { <div class="panel response"><div class="panel-title">{ "Response" }</div>
            <p class="warning" id="run-state">{ "Cancelled. The guest was stopped; send again when ready." }</p></div> },
        RunState::Failed(message) => return html! { <div class="panel response"><div class="panel-title">{ "Response" }</div>
            <pre class="error" id="run-error">{ message }</pre></div> },
        RunState::Running { head, body } => {
            let (status, headers) = head.clone().map_or((None, Vec::new()), |(s, h)| (Some(s), h));
            (status, headers, body.clone(), None, "running…".to_string())
        }
        RunState::Done(report) => (
            Some(report.status),
            report.headers.clone(),
            report.body.to_vec(),
            report.error.as_ref().map(|e| format!("{}: {}", e.kind, e.message)),
            format!(
                "{:.1} ms · CPU {:.1} ms · {} · heap {} · {}",
                report.stats.wall_ms,
                report.stats.cpu_ms,
                // The browser's engine counts no fuel.
                if report.engine.starts_with("wasmi") { format!("{} fuel", report.stats.fuel) } else { "no fuel".to_string() },
                human_bytes(report.stats.peak_heap_bytes),
                human_bytes(report.body.len())
            ),
        ),
    };
    let content_type = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone()).unwrap_or_default();
    let is_text = std::str::from_utf8(&body).is_ok();
    let tab = |v: View, label: &str| {
        let view = view.clone();
        html! {
            <button role="tab" aria-selected={(*view == v).to_string()} class={classes!("tab", (*view == v).then_some("active"))}
                onclick={Callback::from(move |_| view.set(v))}>{ label }</button>
        }
    };
    let class = match status {
        Some(s) if s >= 500 => "status bad",
        Some(s) if s >= 400 => "status warn",
        Some(_) => "status good",
        None => "status",
    };
    html! {
        <div class="panel response">
            <div class="panel-title">{ "Response" }<span class="spacer" />
                <span class="muted small" id="run-state">{ summary }</span></div>
            if let RunState::Done(report) = &props.run {
                <div class="muted small" id="run-engine">{ format!("Ran on {}", report.engine) }</div>
            }
            <div id="response-status" class={class}>
                { status.map_or("waiting for the response head…".to_string(), |s| format!("{s} {}", reason(s))) }
            </div>
            if let Some(error) = error {
                <pre id="run-error" class="error">{ error }</pre>
            }
            if let RunState::Done(report) = &props.run {
                if let Some(error) = &report.persist_error {
                    <p id="persist-error" class="warning small">{ format!("This run's changes to the stores were not saved: {error}") }</p>
                }
            }
            <div role="tablist" class="tabs">
                { tab(View::Body, "Body") }
                { tab(View::Headers, &format!("Headers ({})", headers.len())) }
                if content_type.contains("json") { { tab(View::Json, "JSON") } }
                if content_type.contains("html") { { tab(View::Preview, "Preview") } }
                { tab(View::Hex, "Hex") }
            </div>
            { match *view {
                View::Headers => html! {
                    <table id="response-headers" class="mono small">
                        { for headers.iter().map(|(n, v)| html! { <tr><td class="name">{ n }</td><td>{ v }</td></tr> }) }
                    </table>
                },
                // No scripts, no same-origin: a guest's HTML cannot touch the playground.
                View::Preview => html! { <iframe class="preview" sandbox="" srcdoc={String::from_utf8_lossy(&body).into_owned()} title="HTML preview" /> },
                View::Hex => html! { <pre class="mono small body">{ hex_dump(&body) }</pre> },
                View::Json => html! { <pre id="response-json" class="mono body">{ pretty_json(&body).unwrap_or_else(|| "not valid JSON".into()) }</pre> },
                View::Body if is_text => html! { <pre id="response-body" class="mono body">{ String::from_utf8_lossy(&body).into_owned() }</pre> },
                View::Body => html! { <pre id="response-body" class="mono small body">{ hex_dump(&body) }</pre> },
            } }
        </div>
    }
}
