//! "Chấm công": a team's night-duty sheet for a month, as the ward server works it out from the
//! shift logs (one table: service::report_tables::allowance_table, also the CSV and the A4 print);
//! each member's nights with how they stand; a night added or taken off with a reason; the month
//! closed after a confirmation. Every change is made on the server and needs a connection.

use super::admin::{call, use_read_online};
use super::ctx::Ui;
use super::fmt;
use super::report::{download, Letterhead, TableView};
use crate::domain::allowance::{MarkKind, NightStatus, YearMonth, MAX_REASON_CHARS};
use crate::domain::shift::{format_clock, night_of};
use crate::service::report_tables::{allowance_table, money};
use crate::wire::api::{AllowanceCloseRequest, AllowanceMarkRequest, AllowanceResponse};
use crate::wire::team::TeamCall;
use chrono::{Datelike, NaiveDate};
use dioxus::prelude::*;

/// The month a leader most likely means: the one before, in the first days of a month (when
/// sheets are made), else this one.
fn default_month(tonight: NaiveDate) -> YearMonth {
    let month = YearMonth::of(tonight);
    if tonight.day() <= 10 {
        YearMonth::of(month.first().pred_opt().unwrap_or(tonight))
    } else {
        month
    }
}

/// The sheet screen.
#[component]
pub fn Allowance() -> Element {
    let ui = Ui::get();
    let tonight = night_of(crate::clock::now(), ui.tz());
    let mut month = use_signal(|| default_month(tonight));
    // Read when the part opens with a connection, and when the month changes.
    use_read_online(move || TeamCall::Allowance { month: month() });
    let shown = ui.admin.read().allowance.clone();
    let shown = shown.filter(|a| a.sheet.month == month());
    rsx! {
        section { class: "card no-print",
            h2 { {ui.t("allowance.title")} }
            label { class: "field", {ui.t("allowance.month")}
                input { r#type: "month", "data-testid": "allowance-month", value: "{month()}",
                    oninput: move |e| if let Ok(m) = e.value().parse::<YearMonth>() { month.set(m) } }
            }
        }
        if let Some(sheet) = shown {
            Sheet { answer: sheet }
        }
    }
}

/// One month's sheet: heading, rules, the table, actions, each member's nights, and the print's
/// letterhead and signatures.
#[component]
fn Sheet(answer: Box<AllowanceResponse>) -> Element {
    let ui = Ui::get();
    let lang = ui.lang();
    let tz = ui.tz();
    let s = &answer.sheet;
    let month_text = format!("{:02}/{}", s.month.month(), s.month.year());
    let table = allowance_table(&answer, lang);
    let rules = ui.tf(
        "allowance.rules",
        &[
            ("from", format_clock(s.rules.window_start_min, false)),
            ("to", format_clock(s.rules.window_end_min, true)),
            ("min", s.rules.min_minutes.to_string()),
            ("cap", s.rules.cap_nights.to_string()),
            ("rate", money(s.rules.rate_vnd, lang)),
        ],
    );
    let summary = ui.tf(
        "allowance.summary",
        &[
            ("paid", s.paid.to_string()),
            ("over", s.over_cap.to_string()),
            ("amount", money(s.total_vnd(), lang)),
        ],
    );
    let name_of = |id: &str| {
        s.lines
            .iter()
            .find(|l| l.member.id == id)
            .map_or_else(|| id.to_string(), |l| l.member.name.clone())
    };
    let closed = answer.closed.as_ref().map(|c| {
        ui.tf(
            "allowance.closed",
            &[
                ("who", name_of(&c.by)),
                ("time", fmt::clock(c.at, tz)),
                ("date", fmt::date(c.at.with_timezone(&tz).date_naive())),
            ],
        )
    });
    let is_open = answer.closed.is_none();
    // A month is closed once its last night is over; before, the button says when.
    let over = s.rules.month_over(s.month, tz, crate::clock::now());
    let file = table.clone();
    let month = s.month;
    let mut confirm = use_signal(|| false);
    rsx! {
        section { class: "card allowance-sheet", "data-testid": "allowance-sheet",
            Letterhead { who: answer.ward_name.to_uppercase(), unit: answer.team_name.to_uppercase() }
            p { class: "print-only lh-title", {ui.t("allowance.print_title")} }
            p { class: "print-only lh-subtitle", {ui.tf("allowance.print_month", &[("month", month_text.clone())])} }
            h2 { class: "card-title no-print", {ui.tf("allowance.heading", &[("team", answer.team_name.clone()), ("month", month_text.clone())])} }
            p { class: "muted", "data-testid": "allowance-rules", "{rules}" }
            p { "data-testid": "allowance-summary", "{summary}" }
            match &closed {
                Some(text) => rsx! { p { class: "card closed-note", "data-testid": "allowance-closed", "{text}" } },
                None => rsx! { p { class: "muted no-print", {ui.t("allowance.open")} } },
            }
            div { class: "report-actions no-print",
                button { "data-testid": "allowance-print", onclick: move |_| { let _ = document::eval("window.print()"); },
                    {ui.t("allowance.print")} }
                button { "data-testid": "allowance-csv", onclick: move |_| download(&file), {ui.t("allowance.export")} }
                if is_open && !confirm() {
                    button { "data-testid": "allowance-close", disabled: !over || !*ui.online.read() || *ui.busy.read(),
                        onclick: move |_| confirm.set(true), {ui.t("allowance.close")} }
                }
            }
            if is_open && !over {
                p { class: "muted no-print", "data-testid": "allowance-close-later", {ui.t("allowance.close_later")} }
            }
            if is_open && confirm() {
                div { class: "confirm no-print", "data-testid": "allowance-close-confirm",
                    p { {ui.tf("allowance.close_confirm", &[("month", month_text.clone())])} }
                    div { class: "row",
                        button { class: "danger", "data-testid": "allowance-close-yes", disabled: !*ui.online.read() || *ui.busy.read(),
                            onclick: move |_| async move {
                                if call(ui, TeamCall::AllowanceClose(AllowanceCloseRequest { month })).await {
                                    confirm.set(false);
                                }
                            },
                            {ui.t("allowance.close_yes")} }
                        button { "data-testid": "allowance-close-no", onclick: move |_| confirm.set(false), {ui.t("allowance.cancel")} }
                    }
                }
            }
            TableView { table }
            div { class: "print-only signatures",
                div { class: "lh-side",
                    p { class: "lh-strong", {ui.t("allowance.print_made_by")} }
                    p { class: "lh-em", {ui.t("report.print_sign_hint")} }
                }
                div { class: "lh-side",
                    p { class: "lh-strong", {ui.t("allowance.print_approved")} }
                    p { class: "lh-em", {ui.t("report.print_sign_hint")} }
                }
            }
        }
        for line in s.lines.iter().filter(|l| !l.nights.is_empty() || !l.member.left) {
            details { key: "{line.member.id}", class: "card no-print member-nights", "data-testid": "allowance-member-{line.member.id}",
                summary { {ui.tf("allowance.nights_of", &[("name", line.member.name.clone())])} " · " "{line.paid}" }
                ol { class: "plain nights",
                    for n in line.nights.iter() {
                        li { key: "{n.night}", class: status_class(n.status),
                            {ui.tf("allowance.night_line", &[("date", fmt::date(n.night)), ("minutes", n.minutes.to_string())])}
                            " — " strong { {ui.t(&n.status.key())} }
                            if n.unended { " · " {ui.t("allowance.unended")} }
                            if let Some(m) = &n.mark {
                                p { class: "muted", {ui.tf("allowance.mark_note", &[("kind", ui.t(&m.kind.key())), ("who", name_of(&m.by)), ("reason", m.reason.clone())])} }
                            }
                        }
                    }
                }
                if is_open {
                    MarkForm { key: "{month}", member_id: line.member.id.clone(), month }
                }
            }
        }
    }
}

