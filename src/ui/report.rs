//! "Báo cáo": the figures a ward and a district ask for, made on the ward server for a period and
//! a scope, shown as the tables the CSV files hold (one builder: service::report_tables), with the
//! hours of the night drawn as SVG, and printed on A4 by the browser.

use super::ctx::Ui;
use super::fmt;
use crate::domain::period::Period;
use crate::domain::shift::night_of;
use crate::domain::ward::Role;
use crate::service::report_tables::{csv, tables, Table};
use crate::service::Command;
use crate::wire::api::{ReportQuery, ReportScope};
use chrono::{Datelike, Duration, NaiveDate};
use dioxus::prelude::*;

/// The kinds of period, as the picker lists them.
const KINDS: [(&str, &str); 7] = [
    ("night", "report.kind_night"),
    ("week", "report.kind_week"),
    ("month", "report.kind_month"),
    ("quarter", "report.kind_quarter"),
    ("half", "report.kind_half"),
    ("year", "report.kind_year"),
    ("range", "report.kind_range"),
];

/// The period of `kind` holding the evening `day` (or `from..=to` for a range).
fn period(kind: &str, day: NaiveDate, from: NaiveDate, to: NaiveDate) -> Period {
    let (year, month) = (day.year(), day.month());
    match kind {
        "night" => Period::Night { night: day },
        "week" => Period::Week { night: day },
        "quarter" => Period::Quarter {
            year,
            quarter: (month - 1) / 3 + 1,
        },
        "half" => Period::Half {
            year,
            half: (month - 1) / 6 + 1,
        },
        "year" => Period::Year { year },
        "range" => Period::Range { from, to },
        _ => Period::Month { year, month },
    }
}

/// The report screen.
#[component]
pub fn Reports() -> Element {
    let ui = Ui::get();
    let tonight = night_of(crate::clock::now(), ui.tz());
    let mut kind = use_signal(|| "month");
    let day = use_signal(|| tonight);
    let from = use_signal(|| tonight - Duration::days(6));
    let to = use_signal(|| tonight);
    let mut scope = use_signal(|| ReportScope::Team);
    let role = ui.sync.read().role;
    let scopes: Vec<(ReportScope, &str)> = match role {
        Some(Role::Admin) => vec![
            (ReportScope::Team, "report.scope_team"),
            (ReportScope::Ward, "report.scope_ward"),
            (ReportScope::District, "report.scope_district"),
        ],
        Some(Role::Officer) => vec![
            (ReportScope::Team, "report.scope_team"),
            (ReportScope::Ward, "report.scope_ward"),
        ],
        _ => vec![(ReportScope::Team, "report.scope_team")],
    };
    let chosen = period(kind(), day(), from(), to());
    let nights = chosen.nights();
    let date_input = |value: NaiveDate, testid: &'static str, mut set: Signal<NaiveDate>| {
        rsx! {
            input { r#type: "date", "data-testid": testid, value: "{value}",
                oninput: move |e| if let Ok(d) = e.value().parse() { set.set(d) } }
        }
    };
    rsx! {
        div { class: "report-controls",
            if *ui.online.read() {
                p { class: "muted", {ui.t("report.needs_connection")} }
            } else {
                p { class: "card offline-note", "data-testid": "report-offline", {ui.t("report.offline")} }
            }
            label { class: "field", {ui.t("report.period")}
                select { "data-testid": "report-kind",
                    onchange: move |e: FormEvent| {
                        let v = e.value();
                        kind.set(KINDS.iter().find(|(k, _)| *k == v).map_or("month", |(k, _)| *k));
                    },
                    for (k, key) in KINDS {
                        option { key: "{k}", value: "{k}", selected: kind() == k, {ui.t(key)} }
                    }
                }
            }
            if kind() == "range" {
                label { class: "field", {ui.t("report.from")} {date_input(from(), "report-from", from)} }
                label { class: "field", {ui.t("report.to")} {date_input(to(), "report-to", to)} }
            } else {
                label { class: "field", {ui.t("report.day")} {date_input(day(), "report-day", day)} }
            }
            if scopes.len() > 1 {
                label { class: "field", {ui.t("report.scope")}
                    select { "data-testid": "report-scope",
                        onchange: move |e: FormEvent| {
                            let v = e.value();
                            scope.set(match v.as_str() { "ward" => ReportScope::Ward, "district" => ReportScope::District, _ => ReportScope::Team });
                        },
                        for (s, key) in scopes.iter() {
                            option { key: "{key}", value: "{scope_code(*s)}", selected: scope() == *s, {ui.t(key)} }
                        }
                    }
                }
            }
            match &nights {
                Err(e) => rsx! { p { class: "sync-error", "{e}" } },
                Ok(n) => {
                    let query = ReportQuery { scope: scope(), id: None, from: n.first, to: n.last };
                    rsx! {
                        button { class: "big primary", "data-testid": "report-make", disabled: *ui.busy.read() || !*ui.online.read(),
                            onclick: move |_| {
                                let query = query.clone();
                                async move { ui.send(Command::Report { query }).await; }
                            },
                            {ui.t("report.make")}
                        }
                    }
                }
            }
        }
        ReportView {}
    }
}

