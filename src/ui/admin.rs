//! "Tổ viên & lịch": a leader runs the team from the phone. The roster of a week (saved as a
//! weekly pattern, or repeated up to a date), who is due tonight, missed and long absent; members
//! (add, role, left) with a one-time enrollment QR shown on this screen; the team's phones (last
//! sync, clock, revoke); the route (import, posters to print). Every change is made on the ward
//! server through the team API and needs a connection; the screens only send commands.

use super::ctx::Ui;
use super::fmt;
use crate::domain::roster::Assignment;
use crate::domain::shift::night_of;
use crate::domain::ward::Role;
use crate::service::Command;
use crate::wire::api::{
    AddMemberRequest, IssueCodeRequest, RosterPatternRequest, RouteFormat, RouteRequest,
    SetRoleRequest, TeamMember,
};
use crate::wire::team::TeamCall;
use chrono::{Datelike, Duration, NaiveDate};
use dioxus::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// How many nights the "absent" list looks back.
const ABSENT_NIGHTS: u32 = 14;

/// Which part of the team admin is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Roster,
    Members,
    Devices,
    Route,
    Allowance,
    Audit,
}

/// Sends a team API call; true when it succeeded (an error is shown by the toast).
pub(super) async fn call(ui: Ui, call: TeamCall) -> bool {
    ui.send(Command::Team { call }).await
}

/// Reads `what` from the ward server when the part opens with a connection, and again each time
/// the phone comes back online or a signal `what` reads changes; offline, the last answer stays on
/// the screen and nothing is asked.
pub(super) fn use_read_online(what: impl Fn() -> TeamCall + 'static) {
    let ui = Ui::get();
    use_effect(move || {
        if *ui.online.read() {
            // Made here, not in the task, so the signals it reads are this effect's.
            let asked = what();
            spawn(async move {
                call(ui, asked).await;
            });
        }
    });
}

/// Makes a change, then reads again the list it changed (the server's list is the truth).
async fn change_then_read(ui: Ui, change: TeamCall, list: TeamCall) {
    if call(ui, change).await {
        call(ui, list).await;
    }
}

/// The team admin screen.
#[component]
pub fn Admin() -> Element {
    let ui = Ui::get();
    let view = use_signal(|| View::Roster);
    let current = view();
    // The audit is the officer's (and admin's) to read; the server refuses it to others.
    let reads_audit = matches!(ui.sync.read().role, Some(Role::Officer | Role::Admin));
    let mut views = vec![
        (View::Roster, "admin.roster", "admin-roster"),
        (View::Members, "admin.members", "admin-members"),
        (View::Devices, "admin.devices", "admin-devices"),
        (View::Route, "admin.route", "admin-route"),
        (View::Allowance, "allowance.tab", "admin-allowance"),
    ];
    if reads_audit {
        views.push((View::Audit, "admin.audit", "admin-audit"));
    }
    // Members are named on every part: read them when the screen opens.
    use_read_online(|| TeamCall::Members);
    rsx! {
        if *ui.online.read() {
            p { class: "muted no-print", {ui.t("admin.needs_connection")} }
        } else {
            p { class: "card offline-note no-print", "data-testid": "admin-offline", {ui.t("admin.offline")} }
        }
        {super::chrome::sub_tabs(ui, view, views)}
        match current {
            View::Roster => rsx! { Roster {} },
            View::Members => rsx! { Members {} },
            View::Devices => rsx! { Devices {} },
            View::Route => rsx! { Route {} },
            View::Allowance => rsx! { super::allowance::Allowance {} },
            View::Audit => rsx! { Audit {} },
        }
    }
}

/// The team's members from the last members list (none before it is read).
fn members(ui: &Ui) -> Vec<TeamMember> {
    ui.admin
        .read()
        .members
        .as_ref()
        .map(|m| m.members.clone())
        .unwrap_or_default()
}

/// Member id → name, from the last members list (the id itself when unknown).
fn names(ui: &Ui) -> BTreeMap<String, String> {
    members(ui).into_iter().map(|x| (x.id, x.name)).collect()
}

