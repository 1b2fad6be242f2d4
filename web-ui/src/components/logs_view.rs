//! What the guest wrote: stdout, stderr and each log endpoint, in tabs, with times.

use yew::prelude::*;

use crate::protocol::RunReport;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: RunReport,
}

#[function_component(LogsView)]
pub fn logs_view(props: &Props) -> Html {
    let table = |id: String, lines: &[(f64, String)]| html! {
        <table id={id} class="mono small log">
            if lines.is_empty() {
                <tr><td class="muted">{ "nothing written" }</td></tr>
            }
            { for lines.iter().map(|(at, text)| html! { <tr><td class="time">{ format!("{at:.1} ms") }</td><td class="line">{ text }</td></tr> }) }
        </table>
    };
    let mut tabs: Vec<(String, String, Html)> = vec![
        ("stdout".into(), format!("stdout ({})", props.report.stdout.len()), table("stdout".into(), &props.report.stdout)),
        ("stderr".into(), format!("stderr ({})", props.report.stderr.len()), table("stderr".into(), &props.report.stderr)),
    ];
    for (endpoint, lines) in &props.report.logs {
        tabs.push((format!("log-{endpoint}"), format!("{endpoint} ({})", lines.len()), table(format!("log-{endpoint}"), lines)));
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
