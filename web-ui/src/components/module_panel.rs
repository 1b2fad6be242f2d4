//! Which guest runs: an example, or a module the person brings (file picker, drag and drop).

use wasm_bindgen_futures::JsFuture;
use web_sys::{DragEvent, File, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::human_bytes;
use crate::app::{Example, ModuleState};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub examples: Vec<Example>,
    pub selected: Option<String>,
    pub module: ModuleState,
    pub on_select: Callback<String>,
    pub on_upload: Callback<(String, Vec<u8>)>,
    pub on_load_url: Callback<String>,
}

fn read_file(file: File, on_upload: Callback<(String, Vec<u8>)>) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(buffer) = JsFuture::from(file.array_buffer()).await {
            on_upload.emit((file.name(), js_sys::Uint8Array::new(&buffer).to_vec()));
        }
    });
}

#[function_component(ModulePanel)]
pub fn module_panel(props: &Props) -> Html {
    let dragging = use_state(|| false);
    let on_pick = {
        let on_select = props.on_select.clone();
        Callback::from(move |e: Event| on_select.emit(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_file = {
        let on_upload = props.on_upload.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                read_file(file, on_upload.clone());
            }
            input.set_value("");
        })
    };
    let on_drop = {
        let on_upload = props.on_upload.clone();
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                read_file(file, on_upload.clone());
            }
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let url = use_state(String::new);
    let on_url_input = {
        let url = url.clone();
        Callback::from(move |e: InputEvent| url.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_url_submit = {
        let (url, on_load_url) = (url.clone(), props.on_load_url.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !url.trim().is_empty() {
                on_load_url.emit(url.trim().to_string());
            }
        })
    };
    let description = props
        .examples
        .iter()
        .find(|e| Some(&e.name) == props.selected.as_ref())
        .map(|e| e.description.clone());
    let drop_class = classes!("drop-zone", dragging.then_some("dragging"));
    html! {
        <div class="panel" id="drop-zone" ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
            <div class="panel-title">{ "Module" }</div>
            <div class="row">
                <label for="example-picker">{ "Example" }</label>
                <select id="example-picker" onchange={on_pick}>
                    if props.selected.as_ref().is_none_or(|s| !props.examples.iter().any(|e| &e.name == s)) {
                        <option selected=true disabled=true>{ props.selected.clone().unwrap_or_else(|| "choose…".into()) }</option>
                    }
                    { for props.examples.iter().filter(|e| e.picker).map(|e| html! {
                        <option value={e.name.clone()} selected={Some(&e.name) == props.selected.as_ref()}>{ &e.title }</option>
                    }) }
                </select>
                <label class="button" for="file-input">{ "Open .wasm…" }</label>
                <input id="file-input" type="file" accept=".wasm,application/wasm" onchange={on_file} class="visually-hidden" />
            </div>
            if let Some(description) = description {
                <p class="hint">{ description }</p>
            }
            <div class={drop_class}>{ "or drop a .wasm file here" }</div>
            <form class="row url-row" onsubmit={on_url_submit}>
                <input id="module-url" class="grow mono" type="url" placeholder="or load from a URL: https://…/app.wasm"
                    aria-label="Module URL" value={(*url).clone()} oninput={on_url_input} />
                <button id="module-url-load" type="submit">{ "Load" }</button>
            </form>
            <div id="module-info" class="module-info">
                { match &props.module {
                    ModuleState::Empty => html! { <span class="muted">{ "No module loaded" }</span> },
                    ModuleState::Loading { name, progress } => html! {
                        <>
                            <span class="muted">{ match progress {
                                Some((loaded, Some(total))) => format!("Loading {name}… {} of {}", human_bytes(*loaded), human_bytes(*total)),
                                Some((loaded, None)) => format!("Loading {name}… {}", human_bytes(*loaded)),
                                None => format!("Loading {name}…"),
                            } }</span>
                            if let Some((loaded, total)) = progress {
                                <progress id="load-progress" max={total.unwrap_or(0).max(*loaded).to_string()} value={loaded.to_string()} />
                            }
                        </>
                    },
                    ModuleState::Failed(message) => html! { <pre id="module-error" class="error">{ message }</pre> },
                    ModuleState::Loaded(info) => html! {
                        <>
                            <div><strong>{ &info.name }</strong>{ format!(" · {} · compiled in {:.0} ms", human_bytes(info.size_bytes), info.compile_ms) }</div>
                            if let Some(producer) = &info.producer {
                                <div class="muted">{ format!("Built with {producer}") }</div>
                            }
                            <div class="muted">{ format!("{} imports", info.imports) }
                                if !info.unsupported.is_empty() {
                                    { format!(", {} not implemented yet", info.unsupported.len()) }
                                }
                            </div>
                            if !info.unsupported.is_empty() {
                                <details><summary>{ "Imports answered as unsupported" }</summary>
                                    <ul class="mono small">{ for info.unsupported.iter().map(|i| html! { <li>{ i }</li> }) }</ul>
                                </details>
                            }
                        </>
                    },
                } }
            </div>
        </div>
    }
}

