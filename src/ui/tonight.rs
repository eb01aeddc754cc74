//! "Đêm nay": tonight's shifts, starting a shift with the members present, ending it, the summary.

use super::ctx::{Tab, Ui};
use super::fmt;
use crate::domain::allowance::YearMonth;
use crate::domain::shift::night_of;
use crate::service::{Command, Local};
use crate::store::records::ShiftLog;
use dioxus::prelude::*;
use std::collections::BTreeSet;

/// The Tonight screen.
#[component]
pub fn Tonight() -> Element {
    let ui = Ui::get();
    // A memo of which shift runs: a save changes the log, not this, so the screen stays as it is.
    let running = use_memo(move || {
        ui.active
            .read()
            .as_ref()
            .map(|log| (log.shift.slot_code.clone(), log.shift.started_at))
    });
    let running = running();
    let Some(setup) = ui.setup.read().clone() else {
        return rsx! { NoWard {} };
    };
    let Some(tonight) = ui.tonight.read().clone() else {
        return rsx! { NoWard {} };
    };
    let tz = ui.tz();
    let last_ended = ui.last_ended.read().clone();
    rsx! {
        section { class: "card",
            h1 { "data-testid": "tonight-title", {ui.tf("tonight.title", &[("date", fmt::date(tonight.night))])} }
            p { class: "muted", {ui.tf("tonight.team", &[("team", setup.team.name.clone()), ("ward", setup.ward.name.clone())])} }
            ul { class: "slots", "data-testid": "slots",
                for w in tonight.windows.iter() {
                    li { key: "{w.code}",
                        span { class: "slot-label", {ui.tf("tonight.slot", &[("code", fmt::slot(&w.code)), ("label", w.label.clone())])} }
                        if tonight.planned.contains(&w.code) { span { class: "badge now", "data-testid": "planned-{w.code}", {ui.t("tonight.planned")} } }
                        if tonight.done.contains(&w.code) { span { class: "badge", {ui.t("tonight.done")} } }
                        else if tonight.suggested.as_ref() == Some(&w.code) { span { class: "badge now", {ui.t("tonight.suggested")} } }
                    }
                }
            }
        }
        if let Some((code, started_at)) = running {
            section { class: "card running", "data-testid": "running",
                p { {ui.tf("tonight.running", &[("code", fmt::slot(&code)), ("time", fmt::clock(started_at, tz))])} }
                EndShift {}
            }
        } else {
            StartShift { suggested: tonight.suggested.clone().or_else(|| tonight.windows.first().map(|w| w.code.clone())).unwrap_or_default() }
            if let Some(log) = last_ended { Summary { log } }
        }
        Coming {}
        section { class: "card",
            h2 { {ui.t("tonight.route")} }
            ol { class: "route-preview",
                for cp in setup.checkpoints.iter() { li { key: "{cp.id}", "{cp.name}" } }
            }
            if setup.ward.demo { ImportRoute {} }
        }
        SyncCard {}
    }
}

/// The member's own nights on duty this month as the ward server's sheet counts them ("Tháng 12:
/// 7 đêm trực"): read after each sync, the last count kept on the screen offline.
#[component]
fn MyNights() -> Element {
    let ui = Ui::get();
    // Read again only when a sync succeeded (not on every change of the sync state), for the
    // month it is then.
    let synced = use_memo(move || ui.sync.read().last_success);
    use_effect(move || {
        if synced().is_some() && *ui.online.read() {
            let month = YearMonth::of(night_of(crate::clock::now(), ui.tz()));
            spawn(async move { ui.read_my_allowance(month).await });
        }
    });
    let month = YearMonth::of(night_of(crate::clock::now(), ui.tz()));
    let mine = ui.my_allowance.read().clone();
    let Some(m) = mine.filter(|m| m.month == month) else {
        return rsx! {};
    };
    rsx! {
        p { "data-testid": "my-nights",
            {ui.tf("allowance.mine", &[("month", m.month.month().to_string()), ("paid", m.paid.to_string())])}
            if m.over_cap > 0 { " (" {ui.tf("allowance.mine_over", &[("over", m.over_cap.to_string())])} ")" }
        }
    }
}

