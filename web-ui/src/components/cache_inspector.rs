//! The cache every run shares: each stored object with its TTL counting down, age, hits,
//! surrogate keys and size; purge one, purge by surrogate key (hard or soft), or clear all.

use gloo_timers::callback::Interval;
use host_core::cache::Freshness;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::human_bytes;
use crate::protocol::{CachedObject, StoreEdit};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub objects: Vec<CachedObject>,
    pub on_edit: Callback<StoreEdit>,
}

/// `42 s`, `5 min 03 s`, `2 h 05 min`.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

#[function_component(CacheInspector)]
pub fn cache_inspector(props: &Props) -> Html {
    // Ticks each second so TTLs count down between runs.
    let now = use_state(js_sys::Date::now);
    {
        let now = now.clone();
        use_effect_with((), move |_| {
            let interval = Interval::new(1000, move || now.set(js_sys::Date::now()));
            move || drop(interval)
        });
    }
    let now_ms = *now as u64;
    let surrogate = use_node_ref();
    let soft = use_node_ref();
    let on_purge_surrogate = {
        let (surrogate, soft, on_edit) = (surrogate.clone(), soft.clone(), props.on_edit.clone());
        Callback::from(move |_| {
            let (Some(key), Some(soft)) = (surrogate.cast::<HtmlInputElement>(), soft.cast::<HtmlInputElement>()) else { return };
            if !key.value().trim().is_empty() {
                on_edit.emit(StoreEdit::PurgeSurrogateKey { key: key.value().trim().to_string(), soft: soft.checked() });
                key.set_value("");
            }
        })
    };
    let row = |object: &CachedObject| {
        let record = &object.record;
        let ttl = record.ttl_left_s(now_ms);
        let (ttl_text, ttl_class) = match record.freshness(now_ms) {
            Freshness::Fresh => (duration(ttl.max(0) as u64), "good"),
            Freshness::StaleUsable => ("stale".to_string(), "warn"),
            Freshness::Expired => ("expired".to_string(), "muted"),
        };
        let variant: Vec<String> = record.variant.iter().map(|(n, v)| format!("{n}={}", v.as_deref().unwrap_or("∅"))).collect();
        let id = object.id.clone();
        html! {
            <tr class="cache-entry">
                <td class="grow">
                    <div class="mono entry-key" title={format!("TTL from {}", record.ttl_source)}>{ &record.key }</div>
                    <div class="chips">
                        if !variant.is_empty() { <span class="chip">{ format!("vary {}", variant.join(", ")) }</span> }
                        { for record.surrogate_keys.iter().map(|k| html! { <span class="chip surrogate">{ k }</span> }) }
                        if record.freshness(now_ms) != Freshness::Fresh { <span class="marker warn">{ "STALE" }</span> }
                        if record.soft_purged { <span class="marker warn">{ "SOFT-PURGED" }</span> }
                        if record.pci { <span class="marker" title="kept in memory only, never saved">{ "PCI" }</span> }
                    </div>
                </td>
                <td class="num">{ record.status.map(|s| s.to_string()).unwrap_or_default() }</td>
                <td class={classes!("num", "ttl", ttl_class)}>{ ttl_text }</td>
                <td class="num age">{ duration(record.age_s(now_ms)) }</td>
                <td class="num hits">{ record.hits }</td>
                <td class="num">{ human_bytes(object.size) }</td>
                <td><button class="icon purge" title="Purge this object" onclick={props.on_edit.reform(move |_| StoreEdit::PurgeRecord { id: id.clone() })}>
                    { "Purge" }</button></td>
            </tr>
        }
    };
    html! {
        <div class="panel" id="cache-inspector">
            <div class="panel-title">{ "Cache" }
                <span class="muted small">{ format!("{} object{}", props.objects.len(), if props.objects.len() == 1 { "" } else { "s" }) }</span>
                <span class="spacer" />
                <button id="cache-clear" class="small" disabled={props.objects.is_empty()}
                    onclick={props.on_edit.reform(|_| StoreEdit::ClearCache)}>{ "Clear all" }</button>
            </div>
            if props.objects.is_empty() {
                <p class="hint small">{ "Nothing cached yet. Responses the guest's backend requests store appear here." }</p>
            } else {
                <table class="small cache-table">
                    <thead><tr><th>{ "Key" }</th><th>{ "Status" }</th><th>{ "TTL left" }</th><th>{ "Age" }</th><th>{ "Hits" }</th>
                        <th>{ "Size" }</th><th /></tr></thead>
                    <tbody>{ for props.objects.iter().map(row) }</tbody>
                </table>
            }
            <div class="row tight purge-row">
                <input id="surrogate-key" class="grow mono small" placeholder="surrogate key" ref={surrogate} aria-label="Surrogate key" />
                <label class="small muted" title="Mark stale instead of removing: still served within stale-while-revalidate">
                    <input id="surrogate-soft" type="checkbox" ref={soft} />{ " soft" }</label>
                <button id="purge-surrogate" class="small" onclick={on_purge_surrogate}>{ "Purge key" }</button>
            </div>
        </div>
    }
}