/// Adds or takes off one night of a member, with a reason; the night defaults to the month's
/// first evening.
#[component]
fn MarkForm(member_id: String, month: YearMonth) -> Element {
    let ui = Ui::get();
    let mut night = use_signal(|| month.first());
    let mut reason = use_signal(String::new);
    let ready = !reason().trim().is_empty()
        && month.contains(night())
        && *ui.online.read()
        && !*ui.busy.read();
    let send = move |kind: MarkKind| {
        let member_id = member_id.clone();
        async move {
            let req = AllowanceMarkRequest {
                member_id,
                night: night(),
                kind,
                reason: reason(),
            };
            if call(ui, TeamCall::AllowanceMark(req)).await {
                reason.set(String::new());
            }
        }
    };
    let add = send.clone();
    rsx! {
        div { class: "mark-form",
            p { class: "lh-strong", {ui.t("allowance.mark_title")} }
            label { class: "field", {ui.t("allowance.mark_night")}
                input { r#type: "date", "data-testid": "mark-night", value: "{night()}",
                    min: "{month.first()}", max: "{month.last()}",
                    oninput: move |e| if let Ok(d) = e.value().parse() { night.set(d) } }
            }
            label { class: "field", {ui.t("allowance.mark_reason")}
                input { r#type: "text", "data-testid": "mark-reason", maxlength: "{MAX_REASON_CHARS}", value: "{reason}",
                    oninput: move |e| reason.set(e.value()) }
            }
            div { class: "member-actions",
                button { "data-testid": "mark-add", disabled: !ready, onclick: move |_| add(MarkKind::Add), {ui.t("allowance.mark_add")} }
                button { "data-testid": "mark-remove", disabled: !ready, onclick: move |_| send(MarkKind::Remove), {ui.t("allowance.mark_remove")} }
            }
        }
    }
}

fn status_class(s: NightStatus) -> &'static str {
    match s {
        NightStatus::Paid => "night paid",
        NightStatus::OverCap => "night over",
        NightStatus::BelowMinimum | NightStatus::Removed => "night off",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sheet_opens_on_last_month_in_the_first_ten_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(default_month(d(2026, 12, 3)).to_string(), "2026-11");
        assert_eq!(default_month(d(2027, 1, 10)).to_string(), "2026-12");
        assert_eq!(default_month(d(2026, 12, 11)).to_string(), "2026-12");
    }
}
