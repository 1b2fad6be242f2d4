//! What the guest wrote: stdout, stderr and each log endpoint, in tabs, with times.

use yew::prelude::*;

use crate::protocol::RunReport;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: RunReport,
}

#[function_component(LogsView)]
pub fn logs_view(props: &Props) -> Html {
    let mut tabs: Vec<(String, String, Html)> = vec![
        ("stdout".into(), format!("stdout"), html! { <pre id="stdout" class="mono small">{ &props.report.stdout }</pre> }),
        ("stderr".into(), format!("stderr"), html! { <pre id="stderr" class="mono small">{ &props.report.stderr }</pre> }),
    ];
    for (endpoint, lines) in &props.report.logs {
        tabs.push((
            format!("log-{endpoint}"),
            format!("{endpoint} ({})", lines.len()),
            html! {
                <table class="mono small log">
                    { for lines.iter().map(|(at, text)| html! { <tr><td class="time">{ format!("{at:.1} ms") }</td><td>{ text }</td></tr> }) }
                </table>
            },
        ));
    }
    let default = if props.report.stderr.is_empty() { 0 } else { 1 };
    let active = use_state(|| default);
    let index = (*active).min(tabs.len() - 1);
    html! {
        <div class="panel" id="logs">
            <div class="panel-title">{ "Logs" }</div>
            <div role="tablist" class="tabs">
                { for tabs.iter().enumerate().map(|(i, (id, label, _))| {
                    let active = active.clone();
                    html! { <button id={format!("tab-{id}")} role="tab" aria-selected={(i == index).to_string()}
                        class={classes!("tab", (i == index).then_some("active"))} onclick={Callback::from(move |_| active.set(i))}>{ label }</button> }
                }) }
            </div>
            { tabs[index].2.clone() }
        </div>
    }
}