fn scope_code(s: ReportScope) -> &'static str {
    match s {
        ReportScope::Team => "team",
        ReportScope::Ward => "ward",
        ReportScope::District => "district",
    }
}

/// The last report made: its tables, the chart, print and CSV.
#[component]
fn ReportView() -> Element {
    let ui = Ui::get();
    let report = ui.report.read();
    let Some(r) = report.as_ref() else {
        return rsx! {};
    };
    let all = tables(r, ui.lang());
    let scope = match r.report.teams.as_slice() {
        [one] => one.team_name.clone(),
        teams => {
            let mut wards: Vec<&str> = teams.iter().map(|t| t.ward_name.as_str()).collect();
            wards.dedup();
            wards.join(", ")
        }
    };
    let heading = ui.tf(
        "report.heading",
        &[
            ("scope", scope),
            ("from", fmt::date(r.report.nights.first)),
            ("to", fmt::date(r.report.nights.last)),
        ],
    );
    let made = ui.tf(
        "report.made_at",
        &[("time", fmt::clock(r.report.now, ui.tz()))],
    );
    let hours = r.report.total.by_hour;
    // The printed page is laid out as a ward's reports are: who reports (top left), the national
    // motto (top right), place and date, the title, the figures, then who receives it and who
    // signs. Only the print shows these.
    let mut wards: Vec<String> = r
        .report
        .teams
        .iter()
        .map(|t| t.ward_name.to_uppercase())
        .collect();
    wards.dedup();
    let unit = match r.report.teams.as_slice() {
        [one] => one.team_name.to_uppercase(),
        _ => ui.t("report.print_unit_all"),
    };
    let made_on = r.report.now.with_timezone(&ui.tz()).date_naive();
    let place_date = ui.tf(
        "report.print_place_date",
        &[
            (
                "place",
                r.report
                    .teams
                    .first()
                    .map(|t| t.ward_name.clone())
                    .unwrap_or_default(),
            ),
            ("d", made_on.day().to_string()),
            ("m", made_on.month().to_string()),
            ("y", made_on.year().to_string()),
        ],
    );
    let signer = match ui.sync.read().role {
        Some(Role::Leader) => ui.t("report.print_sign_leader"),
        Some(Role::Deputy) => ui.t("report.print_sign_deputy"),
        Some(Role::Officer) => ui.t("report.print_sign_officer"),
        _ => ui.t("report.print_sign_other"),
    };
    rsx! {
        section { class: "report", "data-testid": "report",
            Letterhead { who: wards.join(", "), unit }
            p { class: "print-only lh-date", "{place_date}" }
            p { class: "print-only lh-title", {ui.t("report.print_title")} }
            h2 { class: "card-title", "{heading}" }
            p { class: "muted", "{made}" }
            div { class: "report-actions",
                button { "data-testid": "report-print", onclick: move |_| { let _ = document::eval("window.print()"); },
                    {ui.t("report.print")} }
                for table in all.iter() {
                    {
                        let file = table.clone();
                        rsx! {
                            button { key: "{table.name}", "data-testid": "csv-{table.name}",
                                onclick: move |_| download(&file),
                                {ui.tf("report.export", &[("name", table.title.clone())])}
                            }
                        }
                    }
                }
            }
            for table in all.iter() {
                div { key: "{table.name}",
                    if table.name == "hours" { HourChart { hours } }
                    TableView { table: table.clone() }
                }
            }
            div { class: "print-only signatures",
                div { class: "lh-side",
                    p { class: "lh-em", {ui.t("report.print_recipients")} }
                    p { {ui.t("report.print_recipient_1")} }
                    p { {ui.t("report.print_recipient_2")} }
                }
                div { class: "lh-side",
                    p { class: "lh-strong", "{signer}" }
                    p { class: "lh-em", {ui.t("report.print_sign_hint")} }
                }
            }
        }
    }
}

