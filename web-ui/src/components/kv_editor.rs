//! The KV stores the config declares: list keys, view a value (text, or hex when binary) with
//! its metadata and generation, add, edit and delete. Secret stores are listed read-only with
//! their values masked until revealed (they are edited in the config).

use std::collections::{BTreeMap, BTreeSet};

use host_core::config::StringMap;
use host_core::stores::kv::KvEntry;
use serde_bytes::ByteBuf;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::{hex_dump, human_bytes};
use crate::protocol::StoreEdit;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub kv: BTreeMap<String, BTreeMap<String, KvEntry>>,
    pub secrets: BTreeMap<String, StringMap>,
    pub on_edit: Callback<StoreEdit>,
}

/// The key being edited: a new one while `key` is not in the store.
#[derive(Clone, Default, PartialEq)]
struct Draft {
    key: String,
    value: String,
    metadata: String,
}

const MASK: &str = "••••";

#[function_component(KvEditor)]
pub fn kv_editor(props: &Props) -> Html {
    let picked = use_state(|| None::<String>);
    let draft = use_state(Draft::default);
    let revealed = use_state(BTreeSet::<String>::new);
    let names: Vec<&String> = props.kv.keys().chain(props.secrets.keys()).collect();
    let Some(store) = picked.as_ref().filter(|p| names.contains(p)).or(names.first().copied()).cloned() else {
        return html! {
            <div class="panel" id="kv-editor"><div class="panel-title">{ "KV & secret stores" }</div>
                <p class="hint small">{ "The config declares no KV or secret stores. Add one, e.g. " }
                    <code>{ r#""kv_stores": { "demo": { "greeting": "hello" } }"# }</code></p></div>
        };
    };
    let on_pick = {
        let (picked, draft) = (picked.clone(), draft.clone());
        Callback::from(move |e: Event| {
            picked.set(Some(e.target_unchecked_into::<HtmlSelectElement>().value()));
            draft.set(Draft::default());
        })
    };
    let picker = html! {
        <select id="kv-store" aria-label="Store" onchange={on_pick}>
            { for props.kv.keys().map(|name| html! { <option value={name.clone()} selected={*name == store}>{ name }</option> }) }
            { for props.secrets.keys().map(|name| html! {
                <option value={name.clone()} selected={*name == store}>{ format!("{name} (secret)") }</option> }) }
        </select>
    };

    let body = match (props.kv.get(&store), props.secrets.get(&store)) {
        (Some(entries), _) => kv_store(&store, entries, &draft, &props.on_edit),
        (None, Some(secrets)) => html! {
            <>
            <p class="hint small">{ "Secret stores come from the config's " }<code>{ "secret_stores" }</code>{ "; values stay hidden until revealed." }</p>
            <table class="small kv-table" id="secret-entries">
                { for secrets.iter().map(|(name, value)| {
                    let id = format!("{store}/{name}");
                    let shown = revealed.contains(&id);
                    let toggle = {
                        let revealed = revealed.clone();
                        Callback::from(move |_| {
                            let mut set = (*revealed).clone();
                            if !set.remove(&id) {
                                set.insert(id.clone());
                            }
                            revealed.set(set);
                        })
                    };
                    html! { <tr><td class="mono">{ name }</td><td class="mono secret-value">{ if shown { value.as_str() } else { MASK } }</td>
                        <td class="num"><button class="icon reveal" onclick={toggle}>{ if shown { "hide" } else { "reveal" } }</button></td></tr> }
                }) }
            </table>
            </>
        },
        (None, None) => Html::default(),
    };
    html! {
        <div class="panel" id="kv-editor">
            <div class="panel-title">{ "KV & secret stores" }<span class="spacer" />{ picker }</div>
            { body }
        </div>
    }
}

fn text_or(bytes: &Option<Vec<u8>>) -> String {
    bytes.as_deref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

/// One KV store: its keys, and a form for the picked (or a new) key.
fn kv_store(store: &str, entries: &BTreeMap<String, KvEntry>, draft: &UseStateHandle<Draft>, on_edit: &Callback<StoreEdit>) -> Html {
    let current = entries.get(&draft.key);
    let binary = current.filter(|e| std::str::from_utf8(&e.value).is_err());
    let pick = |key: &String, entry: &KvEntry| {
        let draft = draft.clone();
        let picked = Draft {
            key: key.clone(),
            // A binary value is shown as hex; the text box then starts empty.
            value: String::from_utf8(entry.value.clone()).unwrap_or_default(),
            metadata: text_or(&entry.metadata),
        };
        Callback::from(move |_| draft.set(picked.clone()))
    };
    let field = |update: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let mut next = (*draft).clone();
            let value = match e.target_dyn_into::<HtmlTextAreaElement>() {
                Some(area) => area.value(),
                None => e.target_unchecked_into::<HtmlInputElement>().value(),
            };
            update(&mut next, value);
            draft.set(next);
        })
    };
    let on_save = {
        let (draft, on_edit, store) = (draft.clone(), on_edit.clone(), store.to_string());
        Callback::from(move |_| {
            if draft.key.is_empty() {
                return;
            }
            on_edit.emit(StoreEdit::KvPut {
                store: store.clone(),
                key: draft.key.clone(),
                value: ByteBuf::from(draft.value.clone().into_bytes()),
                metadata: Some(draft.metadata.clone()).filter(|m| !m.is_empty()).map(|m| ByteBuf::from(m.into_bytes())),
            });
        })
    };
    let on_delete = {
        let (draft, on_edit, store) = (draft.clone(), on_edit.clone(), store.to_string());
        Callback::from(move |_| {
            on_edit.emit(StoreEdit::KvDelete { store: store.clone(), key: draft.key.clone() });
            draft.set(Draft::default());
        })
    };
    let on_new = {
        let draft = draft.clone();
        Callback::from(move |_| draft.set(Draft::default()))
    };
    html! {
        <>
        if entries.is_empty() {
            <p class="hint small">{ "No keys. Add one below." }</p>
        } else {
            <table class="small kv-table" id="kv-entries">
                { for entries.iter().map(|(key, entry)| html! {
                    <tr class={classes!("kv-entry", (*key == draft.key).then_some("selected"))} onclick={pick(key, entry)}>
                        <td class="mono">{ key }</td>
                        <td class="num muted">{ human_bytes(entry.value.len()) }</td>
                        <td class="num muted" title="generation">{ format!("gen {}", entry.generation) }</td>
                    </tr>
                }) }
            </table>
        }
        <div class="kv-form">
            <div class="row tight">
                <input id="kv-key" class="grow mono" placeholder="key" aria-label="Key" value={draft.key.clone()}
                    oninput={field(|d, v| d.key = v)} />
                <button id="kv-new" class="small" onclick={on_new}>{ "New" }</button>
            </div>
            if let Some(entry) = binary {
                <pre class="mono small body kv-hex">{ hex_dump(&entry.value) }</pre>
            }
            <textarea id="kv-value" class="mono small" rows="3" aria-label="Value" value={draft.value.clone()} oninput={field(|d, v| d.value = v)}
                placeholder={if binary.is_some() { "binary value (hex above); text typed here replaces it" } else { "value" }} />
            <input id="kv-metadata" class="mono small wide" placeholder="metadata (optional)" aria-label="Metadata"
                value={draft.metadata.clone()} oninput={field(|d, v| d.metadata = v)} />
            <div class="row tight">
                <span class="muted small grow">{ match current {
                    Some(entry) => format!("generation {}{}", entry.generation,
                        entry.expires_at_ms.map(|at| format!(" · expires {}", js_sys::Date::new(&(at as f64).into()).to_iso_string())).unwrap_or_default()),
                    None if draft.key.is_empty() => String::new(),
                    None => "new key".to_string(),
                } }</span>
                <button id="kv-delete" class="small" disabled={current.is_none()} onclick={on_delete}>{ "Delete" }</button>
                <button id="kv-save" class="small" disabled={draft.key.is_empty()} onclick={on_save}>{ "Save" }</button>
            </div>
        </div>
        </>
    }
}
