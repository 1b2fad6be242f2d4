//! What happened inside: a waterfall of the guest's run and each backend request beside the
//! cache's decision for it, the totals, and how often each hostcall was made.

use yew::prelude::*;

use super::cache_inspector::duration;
use crate::protocol::{CacheDecision, RunReport};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: RunReport,
}

#[function_component(TraceView)]
pub fn trace_view(props: &Props) -> Html {
    let report = &props.report;
    let total = report.stats.wall_ms.max(0.001);
    let bar = |start: f64, end: f64| {
        let left = (start / total * 100.0).clamp(0.0, 100.0);
        let width = ((end - start) / total * 100.0).clamp(0.5, 100.0 - left);
        format!("left: {left:.2}%; width: {width:.2}%")
    };
    html! {
        <div class="panel" id="trace">
            <div class="panel-title">{ "Trace" }<span class="spacer" />
                <span class="muted small">{ format!("{} hostcalls", report.stats.hostcalls) }</span></div>
            <div class="waterfall">
                <div class="lane" title="the guest's run; lighter where it waited on I/O">
                    <span class="label">{ "guest" }</span>
                    <span class="track"><span class="bar guest" style={bar(0.0, total)} />
                        { for report.waits.iter().map(|&(start, end)| html! { <span class="bar waiting" style={bar(start, end)} /> }) }
                    </span>
                    <span class="time">{ format!("{:.1} ms", report.stats.wall_ms) }</span>
                </div>
                if !report.sleeps.is_empty() {
                    <div class="lane trace-sleep" title="sleeps the guest asked for">
                        <span class="label">{ format!("sleep ×{}", report.sleeps.len()) }</span>
                        <span class="track">
                            { for report.sleeps.iter().map(|&(start, ms)| html! { <span class="bar sleep" style={bar(start, start + ms)} /> }) }
                        </span>
                        <span class="time">{ format!("{:.0} ms", report.sleeps.iter().map(|s| s.1).sum::<f64>()) }</span>
                    </div>
                }
                { for lanes(report, &bar) }
            </div>
            <details><summary>{ "Hostcalls" }</summary>
                <table class="mono small">
                    { for report.hostcalls.iter().map(|(name, count)| html! { <tr><td>{ name }</td><td class="count">{ count }</td></tr> }) }
                </table>
            </details>
        </div>
    }
}

/// What one cache decision adds to the line.
fn decision_detail(d: &CacheDecision) -> String {
    let ttl = if d.ttl_left_s > 0 { duration(d.ttl_left_s as u64) } else { "0 s".into() };
    let detail = match d.outcome.as_str() {
        "HIT" => format!("age {} · TTL left {ttl} · hit {} · no backend request", duration(d.age_s), d.hits),
        "STALE" => format!("age {} · served stale, hit {}", duration(d.age_s), d.hits),
        "MISS" => "fetched from the backend".to_string(),
        "STORED" => format!("stored, TTL {ttl}"),
        _ => String::new(),
    };
    [detail, d.note.clone()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")
}

/// The backend requests and the cache decisions, in the order they happened: a send's
/// decisions (MISS, then STORED, say) on one line.
fn lanes(report: &RunReport, bar: &dyn Fn(f64, f64) -> String) -> Vec<Html> {
    let total = report.stats.wall_ms.max(0.001);
    let mut sends: Vec<(u32, Vec<&CacheDecision>)> = Vec::new();
    for decision in &report.cache {
        match sends.iter_mut().find(|(io, _)| *io == decision.io) {
            Some((_, group)) => group.push(decision),
            None => sends.push((decision.io, vec![decision])),
        }
    }
    let mut lanes: Vec<(f64, Html)> = sends
        .into_iter()
        .map(|(_, group)| {
            let first = group[0];
            let line = group.iter().map(|d| decision_detail(d)).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ");
            (first.at_ms, html! {
                <div class="lane trace-cache" title={first.key.clone()}>
                    <span class="label">{ for group.iter().map(|d| html! {
                        <span class={classes!("badge", d.outcome.to_ascii_lowercase().replace(' ', "-"))}>{ &d.outcome }</span> }) }</span>
                    <span class="cache-line mono small"><span class="cache-key">{ &first.key }</span>{ " " }<span class="muted">{ line }</span></span>
                </div>
            })
        })
        .collect();
    lanes.extend(report.kv.iter().map(|op| {
        (op.at_ms, html! {
            <div class="lane trace-kv" title={format!("{}/{}", op.store, op.key)}>
                <span class="label"><span class="badge kv">{ format!("KV {}", op.op) }</span></span>
                <span class="cache-line mono small"><span class="cache-key">{ format!("{}/{}", op.store, op.key) }</span>{ " " }
                    <span class="muted">{ &op.outcome }</span></span>
            </div>
        })
    }));
    lanes.extend(report.trace.iter().map(|row| {
        let end = row.end_ms.unwrap_or(total);
        let outcome = match (&row.status, &row.error) {
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => format!("failed: {error}"),
            _ => "no answer".to_string(),
        };
        (row.start_ms, html! {
            <div class="lane trace-backend" title={row.url.clone()}>
                <span class="label">{ format!("{}{}", row.backend, if row.mock { " (mock)" } else { "" }) }</span>
                <span class="track"><span class={classes!("bar", if row.error.is_some() { "failed" } else { "backend" })} style={bar(row.start_ms, end)} /></span>
                <span class="time">{ format!("{:.1} ms", end - row.start_ms) }</span>
                <div class="detail mono small">
                    { format!("{} {} → {outcome}", row.method, row.url) }
                    if !row.dropped_headers.is_empty() {
                        <div class="warning">{ format!("not sent by the browser: {}", row.dropped_headers.join(", ")) }</div>
                    }
                </div>
            </div>
        })
    }));
    // Stable: a decision made at the moment its request left stays above it.
    lanes.sort_by(|a, b| a.0.total_cmp(&b.0));
    lanes.into_iter().map(|(_, lane)| lane).collect()
}
