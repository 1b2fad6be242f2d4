//! The request to send: method, URL, headers, body, client IP. Ctrl+Enter sends.

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

use crate::app::RequestDraft;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub draft: RequestDraft,
    pub on_change: Callback<RequestDraft>,
    pub on_send: Callback<()>,
    pub on_cancel: Callback<()>,
    pub running: bool,
    pub ready: bool,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

#[function_component(RequestComposer)]
pub fn request_composer(props: &Props) -> Html {
    let edit = |apply: fn(&mut RequestDraft, String)| {
        let on_change = props.on_change.clone();
        let draft = props.draft.clone();
        move |value: String| {
            let mut draft = draft.clone();
            apply(&mut draft, value);
            on_change.emit(draft);
        }
    };
    let set_method = edit(|d, v| d.method = v);
    let set_url = edit(|d, v| d.url = v);
    let headers_table = {
        let (on_change, draft) = (props.on_change.clone(), props.draft.clone());
        let update = move |index: usize, name: Option<String>, value: Option<String>| {
            let mut draft = draft.clone();
            if index == draft.headers.len() {
                draft.headers.push((String::new(), String::new()));
            }
            if let Some(name) = name {
                draft.headers[index].0 = name;
            }
            if let Some(value) = value {
                draft.headers[index].1 = value;
            }
            on_change.emit(draft);
        };
        let remove = {
            let (on_change, draft) = (props.on_change.clone(), props.draft.clone());
            move |index: usize| {
                let mut draft = draft.clone();
                draft.headers.remove(index);
                on_change.emit(draft);
            }
        };
        // One empty row at the end is where a new header is typed.
        let rows = props.draft.headers.iter().cloned().chain(std::iter::once((String::new(), String::new())));
        html! {
            <table class="headers-table">
                { for rows.enumerate().map(|(i, (name, value))| {
                    let last = i == props.draft.headers.len();
                    let (set_name, set_value, remove) = (update.clone(), update.clone(), remove.clone());
                    html! {
                        <tr>
                            <td><input id={format!("req-header-name-{i}")} class="mono" placeholder="Name" aria-label="Header name" value={name}
                                oninput={Callback::from(move |e: InputEvent| set_name(i, Some(e.target_unchecked_into::<HtmlInputElement>().value()), None))} /></td>
                            <td><input id={format!("req-header-value-{i}")} class="mono" placeholder="value" aria-label="Header value" value={value}
                                oninput={Callback::from(move |e: InputEvent| set_value(i, None, Some(e.target_unchecked_into::<HtmlInputElement>().value())))} /></td>
                            <td>if !last {
                                <button class="icon" aria-label="Remove header" onclick={Callback::from(move |_| remove(i))}>{ "×" }</button>
                            }</td>
                        </tr>
                    }
                }) }
            </table>
        }
    };
    let set_body = edit(|d, v| d.body = v);
    let set_ip = edit(|d, v| d.client_ip = v);
    let on_body_file = {
        let (on_change, draft) = (props.on_change.clone(), props.draft.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            let (on_change, draft) = (on_change.clone(), draft.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(buffer) = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                    let mut draft = draft;
                    draft.body_file = Some((file.name(), std::rc::Rc::new(js_sys::Uint8Array::new(&buffer).to_vec())));
                    on_change.emit(draft);
                }
            });
            input.set_value("");
        })
    };
    let clear_body_file = {
        let (on_change, draft) = (props.on_change.clone(), props.draft.clone());
        Callback::from(move |_| {
            let mut draft = draft.clone();
            draft.body_file = None;
            on_change.emit(draft);
        })
    };
    let on_key = {
        let on_send = props.on_send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                on_send.emit(());
            }
        })
    };
    html! {
        <div class="panel" onkeydown={on_key}>
            <div class="panel-title">{ "Request" }</div>
            <div class="row">
                <select id="req-method" aria-label="Method"
                    onchange={Callback::from(move |e: Event| set_method(e.target_unchecked_into::<HtmlSelectElement>().value()))}>
                    { for METHODS.iter().map(|m| html! { <option selected={props.draft.method == *m}>{ *m }</option> }) }
                </select>
                <input id="req-url" class="grow mono" aria-label="URL" value={props.draft.url.clone()}
                    oninput={Callback::from(move |e: InputEvent| set_url(e.target_unchecked_into::<HtmlInputElement>().value()))} />
                if props.running {
                    <button id="cancel" class="danger" onclick={props.on_cancel.reform(|_| ())}>{ "Cancel" }</button>
                } else {
                    <button id="send" class="primary" disabled={!props.ready} title="Ctrl+Enter"
                        onclick={props.on_send.reform(|_| ())}>{ "Send" }</button>
                }
            </div>
            <div class="grid2">
                <div class="field">{ "Headers" }{ headers_table }</div>
                <div class="field">
                    <div class="row tight">{ "Body" }<span class="spacer" />
                        <label class="link" for="req-body-file">{ "from a file…" }</label>
                        <input id="req-body-file" type="file" class="visually-hidden" onchange={on_body_file} />
                    </div>
                    if let Some((name, bytes)) = &props.draft.body_file {
                        <div class="file-chip mono">{ format!("{name} ({})", super::human_bytes(bytes.len())) }
                            <button class="icon" aria-label="Use the text body" onclick={clear_body_file}>{ "×" }</button></div>
                    } else {
                        <textarea id="req-body" class="mono" rows="3" value={props.draft.body.clone()} aria-label="Body"
                            oninput={Callback::from(move |e: InputEvent| set_body(e.target_unchecked_into::<HtmlTextAreaElement>().value()))} />
                    }
                </div>
            </div>
            <label class="row small">{ "Client IP" }
                <input id="req-client-ip" class="mono" placeholder="from config" value={props.draft.client_ip.clone()}
                    oninput={Callback::from(move |e: InputEvent| set_ip(e.target_unchecked_into::<HtmlInputElement>().value()))} />
            </label>
        </div>
    }
}