fn file_name(table: &Table) -> String {
    format!("{}.csv", table.name)
}

/// Saves `table` as a CSV file through the browser's download.
pub(super) fn download(table: &Table) {
    let text = serde_json::to_string(&csv(table)).unwrap_or_default();
    let name = serde_json::to_string(&file_name(table)).unwrap_or_default();
    let _ = document::eval(&format!(
        "const a = document.createElement('a');
         a.href = URL.createObjectURL(new Blob([{text}], {{ type: 'text/csv;charset=utf-8' }}));
         a.download = {name}; document.body.appendChild(a); a.click(); a.remove();"
    ));
}

/// The printed page's letterhead, as a ward's papers have it: who writes (the ward, the unit
/// under it) on the left, the national motto on the right. Only the print shows it.
#[component]
pub(super) fn Letterhead(who: String, unit: String) -> Element {
    let ui = Ui::get();
    rsx! {
        div { class: "print-only letterhead", "data-testid": "letterhead",
            div { class: "lh-side",
                p { class: "lh-strong", "{who}" }
                p { class: "lh-strong lh-rule", "{unit}" }
            }
            div { class: "lh-side",
                p { class: "lh-strong", {ui.t("report.print_motto_1")} }
                p { class: "lh-strong lh-rule", {ui.t("report.print_motto_2")} }
            }
        }
    }
}

/// A table in its own box, scrolled sideways inside it when wider than the phone (the page never
/// is); the box takes the keyboard's focus so it can be scrolled without a finger.
#[component]
pub(super) fn TableView(table: Table) -> Element {
    rsx! {
        div { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "{table.title}",
            table { class: "report-table", "data-testid": "table-{table.name}",
                caption { "{table.title}" }
                thead { tr { for h in table.headers.iter() { th { scope: "col", "{h}" } } } }
                tbody {
                    for (i, row) in table.rows.iter().enumerate() {
                        tr { key: "{i}", for cell in row.iter() { td { "{cell}" } } }
                    }
                }
            }
        }
    }
}

/// Observations by hour of the night, noon to noon, as bars; drawn here, nothing fetched.
#[component]
fn HourChart(hours: [u64; 24]) -> Element {
    let ui = Ui::get();
    let order: Vec<usize> = (12..36).map(|h| h % 24).collect();
    let max = hours.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (w, h, bar) = (480.0, 160.0, 20.0);
    rsx! {
        svg { class: "hour-chart", "data-testid": "hour-chart", role: "img",
            "aria-label": "{ui.t(\"report.chart\")}",
            view_box: "0 0 {w} {h + 24.0}", width: "100%",
            rect { x: "0", y: "0", width: "{w}", height: "{h}", fill: "none" }
            for (i, hour) in order.iter().enumerate() {
                {
                    let n = hours[*hour];
                    let height = (n as f64 / max) * (h - 16.0);
                    let x = i as f64 * bar;
                    rsx! {
                        g { key: "{hour}",
                            rect { class: "bar", x: "{x + 2.0}", y: "{h - height}", width: "{bar - 4.0}", height: "{height}" }
                            if n > 0 { text { x: "{x + bar / 2.0}", y: "{h - height - 3.0}", "text-anchor": "middle", class: "bar-n", "{n}" } }
                            if hour % 3 == 0 { text { x: "{x + bar / 2.0}", y: "{h + 16.0}", "text-anchor": "middle", class: "bar-h", "{hour:02}" } }
                        }
                    }
                }
            }
        }
    }
}
