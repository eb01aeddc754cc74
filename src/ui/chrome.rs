//! The frame around every screen: top bar, warnings, toast, urgent panel and bottom tabs.

use super::ctx::{Tab, Ui};
use super::fmt;
use crate::service::Command;
use dioxus::prelude::*;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// Ward name, sync count, language switch and the urgent button.
#[component]
pub fn TopBar() -> Element {
    let ui = Ui::get();
    let state = ui.state.read().clone().expect("state loaded");
    let ward = state.setup.as_ref().map(|s| s.ward.clone());
    let other = ui.lang().other();
    let sync = if state.pending_sync > 0 {
        ui.tf("sync.waiting", &[("n", state.pending_sync.to_string())])
    } else {
        ui.t("sync.none")
    };
    rsx! {
        header { class: "topbar",
            div { class: "row",
                strong { class: "app-name", {ui.t("app.title")} }
                button { class: "lang", "data-testid": "lang-switch",
                    onclick: move |_| async move { ui.send(Command::SetLang { lang: other.code().into() }).await; },
                    {ui.t("lang.switch")}
                }
                button { class: "sos", "data-testid": "sos-open", onclick: move |_| { let mut o = ui.sos_open; o.set(true) },
                    {ui.t("sos.button")}
                }
            }
            div { class: "row status",
                if let Some(w) = &ward {
                    span { class: "ward", "{w.name}" }
                    if w.demo { span { class: "badge demo", {ui.t("app.demo_badge")} } }
                }
                span { class: if state.pending_sync > 0 { "chip pending" } else { "chip" }, "data-testid": "sync-status", "{sync}" }
            }
        }
    }
}

/// Offline and storage warnings.
#[component]
pub fn Banners() -> Element {
    let ui = Ui::get();
    rsx! {
        if !*ui.online.read() {
            div { class: "banner offline", "data-testid": "offline", {ui.t("net.offline")} }
        }
        if *ui.persisted.read() == Some(false) {
            div { class: "banner warn", "data-testid": "not-persistent", {ui.t("storage.not_persistent")} }
        }
    }
}

/// The last message; tap to dismiss.
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
            "{toast.text}"
        }
    }
}

/// The bottom tabs, thumb-reachable.
#[component]
pub fn Tabs() -> Element {
    let ui = Ui::get();
    let current = *ui.tab.read();
    let tabs = [
        (Tab::Tonight, "nav.tonight", "tab-tonight"),
        (Tab::Route, "nav.route", "tab-route"),
        (Tab::Observe, "nav.observe", "tab-observe"),
        (Tab::Log, "nav.log", "tab-log"),
    ];
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

/// Urgent help: call or text the ward police or the team leader, with the position in the text.
#[component]
pub fn Sos() -> Element {
    let ui = Ui::get();
    if !*ui.sos_open.read() {
        return rsx! {};
    }
    let state = ui.state.read().clone().expect("state loaded");
    let Some(setup) = state.setup.clone() else {
        let mut o = ui.sos_open;
        return rsx! { div { class: "sheet", p { {ui.t("setup.none")} } button { onclick: move |_| o.set(false), {ui.t("common.close")} } } };
    };
    let shift = state
        .active
        .as_ref()
        .map(|l| {
            format!(
                "{} {}",
                fmt::slot(&l.shift.slot_code),
                fmt::date(l.shift.night)
            )
        })
        .unwrap_or_else(|| ui.t("sos.no_shift"));
    let team = setup.team.name.clone();
    let body = match ui.gps.read().fix() {
        Some(f) => ui.tf(
            "sos.sms_body",
            &[
                ("team", team),
                ("shift", shift),
                ("pos", format!("{:.5},{:.5}", f.pos.lat, f.pos.lon)),
                (
                    "acc",
                    crate::domain::geofence::format_distance(f.accuracy_m),
                ),
            ],
        ),
        None => ui.tf("sos.sms_body_nopos", &[("team", team), ("shift", shift)]),
    };
    let body = utf8_percent_encode(&body, NON_ALPHANUMERIC).to_string();
    let police = setup.ward.police_phone.clone();
    let leader = setup.team.leader_phone.clone();
    let mut open = ui.sos_open;
    rsx! {
        div { class: "overlay", onclick: move |_| open.set(false) }
        div { class: "sheet sos-sheet", "data-testid": "sos",
            h2 { {ui.t("sos.title")} }
            a { class: "big danger", href: "tel:{police}", "data-testid": "call-police", {ui.t("sos.call_police")}, small { " {police}" } }
            a { class: "big", href: "sms:{police}?body={body}", "data-testid": "sms-police", {ui.t("sos.sms_police")} }
            a { class: "big", href: "tel:{leader}", "data-testid": "call-leader", {ui.t("sos.call_leader")}, small { " {leader}" } }
            a { class: "big", href: "sms:{leader}?body={body}", "data-testid": "sms-leader", {ui.t("sos.sms_leader")} }
            button { class: "big ghost", onclick: move |_| open.set(false), {ui.t("common.close")} }
        }
    }
}