/// Sync status in words, refused records, and "sync now".
#[component]
fn SyncCard() -> Element {
    let ui = Ui::get();
    let sync = ui.sync.read().clone();
    let tz = ui.tz();
    rsx! {
        section { class: "card sync", "data-testid": "sync-card",
            h2 { {ui.t("sync.title")} }
            if *ui.persisted.read() == Some(false) {
                p { class: if *ui.pending_sync.read() > 0 { "warn" } else { "muted" }, "data-testid": "not-persistent", {ui.t("storage.not_persistent")} }
            }
            if *ui.enrolling.read() { p { "data-testid": "enrolling", {ui.t("sync.enrolling")} } }
            if !sync.enrolled {
                p { class: "muted", {ui.t("sync.not_enrolled")} }
            } else {
                p { {ui.tf("sync.enrolled", &[("role", ui.t(sync.role.unwrap_or_default().key()))])} }
                MyNights {}
                p { "data-testid": "sync-last",
                    {match sync.last_success { Some(t) => ui.tf("sync.last", &[("time", fmt::clock(t, tz))]), None => ui.t("sync.never") }}
                }
                if let Some(code) = &sync.last_error { p { class: "sync-error", "data-testid": "sync-error", {ui.t(&format!("sync.err_{code}"))} } }
                if !sync.refused.is_empty() {
                    p { {ui.tf("sync.refused", &[("n", sync.refused.len().to_string())])} }
                    ul { for r in sync.refused.iter() { li { key: "{r.seq}", title: "{r.message}", {ui.tf("sync.refused_line", &[("seq", r.seq.to_string()), ("kind", ui.t(&format!("event.{}", r.kind.code()))), ("why", ui.t(&format!("refusal.{}", r.code.code())))])} } } }
                }
                p { "data-testid": "photos-waiting",
                    if sync.photos.waiting > 0 {
                        {ui.tf("photo.waiting", &[("n", sync.photos.waiting.to_string()), ("size", fmt::bytes(sync.photos.waiting_bytes))])}
                    } else {
                        {ui.tf("photo.stored", &[("size", fmt::bytes(sync.photos.stored_bytes))])}
                    }
                }
                if sync.photos.refused > 0 {
                    p { class: "sync-error", "data-testid": "photos-refused", {ui.tf("photo.refused", &[("n", sync.photos.refused.to_string())])} }
                }
                label { class: "check",
                    input { r#type: "checkbox", "data-testid": "photos-wifi-only", checked: sync.photos_wifi_only,
                        onchange: move |e: FormEvent| async move { ui.send(Local::SetPhotosWifiOnly { on: e.checked() }).await; } }
                    span { {ui.t("photo.wifi_only")} }
                }
                if !sync.feed_rejected.is_empty() {
                    p { "data-testid": "feed-rejected", {ui.tf("sync.feed_rejected", &[("n", sync.feed_rejected.len().to_string())])} }
                    ul { for (cursor, reason) in sync.feed_rejected.iter() { li { key: "{cursor}", "#{cursor}: {reason}" } } }
                }
                button { class: "big", "data-testid": "sync-now", disabled: *ui.busy.read(),
                    onclick: move |_| async move { ui.send(Command::SyncNow).await; },
                    {ui.t("sync.now")}
                }
            }
        }
    }
}

#[component]
fn NoWard() -> Element {
    let ui = Ui::get();
    rsx! {
        section { class: "card", "data-testid": "no-ward",
            p { {ui.t("setup.none")} }
            button { class: "big primary", "data-testid": "load-demo", disabled: *ui.busy.read(),
                onclick: move |_| async move { ui.send(Local::LoadDemo).await; },
                {ui.t("setup.load_demo")}
            }
            p { class: "muted", {ui.t("setup.demo_note")} }
        }
    }
}

#[component]
fn ImportRoute() -> Element {
    let ui = Ui::get();
    rsx! {
        label { class: "big ghost file",
            {ui.t("setup.import")}
            input { r#type: "file", accept: ".geojson,.json,application/geo+json,application/json", "data-testid": "import-geojson",
                onchange: move |e: FormEvent| async move {
                    let Some(file) = e.files().into_iter().next() else { return };
                    match file.read_string().await {
                        Ok(geojson) => { ui.send(Local::ImportCheckpoints { geojson }).await; }
                        Err(err) => {
                            ui.fail_with(&crate::service::ApiError::new("err.file_unreadable").detail(err));
                        }
                    }
                }
            }
        }
    }
}

/// The member's coming shifts from the roster (after a sync), at most two weeks' worth.
#[component]
fn Coming() -> Element {
    let ui = Ui::get();
    let me = ui.sync.read().member_id.clone();
    let slots = ui.slots();
    let mine: Vec<(chrono::NaiveDate, String)> = ui
        .duties
        .read()
        .iter()
        .filter(|d| Some(&d.member_id) == me.as_ref())
        .map(|d| (d.night, d.slot.clone()))
        .take(14)
        .collect();
    if me.is_none() {
        return rsx! {};
    }
    rsx! {
        section { class: "card", "data-testid": "coming",
            h2 { {ui.t("tonight.coming")} }
            if mine.is_empty() { p { class: "muted", {ui.t("tonight.coming_none")} } }
            ul { class: "plain",
                for (night, code) in mine.iter() {
                    li { key: "{night}-{code}",
                        {ui.tf("tonight.coming_line", &[("date", fmt::date(*night)), ("code", fmt::slot(code)), ("label", slots.iter().find(|s| &s.code == code).map(|s| s.label()).unwrap_or_default())])}
                    }
                }
            }
        }
    }
}

