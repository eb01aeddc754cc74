//! "Nhật ký": the shift's timeline; a mistake is fixed by an appended correction shown beside it.

use super::ctx::Ui;
use super::fmt;
use super::photo::{PhotoPicker, PhotoStrip};
use super::tonight::Summary;
use crate::domain::geofence::format_distance;
use crate::domain::observation::Category;
use crate::domain::photo::{PhotoHash, PhotoRef, PreparedPhoto, MAX_PHOTOS};
use crate::domain::records::{CheckInMethod, Correction, Observation};
use crate::platform::Shared;
use crate::service::Local;
use crate::store::records::{LogEntry, PhotoChange};
use dioxus::prelude::*;

/// The Log screen: the running shift, else the last ended one with its summary.
#[component]
pub fn Log() -> Element {
    let ui = Ui::get();
    // Read in place: a 200-entry log is not copied on each render.
    let (active, last_ended) = (ui.active.read(), ui.last_ended.read());
    let (log, ended) = match (active.as_ref(), last_ended.as_ref()) {
        (Some(l), _) => (l, false),
        (None, Some(l)) => (l, true),
        (None, None) => return rsx! { p { class: "card muted", {ui.t("log.empty")} } },
    };
    let corrections: Vec<Correction> = log
        .entries
        .iter()
        .filter_map(|e| {
            if let LogEntry::Correction(c) = e {
                Some(c.clone())
            } else {
                None
            }
        })
        .collect();
    let setup = ui.setup.read();
    let names: &[crate::domain::ward::Checkpoint] = setup.as_ref().map_or(&[], |s| &s.checkpoints);
    rsx! {
        if ended { Summary { log: log.clone() } }
        if log.entries.is_empty() { p { class: "card muted", {ui.t("log.empty")} } }
        ol { class: "timeline", "data-testid": "timeline",
            for entry in log.entries.iter().filter(|e| !matches!(e, LogEntry::Correction(_))) {
                {
                    let (id, at) = match entry {
                        LogEntry::CheckIn(c) => (c.id.clone(), c.at),
                        LogEntry::Observation(o) => (o.id.clone(), o.at),
                        LogEntry::Correction(c) => (c.id.clone(), c.at),
                    };
                    let mine: Vec<Correction> = corrections.iter().filter(|c| c.target_id == id).cloned().collect();
                    let is_obs = matches!(entry, LogEntry::Observation(_));
                    let (title, detail, css) = describe(&ui, entry, names);
                    rsx! {
                        li { key: "{id}", class: if mine.is_empty() { "entry {css}" } else { "entry {css} corrected" }, "data-testid": "entry",
                            div { class: "entry-head",
                                time { {fmt::clock(at, ui.tz())} }
                                strong { "{title}" }
                                if !mine.is_empty() { span { class: "badge", {ui.t("log.corrected")} } }
                            }
                            for d in detail { p { class: "entry-detail", "{d}" } }
                            if let Some(t) = ui.tips.read().iter().find(|t| t.observation_id == id).filter(|_| is_obs) {
                                if let Some(step) = t.state.outcome {
                                    p { class: "tip-outcome", "data-testid": "tip-outcome",
                                        {ui.tf("tip.outcome", &[("step", ui.t(&step.key()))])}
                                        if let Some(n) = &t.note { " · {n}" }
                                    }
                                }
                            }
                            for c in mine.iter() {
                                div { key: "{c.id}", class: "correction", "data-testid": "correction",
                                    p { {ui.tf("log.correction", &[("text", c.text.clone())])} }
                                    if let Some(cat) = c.new_category { p { {ui.tf("log.recategorized", &[("category", ui.t(&cat.key()))])} } }
                                }
                            }
                            if let LogEntry::Observation(o) = entry {
                                PhotoStrip { photos: shown_photos(o, &mine) }
                                ShareButton { observation: o.clone(), category: mine.iter().rev().find_map(|c| c.new_category), photos: shown_photos(o, &mine) }
                            }
                            CorrectForm { target_id: id.clone(), is_observation: is_obs,
                                photos: if let LogEntry::Observation(o) = entry { shown_photos(o, &mine) } else { Vec::new() } }
                        }
                    }
                }
            }
        }
    }
}

