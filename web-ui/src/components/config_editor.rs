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
                if let Ok(json) = serde_json::to_string_pretty(&crate::components::config_editor::to_json(&config)) {
                    on_change.emit(json);
                }
            }
        })
    };
    let looks_like_toml = props.text.contains("[local_server");
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

/// The JSON form of an imported config (the fields people write).
pub fn to_json(config: &host_core::Config) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let backends: serde_json::Map<String, serde_json::Value> = config
        .backends
        .iter()
        .map(|(name, b)| {
            let mut backend = serde_json::Map::new();
            if let Some(url) = &b.url {
                backend.insert("url".into(), url.clone().into());
            }
            if let Some(host) = &b.override_host {
                backend.insert("override_host".into(), host.clone().into());
            }
            (name.clone(), backend.into())
        })
        .collect();
    if !backends.is_empty() {
        out.insert("backends".into(), backends.into());
    }
    for (key, stores) in [("dictionaries", &config.dictionaries), ("config_stores", &config.config_stores), ("secret_stores", &config.secret_stores)] {
        if !stores.is_empty() {
            out.insert(key.into(), serde_json::to_value(stores).unwrap_or_default());
        }
    }
    serde_json::Value::Object(out)
}