fn name_of(names: &BTreeMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// A week of nights from `start`: (night, slot) → members planned.
type Week = BTreeMap<(NaiveDate, String), BTreeSet<String>>;

/// The assignments of the week from `from` that `keep` keeps, moved `later` on: the week as
/// this phone holds it, or the week before copied onto the one planned.
fn week_of(
    assignments: &[Assignment],
    from: NaiveDate,
    later: Duration,
    keep: impl Fn(&Assignment) -> bool,
) -> Week {
    let end = from + Duration::days(6);
    let mut week = Week::new();
    for a in assignments
        .iter()
        .filter(|a| a.night >= from && a.night <= end && keep(a))
    {
        week.entry((a.night + later, a.slot.clone()))
            .or_default()
            .insert(a.member_id.clone());
    }
    week
}

/// The week from `start` as this phone holds it (the roster feed items of the team's members).
fn week_from_duties(ui: &Ui, start: NaiveDate) -> Week {
    week_of(&ui.duties.read(), start, Duration::zero(), |_| true)
}

/// The week as a weekly pattern: the evening's weekday → slot → members.
fn pattern_of(week: &Week) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut weekly: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for ((night, slot), members) in week.iter().filter(|(_, m)| !m.is_empty()) {
        let day = night.weekday().to_string().to_lowercase();
        weekly
            .entry(day)
            .or_default()
            .insert(slot.clone(), members.iter().cloned().collect());
    }
    weekly
}