/// Hands an observation on (Zalo group, SMS) in one tap: the phone's share sheet, or a copy.
/// With `follow_up` (a leader's tip still open to it), handing it on is also recorded on the tip
/// as "passed to the ward police".
#[component]
pub(super) fn ShareButton(
    observation: Observation,
    category: Option<Category>,
    photos: Vec<PhotoRef>,
    #[props(default)] follow_up: bool,
) -> Element {
    let ui = Ui::get();
    rsx! {
        button { class: "pick share", "data-testid": "share-{observation.id}",
            onclick: move |_| {
                let o = observation.clone();
                let photos = photos.clone();
                async move {
                    let Some(setup) = ui.setup.read().clone() else { return };
                    let (title, text) = crate::service::share::share_text(ui.lang(), &setup, &o, category);
                    let files = ui.photo_files(&photos).await;
                    let said = match crate::platform::share(&title, &text, &files).await {
                        Ok(Shared::Sheet) => Some((ui.t("share.opened"), false)),
                        Ok(Shared::Copied) => Some((ui.t("share.copied"), false)),
                        Ok(Shared::Cancelled) => None,
                        Err(e) => { crate::platform::log_detail("share.failed", &e); Some((ui.t("share.failed"), true)) }
                    };
                    if follow_up && matches!(said, Some((_, false))) {
                        let note = ui.t("share.follow_up_note");
                        let step = crate::domain::tip::TipStep::Forwarded;
                        ui.send(Local::FollowUp { observation_id: o.id.clone(), step, note }).await;
                    }
                    match said {
                        Some((text, false)) => ui.confirm(text),
                        Some((text, true)) => ui.fail(text),
                        None => {}
                    }
                }
            },
            {ui.t("share.button")}
        }
    }
}

/// An entry's title, detail lines and CSS class, as the timelines show it.
pub(super) fn describe(
    ui: &Ui,
    entry: &LogEntry,
    names: &[crate::domain::ward::Checkpoint],
) -> (String, Vec<String>, &'static str) {
    match entry {
        LogEntry::CheckIn(c) => {
            let name = names
                .iter()
                .find(|n| n.id == c.checkpoint_id)
                .map(|n| n.name.clone())
                .unwrap_or_else(|| c.checkpoint_id.clone());
            let how = match c.method {
                CheckInMethod::Gps => ui.tf(
                    "log.method_gps",
                    &[
                        ("distance", format_distance(c.distance_m.unwrap_or(0.0))),
                        (
                            "accuracy",
                            format_distance(c.fix.as_ref().map_or(0.0, |f| f.accuracy_m)),
                        ),
                    ],
                ),
                CheckInMethod::Qr => ui.t("log.method_qr"),
                CheckInMethod::Manual => ui.tf(
                    "log.method_manual",
                    &[("reason", c.reason.clone().unwrap_or_default())],
                ),
            };
            let v = if c.verified {
                ui.t("route.verified")
            } else {
                ui.t("route.unverified")
            };
            (
                ui.tf("log.checkin", &[("name", name)]),
                vec![format!("{how} · {v}")],
                if c.verified {
                    "checkin"
                } else {
                    "checkin unverified"
                },
            )
        }
        LogEntry::Observation(o) => {
            let mut d = Vec::new();
            if let Some(t) = &o.description {
                d.push(t.clone());
            }
            if let Some(p) = &o.plate {
                d.push(ui.tf("log.plate", &[("plate", p.clone())]));
            }
            if let Some(p) = &o.people {
                d.push(ui.tf("log.people", &[("people", p.clone())]));
            }
            if let Some(a) = o.action {
                d.push(ui.t(&a.key()));
            }
            let title = if o.urgent {
                format!("{} · {}", ui.t(&o.category.key()), ui.t("field.urgent"))
            } else {
                ui.t(&o.category.key())
            };
            (
                title,
                d,
                if o.urgent {
                    "observation urgent"
                } else {
                    "observation"
                },
            )
        }
        LogEntry::Correction(c) => (
            ui.tf("log.correction", &[("text", c.text.clone())]),
            vec![],
            "correction",
        ),
    }
}

