//! The urgent sheet: call or text the ward police or the team leader, with the position and the
//! shift in the text.

use super::ctx::Ui;
use super::fmt;
use dioxus::prelude::*;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// Urgent help: call or text the ward police or the team leader, with the position in the text.
#[component]
pub fn Sos() -> Element {
    let ui = Ui::get();
    if !*ui.sos_open.read() {
        return rsx! {};
    }
    let Some(setup) = ui.setup.read().clone() else {
        let mut o = ui.sos_open;
        return rsx! { div { class: "sheet", p { {ui.t("setup.none")} } button { onclick: move |_| o.set(false), {ui.t("common.close")} } } };
    };
    let shift = ui
        .active
        .read()
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
            button { class: "big ghost", "data-testid": "sos-close", onclick: move |_| open.set(false), {ui.t("common.close")} }
        }
    }
}