/// The roster: tonight's duty, missed slots, long absences, and the week's plan.
#[component]
fn Roster() -> Element {
    let ui = Ui::get();
    let tonight = night_of(crate::clock::now(), ui.tz());
    let mut start = use_signal(|| tonight);
    let mut week = use_signal(|| week_from_duties(&ui, tonight));
    let mut until = use_signal(|| tonight + Duration::days(27));
    // The (night, slot) whose members are being chosen: one at a time keeps the week short.
    let mut open = use_signal(|| None::<(NaiveDate, String)>);
    use_read_online(|| TeamCall::RosterStatus {
        absent_nights: ABSENT_NIGHTS,
    });
    let names = names(&ui);
    let active: Vec<TeamMember> = members(&ui)
        .into_iter()
        .filter(|x| x.left_at.is_none())
        .collect();
    let slots = ui.slots();
    let status = ui.admin.read().status.clone();
    let nights: Vec<NaiveDate> = (0..7).map(|i| start() + Duration::days(i)).collect();
    let save = move |to: NaiveDate| async move {
        let req = RosterPatternRequest {
            from: start(),
            to,
            weekly: pattern_of(&week.read()),
        };
        // Each call clears the last message: the status is read first, then the confirmation shown.
        if call(ui, TeamCall::PlanPattern(req)).await {
            call(
                ui,
                TeamCall::RosterStatus {
                    absent_nights: ABSENT_NIGHTS,
                },
            )
            .await;
            ui.confirm(ui.t("admin.roster_saved"));
        }
    };
    rsx! {
        if let Some(st) = status {
            section { class: "card", "data-testid": "roster-status",
                h2 { {ui.tf("admin.due_tonight", &[("date", fmt::date(st.tonight))])} }
                if st.due_tonight.is_empty() { p { class: "muted", {ui.t("admin.nobody_due")} } }
                ul { class: "plain",
                    for a in st.due_tonight.iter() {
                        li { key: "{a.slot}-{a.member_id}", "{fmt::slot(&a.slot)} · {name_of(&names, &a.member_id)}" }
                    }
                }
                h2 { {ui.t("admin.missed")} }
                if st.missed.is_empty() { p { class: "muted", {ui.t("admin.none_missed")} } }
                ul { class: "plain", "data-testid": "roster-missed",
                    for m in st.missed.iter() {
                        li { key: "{m.night}-{m.slot}", class: "missed",
                            {ui.tf("admin.missed_line", &[("date", fmt::date(m.night)), ("code", fmt::slot(&m.slot)), ("who", m.member_ids.iter().map(|id| name_of(&names, id)).collect::<Vec<_>>().join(", "))])}
                        }
                    }
                }
                h2 { {ui.tf("admin.absent", &[("n", st.absent_nights.to_string())])} }
                ul { class: "plain", "data-testid": "roster-absent",
                    for a in st.absent.iter() {
                        li { key: "{a.member_id}",
                            {match a.last_night {
                                Some(n) => ui.tf("admin.absent_since", &[("who", name_of(&names, &a.member_id)), ("date", fmt::date(n))]),
                                None => ui.tf("admin.absent_never", &[("who", name_of(&names, &a.member_id))]),
                            }}
                        }
                    }
                }
            }
        }
        section { class: "card", "data-testid": "roster-plan",
            h2 { {ui.t("admin.plan_week")} }
            label { class: "field", {ui.t("admin.week_from")}
                input { r#type: "date", "data-testid": "plan-start", value: "{start}", min: "{tonight}",
                    oninput: move |e| if let Ok(d) = e.value().parse::<NaiveDate>() {
                        start.set(d);
                        week.set(week_from_duties(&ui, d));
                        open.set(None);
                    } }
            }
            button { class: "big ghost", "data-testid": "plan-copy-last", disabled: *ui.busy.read(),
                onclick: move |_| {
                    // Only who is still on the team, on shifts the team still has: what the
                    // editor shows and the server takes.
                    let (members, codes): (Vec<String>, Vec<String>) = (
                        active.iter().map(|m| m.id.clone()).collect(),
                        slots.iter().map(|s| s.code.clone()).collect(),
                    );
                    async move {
                    let from = start() - Duration::days(7);
                    if call(ui, TeamCall::Roster { from, to: start() - Duration::days(1) }).await {
                        let keep = |a: &Assignment| members.contains(&a.member_id) && codes.contains(&a.slot);
                        let copied = ui.admin.read().roster.as_ref().map(|r| week_of(&r.assignments, from, Duration::days(7), keep));
                        if let Some(w) = copied {
                            week.set(w);
                            ui.confirm(ui.t("admin.copied_last_week"));
                        }
                    }
                    }
                },
                {ui.t("admin.copy_last_week")}
            }
            ol { class: "plan-week",
                for night in nights.iter().copied() {
                    li { key: "{night}", class: "plan-night", "data-testid": "plan-{night}",
                        h3 { {ui.weekday_date(night)} }
                        for s in slots.iter() {
                            {
                                let key = (night, s.code.clone());
                                let chosen: Vec<String> = week.read().get(&key).map(|x| x.iter().map(|id| name_of(&names, id)).collect()).unwrap_or_default();
                                let is_open = open.read().as_ref() == Some(&key);
                                let toggle = key.clone();
                                rsx! {
                                    div { key: "{s.code}", class: "plan-slot",
                                        button { class: if is_open { "plan-cell on" } else { "plan-cell" }, "data-testid": "plan-{night}-{s.code}",
                                            "aria-expanded": if is_open { "true" } else { "false" },
                                            onclick: move |_| open.set(if is_open { None } else { Some(toggle.clone()) }),
                                            span { class: "slot-label", "{fmt::slot(&s.code)}" }
                                            if chosen.is_empty() { span { class: "muted", {ui.t("admin.nobody_planned")} } }
                                            else { span { class: "plan-names", {chosen.join(", ")} } }
                                        }
                                        if is_open {
                                            div { class: "chips",
                                                for m in active.iter() {
                                                    {
                                                        let on = week.read().get(&key).is_some_and(|x| x.contains(&m.id));
                                                        let id = m.id.clone();
                                                        let key = key.clone();
                                                        rsx! {
                                                            button { key: "{m.id}", class: if on { "pick on" } else { "pick" },
                                                                "aria-pressed": if on { "true" } else { "false" },
                                                                "data-testid": "plan-{night}-{s.code}-{m.id}",
                                                                onclick: move |_| {
                                                                    let mut w = week.write();
                                                                    let set = w.entry(key.clone()).or_default();
                                                                    if !set.remove(&id) { set.insert(id.clone()); }
                                                                },
                                                                if on { span { class: "check-mark", "aria-hidden": "true", "✓ " } }
                                                                "{m.name}"
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
                    }
                }
            }
            // The save stays in reach above the tabs wherever the week is scrolled to.
            div { class: "sticky-save",
                button { class: "big primary", "data-testid": "plan-save", disabled: *ui.busy.read(),
                    onclick: move |_| save(start() + Duration::days(6)), {ui.t("admin.save_week")} }
            }
            label { class: "field", {ui.t("admin.repeat_until")}
                input { r#type: "date", "data-testid": "plan-until", value: "{until}",
                    oninput: move |e| if let Ok(d) = e.value().parse() { until.set(d) } }
            }
            button { class: "big ghost", "data-testid": "plan-repeat", disabled: *ui.busy.read(),
                onclick: move |_| save(until()), {ui.t("admin.repeat")} }
        }
    }
}

/// The members: add one, change a role, mark as left, and show a one-time enrollment QR.
#[component]
fn Members() -> Element {
    let ui = Ui::get();
    let mut name = use_signal(String::new);
    let mut role = use_signal(|| Role::Member);
    let mut leaving = use_signal(|| None::<String>);
    let me = ui.sync.read().member_id.clone();
    let my_role = ui.sync.read().role.unwrap_or_default();
    let givable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| my_role.may_give(*r))
        .collect();
    let code = ui.admin.read().code.clone();
    let members = members(&ui);
    rsx! {
        if let Some(c) = code {
            section { class: "card enroll-qr", "data-testid": "enroll-qr",
                h2 { {ui.tf("admin.qr_for", &[("who", members.iter().find(|m| m.id == c.member_id).map_or(c.member_id.clone(), |m| m.name.clone()))])} }
                div { class: "qr", role: "img", "aria-label": ui.t("admin.qr_label"), dangerous_inner_html: super::qr::svg(&c.link) }
                p { class: "muted", {ui.tf("admin.qr_expires", &[("time", fmt::clock(c.expires_at, ui.tz()))])} }
                p { class: "link", "data-testid": "enroll-link", "{c.link}" }
            }
        }
        section { class: "card",
            h2 { {ui.t("admin.members")} }
            ul { class: "plain members", "data-testid": "members",
                for m in members.iter() {
                    {
                        let id = m.id.clone();
                        let is_me = me.as_deref() == Some(m.id.as_str());
                        let can_act = !is_me && m.left_at.is_none() && my_role.may_give(m.role);
                        let confirm_left = leaving.read().as_deref() == Some(m.id.as_str());
                        rsx! {
                            li { key: "{m.id}", "data-testid": "member-{m.id}",
                                div { class: "member-line",
                                    strong { "{m.name}" }
                                    span { class: "muted", " · " {ui.t(m.role.key())} }
                                    if m.left_at.is_some() { span { class: "badge", {ui.t("admin.left")} } }
                                    else { span { class: "muted", {ui.tf("admin.devices_n", &[("n", m.active_devices.to_string())])} } }
                                }
                                if m.left_at.is_none() && my_role.may_give(m.role) {
                                    div { class: "member-actions",
                                        button { class: "pick", "data-testid": "code-{m.id}", disabled: *ui.busy.read(),
                                            onclick: { let id = id.clone(); move |_| { let id = id.clone(); async move {
                                                if call(ui, TeamCall::IssueCode { member_id: id, req: IssueCodeRequest { ttl_minutes: None } }).await {
                                                    // The member scans it from here: the whole code in sight, above the tab bar.
                                                    let _ = document::eval("document.querySelector('[data-testid=enroll-qr] .qr')?.scrollIntoView({block: 'center'})");
                                                }
                                            } } },
                                            {ui.t("admin.show_qr")}
                                        }
                                        if can_act {
                                            select { class: "role-pick", "data-testid": "role-{m.id}", "aria-label": ui.t("admin.role"),
                                                onchange: { let id = id.clone(); move |e: FormEvent| { let id = id.clone(); async move {
                                                    let Some(r) = Role::from_code(&e.value()) else { return };
                                                    change_then_read(ui, TeamCall::SetRole { member_id: id, req: SetRoleRequest { role: r } }, TeamCall::Members).await;
                                                } } },
                                                for r in givable.iter() {
                                                    option { key: "{r.code()}", value: "{r.code()}", selected: *r == m.role, {ui.t(r.key())} }
                                                }
                                            }
                                            if confirm_left {
                                                button { class: "pick danger", "data-testid": "left-confirm-{m.id}", disabled: *ui.busy.read(),
                                                    onclick: { let id = id.clone(); move |_| { let id = id.clone(); async move {
                                                        leaving.set(None);
                                                        change_then_read(ui, TeamCall::Left { member_id: id }, TeamCall::Members).await;
                                                    } } },
                                                    {ui.t("admin.left_confirm")}
                                                }
                                            } else {
                                                button { class: "pick", "data-testid": "left-{m.id}",
                                                    onclick: { let id = id.clone(); move |_| leaving.set(Some(id.clone())) },
                                                    {ui.t("admin.mark_left")}
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
        }
        section { class: "card", "data-testid": "add-member",
            h2 { {ui.t("admin.add_member")} }
            label { class: "field", {ui.t("admin.name")}
                input { r#type: "text", "data-testid": "new-name", maxlength: "100", value: "{name}",
                    oninput: move |e| name.set(e.value()) }
            }
            label { class: "field", {ui.t("admin.role")}
                select { "data-testid": "new-role",
                    onchange: move |e: FormEvent| if let Some(r) = Role::from_code(&e.value()) { role.set(r) },
                    for r in givable.iter() {
                        option { key: "{r.code()}", value: "{r.code()}", selected: *r == role(), {ui.t(r.key())} }
                    }
                }
            }
            button { class: "big primary", "data-testid": "add-member-save", disabled: *ui.busy.read() || name.read().trim().is_empty(),
                onclick: move |_| async move {
                    let req = AddMemberRequest { name: name.read().trim().to_string(), role: role() };
                    if call(ui, TeamCall::AddMember(req)).await {
                        name.set(String::new());
                        call(ui, TeamCall::Members).await;
                    }
                },
                {ui.t("admin.add")}
            }
        }
    }
}

/// The team's phones: last sync, clock, revoke with a confirmation.
#[component]
fn Devices() -> Element {
    let ui = Ui::get();
    let mut revoking = use_signal(|| None::<String>);
    use_read_online(|| TeamCall::Devices);
    let tz = ui.tz();
    let devices = ui
        .admin
        .read()
        .devices
        .as_ref()
        .map(|d| d.devices.clone())
        .unwrap_or_default();
    rsx! {
        section { class: "card",
            h2 { {ui.t("admin.devices")} }
            ul { class: "plain devices", "data-testid": "devices",
                for d in devices.iter() {
                    {
                        let id = d.id.clone();
                        let confirm = revoking.read().as_deref() == Some(d.id.as_str());
                        let seen = d.last_seen.as_deref().and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok());
                        rsx! {
                            li { key: "{d.id}", "data-testid": "device-{d.id}",
                                div { strong { "{d.member_name}" } span { class: "muted", " · {short(&d.id)}" } }
                                div { class: "muted",
                                    {match seen {
                                        Some(t) => ui.tf("admin.last_seen", &[("date", fmt::date(t.with_timezone(&tz).date_naive())), ("time", fmt::clock(t, tz))]),
                                        None => ui.t("admin.never_seen"),
                                    }}
                                }
                                if d.clock_off {
                                    div { class: "sync-error", {ui.tf("admin.clock_off", &[("min", (d.clock_offset_ms.unwrap_or(0) / 60_000).to_string())])} }
                                }
                                if d.revoked_at.is_some() {
                                    span { class: "badge", {ui.t("admin.revoked")} }
                                } else if confirm {
                                    div { class: "row",
                                        button { class: "pick danger", "data-testid": "revoke-confirm-{d.id}", disabled: *ui.busy.read(),
                                            onclick: { let id = id.clone(); move |_| { let id = id.clone(); async move {
                                                revoking.set(None);
                                                change_then_read(ui, TeamCall::Revoke { device_id: id }, TeamCall::Devices).await;
                                            } } },
                                            {ui.t("admin.revoke_confirm")}
                                        }
                                        button { class: "pick", onclick: move |_| revoking.set(None), {ui.t("admin.cancel")} }
                                    }
                                } else {
                                    button { class: "pick", "data-testid": "revoke-{d.id}",
                                        onclick: { let id = id.clone(); move |_| revoking.set(Some(id.clone())) },
                                        {ui.t("admin.revoke")}
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

/// A device id's first characters, enough to tell two phones of one member apart.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The route: import a GeoJSON or CSV file, and posters with each checkpoint's QR to print.
#[component]
fn Route() -> Element {
    let ui = Ui::get();
    let checkpoints = ui.checkpoints();
    rsx! {
        section { class: "card",
            h2 { {ui.t("admin.route")} }
            p { class: "muted", {ui.t("admin.route_help")} }
            label { class: "big ghost file",
                {ui.t("admin.route_import")}
                input { r#type: "file", accept: ".geojson,.json,.csv,application/geo+json,application/json,text/csv", "data-testid": "route-file",
                    onchange: move |e: FormEvent| async move {
                        let Some(file) = e.files().into_iter().next() else { return };
                        let format = RouteFormat::of_file(&file.name());
                        match file.read_string().await {
                            Ok(text) => {
                                if call(ui, TeamCall::Route(RouteRequest { format, text })).await {
                                    ui.confirm(ui.t("admin.route_saved"));
                                }
                            }
                            Err(err) => {
                                ui.fail_with(&crate::service::ApiError::new("err.file_unreadable").detail(err));
                            }
                        }
                    }
                }
            }
            button { class: "big primary", "data-testid": "posters-print",
                onclick: move |_| { let _ = document::eval("window.print()"); },
                {ui.t("admin.posters_print")}
            }
        }
        super::route_edit::RouteEditor {}
        div { class: "posters", "data-testid": "posters",
            for cp in checkpoints.iter() {
                div { key: "{cp.id}", class: "poster",
                    p { class: "poster-seq", "{cp.seq}" }
                    div { class: "qr", role: "img", "aria-label": ui.tf("admin.poster_qr", &[("name", cp.name.clone())]), dangerous_inner_html: super::qr::svg(&cp.qr_code) }
                    p { class: "poster-name", "{cp.name}" }
                    p { class: "poster-code", "{cp.qr_code}" }
                }
            }
        }
    }
}

/// The team's changes made through the team API: who, when, what (officers and admins).
#[component]
fn Audit() -> Element {
    let ui = Ui::get();
    use_read_online(|| TeamCall::Audit { after: 0 });
    let names = names(&ui);
    let tz = ui.tz();
    let audit = ui.admin.read().audit.clone();
    let Some(audit) = audit else {
        return rsx! {};
    };
    rsx! {
        section { class: "card",
            h2 { {ui.t("admin.audit")} }
            if audit.items.is_empty() { p { class: "muted", {ui.t("admin.audit_none")} } }
            ol { class: "plain audit", "data-testid": "audit",
                for a in audit.items.iter().rev() {
                    li { key: "{a.id}",
                        {ui.tf("admin.audit_line", &[
                            ("date", fmt::date(a.at.with_timezone(&tz).date_naive())),
                            ("time", fmt::clock(a.at, tz)),
                            ("who", name_of(&names, &a.member_id)),
                            ("what", ui.t(&format!("audit.{}", a.action.code()))),
                            ("target", name_of(&names, &a.target)),
                        ])}
                    }
                }
            }
            if audit.more {
                button { class: "big ghost", "data-testid": "audit-more",
                    onclick: move |_| async move { call(ui, TeamCall::Audit { after: audit.cursor }).await; },
                    {ui.t("admin.audit_more")}
                }
            }
        }
    }
}