/// The photos an observation shows now, after its corrections.
pub(super) fn shown_photos(o: &Observation, corrections: &[Correction]) -> Vec<PhotoRef> {
    crate::domain::photo::shown(
        &o.photos,
        corrections
            .iter()
            .map(|c| (c.photos_added.as_slice(), c.photos_removed.as_slice())),
    )
}

#[component]
fn CorrectForm(target_id: String, is_observation: bool, photos: Vec<PhotoRef>) -> Element {
    let ui = Ui::get();
    let mut open = use_signal(|| false);
    let mut text = use_signal(String::new);
    let mut cat = use_signal(|| None::<Category>);
    let mut added = use_signal(Vec::<PreparedPhoto>::new);
    let mut removed = use_signal(Vec::<PhotoHash>::new);
    let kept = photos
        .iter()
        .filter(|p| !removed.read().contains(&p.hash))
        .count();
    if !*open.read() {
        return rsx! { button { class: "link", "data-testid": "correct-{target_id}", onclick: move |_| open.set(true), {ui.t("log.correct")} } };
    }
    rsx! {
        div { class: "cp-form",
            label { class: "field", {ui.t("field.correction")}
                input { "data-testid": "correction-text", value: "{text}", oninput: move |e| text.set(e.value()) }
            }
            if is_observation {
                label { class: "field", {ui.t("field.new_category")}
                    select { "data-testid": "correction-category",
                        onchange: move |e: FormEvent| cat.set(Category::from_code(&e.value())),
                        option { value: "", {ui.t("field.keep_category")} }
                        for c in Category::ALL { option { key: "{c.code()}", value: "{c.code()}", {ui.t(&c.key())} } }
                    }
                }
                if !photos.is_empty() {
                    p { class: "field-label", {ui.t("photo.take_off")} }
                    div { class: "choice wrap",
                        for (i, p) in photos.iter().enumerate() {
                            {
                                let hash = p.hash.clone();
                                let off = removed.read().contains(&hash);
                                rsx! {
                                    button { key: "{hash}", class: if off { "pick on" } else { "pick" }, "aria-pressed": "{off}",
                                        "data-testid": "photo-take-off-{i}",
                                        onclick: move |_| {
                                            let mut r = removed.write();
                                            if let Some(at) = r.iter().position(|h| *h == hash) { r.remove(at); } else { r.push(hash.clone()); }
                                        },
                                        {ui.tf("photo.nth", &[("n", (i + 1).to_string())])}
                                    }
                                }
                            }
                        }
                    }
                }
                PhotoPicker { scope: "fix-{target_id}", photos: added, room: MAX_PHOTOS.saturating_sub(kept) }
            }
            div { class: "cp-actions",
                button { class: "primary", "data-testid": "correction-save", disabled: *ui.busy.read(),
                    onclick: move |_| {
                        let target_id = target_id.clone();
                        async move {
                            let photos = PhotoChange { add: added(), remove: removed() };
                            if ui.send(Local::Correct { target_id, text: text(), new_category: cat(), photos }).await {
                                open.set(false);
                                text.set(String::new());
                                added.set(Vec::new());
                                removed.set(Vec::new());
                            }
                        }
                    },
                    {ui.t("common.confirm")}
                }
                button { onclick: move |_| open.set(false), {ui.t("common.cancel")} }
            }
        }
    }
}