#[component]
fn StartShift(suggested: String) -> Element {
    let ui = Ui::get();
    let Some(setup) = ui.setup.read().clone() else {
        return rsx! {};
    };
    let mut slot = use_signal(|| suggested.clone());
    let mut present = use_signal(BTreeSet::<String>::new);
    rsx! {
        section { class: "card", "data-testid": "start-shift",
            div { class: "choice",
                for s in setup.team.slots.iter() {
                    button { key: "{s.code}", class: if *slot.read() == s.code { "pick on" } else { "pick" },
                        "data-testid": "slot-{s.code}",
                        onclick: { let code = s.code.clone(); move |_| slot.set(code.clone()) },
                        {fmt::slot(&s.code)} " " small { "{s.label()}" }
                    }
                }
            }
            h2 { {ui.t("tonight.members")} }
            for m in setup.members.iter() {
                label { key: "{m.id}", class: "check",
                    input { r#type: "checkbox", "data-testid": "member-{m.id}", checked: present.read().contains(&m.id),
                        onchange: { let id = m.id.clone(); move |e: FormEvent| {
                            if e.checked() { present.write().insert(id.clone()); } else { present.write().remove(&id); }
                        } }
                    }
                    span { "{m.name}" }
                    if m.role.runs_team() { small { class: "muted", " · " {ui.t(m.role.key())} } }
                }
            }
            // The start stays in reach above the tabs however many members the list holds.
            div { class: "sticky-save",
                button { class: "big primary", "data-testid": "start", disabled: *ui.busy.read(),
                    onclick: move |_| async move {
                        // Records are coming: ask the browser to keep them, and for the location the
                        // check-ins need.
                        ui.keep_storage();
                        ui.use_location();
                        let cmd = Local::StartShift { slot_code: slot(), members: present.read().iter().cloned().collect() };
                        if ui.send(cmd).await { ui.go(Tab::Route); }
                    },
                    {ui.t("tonight.start")}
                }
            }
        }
    }
}

#[component]
fn EndShift() -> Element {
    let ui = Ui::get();
    let mut note = use_signal(String::new);
    rsx! {
        label { class: "field", {ui.t("field.handover")}
            textarea { "data-testid": "handover", rows: 3, value: "{note}", oninput: move |e| note.set(e.value()) }
        }
        button { class: "big danger", "data-testid": "end-shift", disabled: *ui.busy.read(),
            onclick: move |_| async move {
                if ui.send(Local::EndShift { handover_note: note() }).await { note.set(String::new()); ui.scroll_top(); }
            },
            {ui.t("end.confirm")}
        }
    }
}

/// The figures of an ended shift.
#[component]
pub fn Summary(log: ShiftLog) -> Element {
    let ui = Ui::get();
    let tz = ui.tz();
    let s = &log.summary;
    rsx! {
        section { class: "card summary", "data-testid": "summary",
            h2 { {ui.tf("summary.title", &[("code", fmt::slot(&log.shift.slot_code)), ("date", fmt::date(log.shift.night))])} }
            if let Some(end) = log.shift.ended_at {
                p { class: "muted", {ui.tf("summary.time", &[("start", fmt::clock(log.shift.started_at, tz)), ("end", fmt::clock(end, tz))])} }
            }
            p { "data-testid": "summary-checkpoints", {ui.tf("summary.checkpoints", &[("visited", s.checkpoints_visited.to_string()),
                ("total", s.checkpoints_total.to_string()), ("verified", s.checkpoints_verified.to_string())])} }
            p { "data-testid": "summary-observations", {ui.tf("summary.observations", &[("n", s.observations.to_string()), ("urgent", s.urgent.to_string())])} }
            ul { class: "by-cat",
                for (cat, n) in s.by_category.iter() { li { key: "{cat.code()}", {ui.t(&cat.key())} ": " strong { "{n}" } } }
            }
            if s.corrections > 0 { p { {ui.tf("summary.corrections", &[("n", s.corrections.to_string())])} } }
            if let Some(note) = &log.shift.handover_note { p { class: "handover", {ui.tf("summary.handover", &[("note", note.clone())])} } }
        }
    }
}
