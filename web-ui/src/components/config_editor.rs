//! The JSON config, validated as it is typed: a syntax error shows its line and column, a
//! schema error its path. The last valid config stays in effect meanwhile (see `app`).

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub text: String,
    pub on_change: Callback<String>,
}

#[function_component(ConfigEditor)]
pub fn config_editor(props: &Props) -> Html {
    let error = host_core::Config::from_json(&props.text).err();
    let on_input = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: InputEvent| on_change.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_format = {
        let on_change = props.on_change.clone();
        let text = props.text.clone();
        Callback::from(move |_| {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Ok(pretty) = serde_json::to_string_pretty(&value) {
                    on_change.emit(pretty);
                }
            }
        })
    };
    let on_import = {
        let on_change = props.on_change.clone();
        let text = props.text.clone();
        Callback::from(move |_| {
            // A pasted fastly.toml becomes the equivalent JSON.
            if let Ok(config) = host_core::config::from_fastly_toml(&text) {
                if let Ok(json) = serde_json::to_string_pretty(&config.to_json()) {
                    on_change.emit(json);
                }
            }
        })
    };
    let looks_like_toml = props.text.contains("[local_server");
    let import_error = use_state(|| None::<String>);
    let on_toml_file = {
        let (on_change, import_error) = (props.on_change.clone(), import_error.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            let (on_change, import_error) = (on_change.clone(), import_error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await else { return };
                match host_core::config::from_fastly_toml(&text.as_string().unwrap_or_default()) {
                    Ok(config) => {
                        import_error.set(None);
                        on_change.emit(serde_json::to_string_pretty(&config.to_json()).unwrap_or_default());
                    }
                    Err(e) => import_error.set(Some(format!("{}: {e}", file.name()))),
                }
            });
            input.set_value("");
        })
    };
    // Line numbers beside the text, the error's line marked; they scroll with the text.
    let gutter = use_node_ref();
    let on_scroll = {
        let gutter = gutter.clone();
        Callback::from(move |e: Event| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            if let Some(gutter) = gutter.cast::<web_sys::Element>() {
                gutter.set_scroll_top(area.scroll_top());
            }
        })
    };
    let error_line = error.as_ref().and_then(|e| e.line);
    let lines = props.text.split('\n').count().max(1);
    html! {
        <div class="panel config">
            <div class="panel-title">
                <label for="config-editor">{ "Config" }</label>
                <span class="spacer" />
                if looks_like_toml {
                    <button id="config-import" onclick={on_import}>{ "Import fastly.toml" }</button>
                }
                <label class="button" for="config-toml-file">{ "Import fastly.toml…" }</label>
                <input id="config-toml-file" type="file" accept=".toml" class="visually-hidden" onchange={on_toml_file} />
                <button id="config-format" onclick={on_format} disabled={error.is_some()}>{ "Format" }</button>
            </div>
            <div class="editor">
                <div class="gutter mono" ref={gutter} aria-hidden="true">
                    { for (1..=lines).map(|n| html! {
                        <div class={classes!((Some(n) == error_line).then_some("error-line"))}>{ n }</div>
                    }) }
                </div>
                <textarea id="config-editor" class={classes!("code", error.is_some().then_some("invalid"))}
                    spellcheck="false" wrap="off" value={props.text.clone()} oninput={on_input} onscroll={on_scroll}
                    aria-invalid={error.is_some().to_string()} aria-describedby="config-error" />
            </div>
            if let Some(message) = &*import_error {
                <pre id="config-import-error" class="error">{ message }</pre>
            }
            <div id="config-error" class={if error.is_some() { "error" } else { "ok" }} role="status">
                { match &error {
                    Some(e) => format!("{}{}", match (e.line, e.column) {
                        (Some(l), Some(c)) => format!("Line {l}, column {c}: "),
                        _ => String::new(),
                    }, if e.path.is_empty() { e.message.clone() } else { format!("{}: {}", e.path, e.message) })
                        + " — the last valid config is still in use",
                    None => "Valid config".to_string(),
                } }
            </div>
        </div>
    }
}
