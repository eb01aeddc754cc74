//! "Tổ": what a leader (or officer) answers for. Tonight live (shifts running, who is on them,
//! the route walked, observations as they arrive, urgent first), the tips still waiting for a
//! decision with their steps, and the shift logs of any night pulled, with the route's gaps.

use super::ctx::{TeamPart as Part, Ui};
use super::fmt;
use super::log::describe;
use crate::domain::records::{LogEntry, ShiftLog};
use crate::domain::review::{gaps, slot_end, Gap, Tip};
use crate::domain::tip::{allowed, withdrawn_ids, TipStep};
use crate::service::Local;
use chrono::NaiveDate;
use dioxus::prelude::*;

/// The team screen.
#[component]
pub fn Team() -> Element {
    let ui = Ui::get();
    let current = *ui.team_part.read();
    let fresh = match ui.sync.read().last_success {
        Some(at) => ui.tf("team.fresh", &[("time", fmt::clock(at, ui.tz()))]),
        None => ui.t("team.never_synced"),
    };
    let unreadable = ui.team.read().as_ref().map_or(0, |t| t.unreadable.len());
    rsx! {
        h1 { class: "screen-title", {ui.t("team.title")} }
        p { class: "muted", "data-testid": "team-fresh", "{fresh}" }
        if unreadable > 0 {
            p { class: "sync-error", {ui.tf("team.unreadable", &[("n", unreadable.to_string())])} }
        }
        {super::chrome::sub_tabs(ui, ui.team_part, vec![(Part::Live, "team.live", "team-live"), (Part::Tips, "team.tips", "team-tips"), (Part::Logs, "team.logs", "team-logs"), (Part::Reports, "team.reports", "team-reports"), (Part::Admin, "team.admin", "team-admin")])}
        match current {
            Part::Live => rsx! { Live {} },
            Part::Tips => rsx! { Tips {} },
            Part::Logs => rsx! { Logs {} },
            Part::Reports => rsx! { super::report::Reports {} },
            Part::Admin => rsx! { super::admin::Admin {} },
        }
    }
}

/// The shifts running now, their route and observations, urgent first.
#[component]
fn Live() -> Element {
    let ui = Ui::get();
    let team = ui.team.read();
    let Some(team) = team.as_ref() else {
        return rsx! {};
    };
    let running: Vec<&ShiftLog> = team
        .log
        .shifts
        .iter()
        .filter(|l| l.shift.ended_at.is_none())
        .collect();
    if running.is_empty() {
        return rsx! { p { class: "card muted", "data-testid": "team-none-running", {ui.t("team.none_running")} } };
    }
    rsx! {
        for log in running {
            ShiftCard { key: "{log.shift.id}", log: log.clone(), live: true }
        }
    }
}

