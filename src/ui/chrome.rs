//! The frame around every screen: top bar, warnings, toast and bottom tabs.

use super::ctx::{LeaderBuild, Tab, Ui};
use crate::i18n;
use crate::service::Local;
use dioxus::prelude::*;

/// Ward name, sync count, language switch and the urgent button.
#[component]
pub fn TopBar() -> Element {
    let ui = Ui::get();
    let ward = ui.setup.read().as_ref().map(|s| s.ward.clone());
    let other = ui.lang().other();
    let pending = *ui.pending_sync.read();
    let sync = if pending > 0 {
        ui.tf("sync.waiting", &[("n", pending.to_string())])
    } else {
        ui.t("sync.none")
    };
    rsx! {
        header { class: "topbar",
            div { class: "row",
                strong { class: "app-name", {ui.t("app.title")} }
                button { class: "lang", "data-testid": "lang-switch",
                    onclick: move |_| async move { ui.send(Local::SetLang { lang: other }).await; },
                    {ui.t("lang.switch")}
                }
                button { class: "sos", "data-testid": "sos-open", onclick: move |_| { ui.use_location(); let mut o = ui.sos_open; o.set(true) },
                    {ui.t("sos.button")}
                }
            }
            div { class: "row status",
                if let Some(w) = &ward {
                    span { class: "ward", "{w.name}" }
                    if w.demo { span { class: "badge demo", {ui.t("app.demo_badge")} } }
                }
                span { class: if pending > 0 { "chip pending" } else { "chip" }, "data-testid": "sync-status", "{sync}" }
            }
        }
    }
}

/// The offline warning.
#[component]
pub fn Banners() -> Element {
    let ui = Ui::get();
    // Urgent tips still waiting, for a leader: on every screen, impossible to miss (it opens the
    // Team tab, so only where that tab is).
    let (urgent, first) =
        ui.team
            .read()
            .as_ref()
            .filter(|_| ui.team_tab())
            .map_or((0, None), |t| {
                // Waiting first, urgent first: the first is the one the alert opens.
                let waiting: Vec<&String> = t
                    .log
                    .tips
                    .iter()
                    .filter(|t| t.observation.urgent && t.state.waiting())
                    .map(|t| &t.observation.id)
                    .collect();
                (waiting.len(), waiting.first().map(|id| (*id).clone()))
            });
    rsx! {
        if !*ui.online.read() {
            div { class: "banner offline", "data-testid": "offline", {ui.t("net.offline")} }
        }
        if ui.reviews() && !ui.team_tab() {
            LeaderBuildCard {}
        }
        if urgent > 0 {
            div { role: "alert",
                button { class: "banner urgent", "data-testid": "urgent-tips",
                    onclick: move |_| if let Some(id) = first.clone() { ui.open_tip(id) },
                    {ui.tf("team.urgent_banner", &[("n", urgent.to_string())])}
                }
            }
        }
    }
}

/// On the members' build of a reviewer's device: the Team tab's screens are a download away
/// (started by itself at the app's start, else by this card's button).
#[component]
fn LeaderBuildCard() -> Element {
    let ui = Ui::get();
    let (text, button) = match ui.leader_build.read().clone() {
        LeaderBuild::Idle => (ui.t("team.build_ready"), Some("team.build_open")),
        LeaderBuild::Loading => (ui.t("team.build_loading"), None),
        LeaderBuild::Kept => (ui.t("team.build_kept"), Some("team.build_restart")),
        LeaderBuild::Failed(why) => (
            i18n::tf(ui.lang(), &why.key, &why.args),
            Some("team.build_open"),
        ),
    };
    rsx! {
        div { class: "banner build", role: "status", "data-testid": "leader-build",
            p { "{text}" }
            if let Some(key) = button {
                button { class: "big", "data-testid": "leader-build-open", onclick: move |_| ui.move_to_leader_build(true),
                    {ui.t(key)}
                }
            }
        }
    }
}

/// The last message; tap to dismiss. An error's details, if any, behind a toggle that does not
/// dismiss it.
#[component]
pub fn Toast() -> Element {
    let ui = Ui::get();
    let Some(toast) = ui.toast.read().clone() else {
        return rsx! {};
    };
    let mut t = ui.toast;
    rsx! {
        div { class: if toast.error { "toast error" } else { "toast ok" }, role: "status", "data-testid": "toast",
            onclick: move |_| t.set(None),
            span { "data-testid": "toast-text", "{toast.text}" }
            if let Some(detail) = &toast.detail {
                details { class: "toast-detail", onclick: move |e| e.stop_propagation(),
                    summary { {ui.t("toast.details")} }
                    p { "{detail}" }
                }
            }
        }
    }
}

/// The bottom tabs, thumb-reachable.
#[component]
pub fn Tabs() -> Element {
    let ui = Ui::get();
    let current = *ui.tab.read();
    let reviewer = ui.team_tab();
    let mut tabs = vec![
        (Tab::Tonight, "nav.tonight", "tab-tonight"),
        (Tab::Route, "nav.route", "tab-route"),
        (Tab::Observe, "nav.observe", "tab-observe"),
        (Tab::Log, "nav.log", "tab-log"),
    ];
    if reviewer {
        tabs.push((Tab::Team, "nav.team", "tab-team"));
    }
    rsx! {
        nav { class: "tabs",
            for (tab, key, id) in tabs {
                button { key: "{id}", class: if tab == current { "tab on" } else { "tab" }, "data-testid": "{id}",
                    onclick: move |_| ui.go(tab),
                    {ui.t(key)}
                }
            }
        }
    }
}

/// A row of tabs inside a screen (the team screen's parts, the admin's views): the one shown is
/// `current`, marked for assistive technology; a message was about the part left, so it goes.
pub fn sub_tabs<T: Copy + PartialEq + 'static>(
    ui: Ui,
    mut current: Signal<T>,
    tabs: Vec<(T, &'static str, &'static str)>,
) -> Element {
    let shown = current();
    rsx! {
        div { class: "choice wrap", role: "tablist",
            for (tab, key, id) in tabs {
                button { key: "{id}", role: "tab", class: if tab == shown { "pick on" } else { "pick" }, "data-testid": "{id}",
                    "aria-selected": if tab == shown { "true" } else { "false" },
                    onclick: move |_| { current.set(tab); ui.clear_message() }, {ui.t(key)} }
            }
        }
    }
}
