//! "Lộ trình": checkpoints in order with distance and bearing, and the three ways to check in.

use super::ctx::Ui;
use crate::domain::geofence::{format_distance, Compass};
use crate::domain::records::{CheckIn, CheckInRequest};
use crate::domain::ward::Checkpoint;
use crate::platform::Gps;
use crate::service::Local;
use crate::store::records::LogEntry;
use dioxus::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Qr,
    Manual,
}

/// The Route screen.
#[component]
pub fn Route() -> Element {
    let ui = Ui::get();
    // Opening the route is the tap that needs the location: the browser asks now, not at load.
    use_hook(move || ui.use_location());
    let setup = ui.setup.read();
    let Some(setup) = setup.as_ref() else {
        return rsx! { p { class: "card", {ui.t("setup.none")} } };
    };
    let gps = ui.gps.read().clone();
    let gps_line = match &gps {
        Gps::Waiting => ui.t("route.gps_wait"),
        Gps::Fix(f) => ui.tf("route.gps_acc", &[("acc", format_distance(f.accuracy_m))]),
        Gps::Unavailable(why) => ui.t(why.key()),
    };
    let active = ui.active.read();
    let checkins: Vec<&CheckIn> = active
        .as_ref()
        .map(|l| {
            l.entries
                .iter()
                .filter_map(|e| {
                    if let LogEntry::CheckIn(c) = e {
                        Some(c)
                    } else {
                        None
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let running = active.is_some();
    rsx! {
        p { class: if matches!(gps, Gps::Fix(_)) { "gps ok" } else { "gps" }, "data-testid": "gps", "{gps_line}" }
        if !running { p { class: "card muted", "data-testid": "route-no-shift", {ui.t("route.no_shift")} } }
        ol { class: "checkpoints",
            for cp in setup.checkpoints.iter() {
                CheckpointRow {
                    key: "{cp.id}",
                    cp: cp.clone(),
                    running,
                    visited: checkins.iter().any(|c| c.checkpoint_id == cp.id),
                    verified: checkins.iter().any(|c| c.checkpoint_id == cp.id && c.verified),
                }
            }
        }
    }
}

#[component]
fn CheckpointRow(cp: Checkpoint, running: bool, visited: bool, verified: bool) -> Element {
    let ui = Ui::get();
    let mut form = use_signal(|| None::<Form>);
    let mut text = use_signal(String::new);
    let fix = ui.gps.read().fix();
    let where_ = fix.map(|f| {
        let d = f.pos.distance_m(cp.pos);
        let dir = Compass::from_bearing(f.pos.bearing_deg(cp.pos));
        ui.tf(
            "route.distance",
            &[("distance", format_distance(d)), ("dir", ui.t(dir.key()))],
        )
    });
    let id = cp.id.clone();
    let send = move |request: CheckInRequest| {
        let checkpoint_id = id.clone();
        async move {
            if ui
                .send(Local::CheckIn {
                    checkpoint_id,
                    request,
                })
                .await
            {
                form.set(None);
                text.set(String::new());
            }
        }
    };
    let gps_send = send.clone();
    let form_send = send.clone();
    let current = *form.read();
    rsx! {
        li { class: if verified { "cp verified" } else if visited { "cp visited" } else { "cp" }, "data-testid": "cp-{cp.id}",
            div { class: "cp-head",
                span { class: "cp-seq", "{cp.seq}" }
                span { class: "cp-name", "{cp.name}" }
                if let Some(w) = where_ { span { class: "cp-dist", "data-testid": "dist-{cp.id}", "{w}" } }
            }
            if visited {
                p { class: "cp-state", "data-testid": "state-{cp.id}",
                    {ui.t("route.visited")} " · "
                    {if verified { ui.t("route.verified") } else { ui.t("route.unverified") }}
                }
            }
            if running {
                div { class: "cp-actions",
                    button { class: "primary", "data-testid": "checkin-{cp.id}", disabled: fix.is_none() || *ui.busy.read(),
                        onclick: move |_| {
                            let s = gps_send.clone();
                            async move {
                                match ui.gps.read().fix() {
                                    Some(fix) => { s(CheckInRequest::Gps { fix }).await; }
                                    None => ui.fail(ui.t("err.no_fix")),
                                }
                            }
                        },
                        {ui.t("route.checkin")}
                    }
                    button { class: if current == Some(Form::Qr) { "on" } else { "" }, "data-testid": "qr-{cp.id}",
                        onclick: move |_| form.set(if current == Some(Form::Qr) { None } else { Some(Form::Qr) }), {ui.t("route.qr")} }
                    button { class: if current == Some(Form::Manual) { "on" } else { "" }, "data-testid": "manual-{cp.id}",
                        onclick: move |_| form.set(if current == Some(Form::Manual) { None } else { Some(Form::Manual) }), {ui.t("route.manual")} }
                }
                if let Some(kind) = current {
                    div { class: "cp-form",
                        if kind == Form::Qr {
                            label { class: "big ghost file",
                                {ui.t("route.scan")}
                                input { r#type: "file", accept: "image/*", "capture": "environment", id: "qr-photo-{cp.id}",
                                    "data-testid": "qr-photo-{cp.id}",
                                    onchange: {
                                        let s = form_send.clone();
                                        let input_id = format!("qr-photo-{}", cp.id);
                                        move |_| {
                                            let s = s.clone();
                                            let input_id = input_id.clone();
                                            async move {
                                                match crate::platform::scan_qr(&input_id).await {
                                                    Ok(Some(code)) => {
                                                        text.set(code.clone());
                                                        s(CheckInRequest::Qr { code, fix: ui.gps.read().fix() }).await;
                                                    }
                                                    Ok(None) => ui.fail(ui.t("route.scan_nothing")),
                                                    Err(_) => ui.fail(ui.t("route.scan_unsupported")),
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        label { class: "field",
                            {if kind == Form::Qr { ui.t("route.qr_prompt") } else { ui.t("route.reason") }}
                            input { "data-testid": "form-text-{cp.id}", value: "{text}", oninput: move |e| text.set(e.value()),
                                autocapitalize: if kind == Form::Qr { "characters" } else { "sentences" } }
                        }
                        button { class: "big primary", "data-testid": "form-ok-{cp.id}", disabled: *ui.busy.read(),
                            onclick: move |_| {
                                let s = form_send.clone();
                                let fix = ui.gps.read().fix();
                                let request = match kind {
                                    Form::Qr => CheckInRequest::Qr { code: text(), fix },
                                    Form::Manual => CheckInRequest::Manual { reason: text(), fix },
                                };
                                async move { s(request).await; }
                            },
                            {ui.t("common.confirm")}
                        }
                    }
                }
            }
        }
    }
}