/// One shift: who, when, the route against the plan, the timeline and the gaps.
#[component]
fn ShiftCard(log: ShiftLog, live: bool) -> Element {
    let ui = Ui::get();
    let tz = ui.tz();
    let setup = ui.setup.read();
    let Some(setup) = setup.as_ref() else {
        return rsx! {};
    };
    let names: Vec<String> = log
        .shift
        .members_present
        .iter()
        .map(|id| {
            setup
                .members
                .iter()
                .find(|m| &m.id == id)
                .map_or_else(|| id.clone(), |m| m.name.clone())
        })
        .collect();
    // An officer sees other teams' shifts too; only this phone's own team's route is known here.
    let own_team = log.shift.team_id == setup.team.id;
    let checkpoints: &[crate::domain::ward::Checkpoint] =
        if own_team { &setup.checkpoints } else { &[] };
    let route: Vec<String> = checkpoints.iter().map(|c| c.id.clone()).collect();
    let slot_end = slot_end(&setup.team.slots, &log.shift, tz);
    let found = gaps(&log, &route, slot_end, crate::clock::now());
    let mut observations: Vec<&LogEntry> = log
        .entries
        .iter()
        .filter(|e| matches!(e, LogEntry::Observation(_)))
        .collect();
    // Urgent first, newest first.
    observations.sort_by_key(|e| match e {
        LogEntry::Observation(o) => (!o.urgent, std::cmp::Reverse(o.at)),
        _ => (true, std::cmp::Reverse(log.shift.started_at)),
    });
    let timeline: Vec<&LogEntry> = if live {
        observations
    } else {
        log.entries.iter().collect()
    };
    rsx! {
        section { class: "card shift-card", "data-testid": "team-shift",
            h2 { class: "card-title",
                {ui.tf("team.shift_title", &[("code", fmt::slot(&log.shift.slot_code)), ("night", fmt::date(log.shift.night))])}
            }
            p { class: "muted", {ui.tf("team.members", &[("names", names.join(", "))])} }
            p { class: "muted",
                {ui.tf("team.started", &[("time", fmt::clock(log.shift.started_at, tz))])}
                if let Some(end) = log.shift.ended_at { " · " {ui.tf("team.ended", &[("time", fmt::clock(end, tz))])} }
            }
            ol { class: "route-plan",
                for cp in checkpoints.iter() {
                    {
                        let visit = log.entries.iter().filter_map(|e| match e {
                            LogEntry::CheckIn(c) if c.checkpoint_id == cp.id => Some(c.verified),
                            _ => None,
                        }).max();
                        let (state, css) = match visit {
                            Some(true) => (ui.t("route.verified"), "cp-visit verified"),
                            Some(false) => (ui.t("route.unverified"), "cp-visit unverified"),
                            None => (ui.t("team.not_yet"), "cp-visit todo"),
                        };
                        rsx! { li { key: "{cp.id}", class: "{css}", "data-testid": "plan-{cp.id}", strong { "{cp.name}" } " · {state}" } }
                    }
                }
            }
            super::map::MapToggle { testid: "map-open-{log.shift.id}", label_key: "map.open", logs: vec![log.clone()], checkpoints: checkpoints.to_vec() }
            if !found.is_empty() {
                ul { class: "gaps", "data-testid": "gaps",
                    for g in found.iter() {
                        li { key: "{g:?}", {gap_text(&ui, g, checkpoints, tz)} }
                    }
                }
            }
            if let Some(note) = &log.shift.handover_note {
                p { class: "entry-detail", {ui.tf("team.handover", &[("note", note.clone())])} }
            }
            if timeline.is_empty() {
                p { class: "muted", {ui.t("log.empty")} }
            }
            ol { class: "timeline",
                for entry in timeline.into_iter().filter(|e| !matches!(e, LogEntry::Correction(_))) {
                    {
                        let (title, detail, css) = describe(&ui, entry, checkpoints);
                        let (id, at) = match entry {
                            LogEntry::CheckIn(c) => (c.id.clone(), c.at),
                            LogEntry::Observation(o) => (o.id.clone(), o.at),
                            LogEntry::Correction(c) => (c.id.clone(), c.at),
                        };
                        // Corrections beside their originals, which stay as they were.
                        let fixes: Vec<&crate::domain::records::Correction> = log.entries.iter().filter_map(|e| match e {
                            LogEntry::Correction(c) if c.target_id == id => Some(c),
                            _ => None,
                        }).collect();
                        rsx! {
                            li { key: "{id}", class: if fixes.is_empty() { "entry {css}" } else { "entry {css} corrected" }, "data-testid": "team-entry",
                                div { class: "entry-head", time { {fmt::clock(at, tz)} } strong { "{title}" }
                                    if !fixes.is_empty() { span { class: "badge", {ui.t("log.corrected")} } }
                                }
                                for d in detail { p { class: "entry-detail", "{d}" } }
                                for c in fixes.iter() {
                                    div { key: "{c.id}", class: "correction",
                                        p { {ui.tf("log.correction", &[("text", c.text.clone())])} }
                                        if let Some(cat) = c.new_category { p { {ui.tf("log.recategorized", &[("category", ui.t(&cat.key()))])} } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn gap_text(
    ui: &Ui,
    gap: &Gap,
    checkpoints: &[crate::domain::ward::Checkpoint],
    tz: chrono_tz::Tz,
) -> String {
    match gap {
        Gap::NeverVisited { checkpoint_id } => {
            let name = checkpoints
                .iter()
                .find(|c| &c.id == checkpoint_id)
                .map_or_else(|| checkpoint_id.clone(), |c| c.name.clone());
            ui.tf("team.gap_never_visited", &[("name", name)])
        }
        Gap::Quiet { from, to } => ui.tf(
            "team.gap_quiet",
            &[("from", fmt::clock(*from, tz)), ("to", fmt::clock(*to, tz))],
        ),
        Gap::NotEnded => ui.t("team.gap_not_ended"),
    }
}

/// The tips waiting for a decision, then the decided ones.
#[component]
fn Tips() -> Element {
    let ui = Ui::get();
    // The tip the urgent alert opened comes into view once drawn, below the sticky top bar.
    use_effect(move || {
        let Some(id) = ui.focus_tip.read().clone() else {
            return;
        };
        let mut focus = ui.focus_tip;
        focus.set(None);
        ui.scroll_into_view(&format!("tip-{id}"));
    });
    let team = ui.team.read();
    let tips: Vec<Tip> = team.as_ref().map_or_else(Vec::new, |t| t.log.tips.clone());
    if tips.is_empty() {
        return rsx! { p { class: "card muted", {ui.t("team.no_tips")} } };
    }
    let waiting = tips.iter().filter(|t| t.state.waiting()).count();
    rsx! {
        p { class: "muted", "data-testid": "tips-waiting", {ui.tf("team.tips_waiting", &[("n", waiting.to_string())])} }
        ul { class: "tips",
            for tip in tips {
                TipCard { key: "{tip.observation.id}", tip: tip.clone() }
            }
        }
    }
}

/// What a tip card is asking before a step is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// Closing the tip as unfounded (it sits apart from the steps that move a tip on).
    Unfounded,
    /// Taking back the step shown, with a reason; the step stays in the list, struck through.
    Withdraw,
}

/// One tip: what was seen, the steps taken, and the steps that may come next.
#[component]
fn TipCard(tip: Tip) -> Element {
    let ui = Ui::get();
    let tz = ui.tz();
    let mut note = use_signal(String::new);
    let mut reason = use_signal(String::new);
    let mut ask = use_signal(|| None::<Ask>);
    let o = &tip.observation;
    let title = if o.urgent {
        format!("{} · {}", ui.t(&o.category.key()), ui.t("field.urgent"))
    } else {
        ui.t(&o.category.key())
    };
    let status = match tip.state.outcome {
        Some(step) => ui.t(&step.key()),
        None => ui.t("tip.step.none"),
    };
    let next: Vec<TipStep> = TipStep::ALL
        .into_iter()
        .filter(|s| allowed(tip.state.outcome, *s))
        .collect();
    let onward: Vec<TipStep> = next
        .iter()
        .copied()
        .filter(|s| *s != TipStep::Unfounded)
        .collect();
    let may_close = next.contains(&TipStep::Unfounded);
    let withdrawn: Vec<String> = withdrawn_ids(&tip.steps)
        .into_iter()
        .map(str::to_string)
        .collect();
    let id = o.id.clone();
    // A step with the note (or, for a withdrawal, the reason) typed for it.
    let take = move |observation_id: String, step: TipStep| async move {
        let mut text = if step == TipStep::Withdrawn {
            reason
        } else {
            note
        };
        if ui
            .send(Local::FollowUp {
                observation_id,
                step,
                note: text(),
            })
            .await
        {
            text.set(String::new());
            ask.set(None);
        }
    };
    let asking = ask();
    rsx! {
        li { class: if o.urgent && tip.state.waiting() { "card tip urgent" } else { "card tip" }, "data-testid": "tip-{id}", id: "tip-{id}",
            div { class: "entry-head",
                time { {fmt::clock(o.at, tz)} }
                strong { "{title}" }
                span { class: "chip", "data-testid": "tip-status-{id}", "{status}" }
            }
            p { class: "muted", {ui.tf("team.shift_title", &[("code", fmt::slot(&tip.slot_code)), ("night", fmt::date(tip.night))])} }
            if let Some(d) = &o.description { p { class: "entry-detail", "{d}" } }
            if tip.state.answered_twice { p { class: "sync-error", {ui.t("tip.answered_twice")} } }
            super::photo::PhotoStrip { photos: tip.photos.clone() }
            super::log::ShareButton { observation: o.clone(), category: None, photos: tip.photos.clone(),
                follow_up: allowed(tip.state.outcome, TipStep::Forwarded) }
            ol { class: "steps",
                for f in tip.steps.iter() {
                    li { key: "{f.id}", class: if withdrawn.contains(&f.id) { "withdrawn" } else { "" },
                        time { {fmt::clock(f.at, tz)} } " " strong { {ui.t(&f.step.key())} }
                        if let Some(n) = &f.note { " · {n}" }
                    }
                }
            }
            if let Some(last) = tip.state.outcome {
                if asking == Some(Ask::Withdraw) {
                    Confirm { stem: "tip-withdraw", id: id.clone(), question: ui.tf("tip.withdraw_ask", &[("step", ui.t(&last.key()))]),
                        confirm: ui.t("tip.withdraw_confirm"), ready: !reason.read().trim().is_empty(),
                        on_confirm: { let observation_id = id.clone(); move |_| { spawn(take(observation_id.clone(), TipStep::Withdrawn)); } },
                        on_cancel: move |_| ask.set(None),
                        label { class: "field", {ui.t("field.withdraw_reason")}
                            input { "data-testid": "tip-withdraw-reason-{id}", value: "{reason}", oninput: move |e| reason.set(e.value()) }
                        }
                    }
                } else {
                    button { class: "link", "data-testid": "tip-withdraw-{id}", disabled: *ui.busy.read(),
                        onclick: move |_| ask.set(Some(Ask::Withdraw)),
                        {ui.tf("tip.withdraw", &[("step", ui.t(&last.key()))])}
                    }
                }
            }
            if !next.is_empty() && asking != Some(Ask::Withdraw) {
                label { class: "field", {ui.t("field.tip_note")}
                    input { "data-testid": "tip-note-{id}", value: "{note}", oninput: move |e| note.set(e.value()) }
                }
                div { class: "choice wrap",
                    for step in onward {
                        button { key: "{step.code()}", class: "pick", "data-testid": "tip-{step.code()}-{id}", disabled: *ui.busy.read(),
                            onclick: { let observation_id = id.clone(); move |_| take(observation_id.clone(), step) },
                            {ui.t(&step.key())}
                        }
                    }
                }
                if may_close {
                    if asking == Some(Ask::Unfounded) {
                        Confirm { stem: "tip-unfounded", id: id.clone(), question: ui.t("tip.unfounded_ask"),
                            confirm: ui.t("tip.unfounded_confirm"), ready: true,
                            on_confirm: { let observation_id = id.clone(); move |_| { spawn(take(observation_id.clone(), TipStep::Unfounded)); } },
                            on_cancel: move |_| ask.set(None),
                        }
                    } else {
                        button { class: "big ghost close-tip", "data-testid": "tip-unfounded-{id}", disabled: *ui.busy.read(),
                            onclick: move |_| ask.set(Some(Ask::Unfounded)),
                            {ui.t("tip.close_unfounded")}
                        }
                    }
                }
            }
        }
    }
}

/// A question asked before a step that is hard to take back: what is asked, anything to fill in
/// (`children`), then the step and a way out. Its parts are named `{stem}-ask-{id}`,
/// `{stem}-confirm-{id}` and `{stem}-cancel-{id}`; the step waits until `ready` and while a
/// command is in flight.
#[component]
fn Confirm(
    stem: String,
    id: String,
    question: String,
    confirm: String,
    ready: bool,
    on_confirm: EventHandler<()>,
    on_cancel: EventHandler<()>,
    children: Element,
) -> Element {
    let ui = Ui::get();
    rsx! {
        div { class: "confirm", role: "group", "data-testid": "{stem}-ask-{id}",
            p { "{question}" }
            {children}
            div { class: "choice",
                button { class: "pick danger", "data-testid": "{stem}-confirm-{id}", disabled: *ui.busy.read() || !ready,
                    onclick: move |_| on_confirm.call(()), "{confirm}" }
                button { class: "pick", "data-testid": "{stem}-cancel-{id}", onclick: move |_| on_cancel.call(()),
                    {ui.t("admin.cancel")} }
            }
        }
    }
}

/// Shift logs of any night this phone holds, newest night first.
#[component]
fn Logs() -> Element {
    let ui = Ui::get();
    // Hooks first, whatever this render returns.
    let mut chosen = use_signal(|| None::<NaiveDate>);
    let team = ui.team.read();
    let Some(team) = team.as_ref() else {
        return rsx! {};
    };
    let mut nights: Vec<NaiveDate> = team.log.shifts.iter().map(|l| l.shift.night).collect();
    nights.dedup();
    let Some(&newest) = nights.first() else {
        return rsx! { p { class: "card muted", {ui.t("team.no_logs")} } };
    };
    let night = chosen().filter(|n| nights.contains(n)).unwrap_or(newest);
    let shifts: Vec<ShiftLog> = team
        .log
        .shifts
        .iter()
        .filter(|l| l.shift.night == night)
        .cloned()
        .collect();
    // The whole night on one map, when it had more than one shift; the route only if this
    // phone's own team patrolled that night.
    let night_route: Vec<crate::domain::ward::Checkpoint> =
        ui.setup.read().as_ref().map_or_else(Vec::new, |s| {
            if shifts.iter().any(|l| l.shift.team_id == s.team.id) {
                s.checkpoints.clone()
            } else {
                Vec::new()
            }
        });
    rsx! {
        label { class: "field", {ui.t("team.night")}
            select { "data-testid": "team-night",
                onchange: move |e: FormEvent| chosen.set(e.value().parse().ok()),
                for n in nights.iter() {
                    option { key: "{n}", value: "{n}", selected: *n == night, {fmt::date(*n)} }
                }
            }
        }
        if shifts.len() > 1 {
            super::map::MapToggle { testid: "map-open-night", label_key: "map.open_night", logs: shifts.clone(), checkpoints: night_route }
        }
        for log in shifts {
            ShiftCard { key: "{log.shift.id}", log: log.clone(), live: false }
        }
    }
}
