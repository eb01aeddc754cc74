//! A report as tables: what the report screen shows and what its CSV files hold come from this
//! one builder, so an exported file is exactly what was on the screen.

use crate::domain::allowance::NightStatus;
use crate::domain::observation::{Action, Category};
use crate::domain::report::Figures;
use crate::i18n::{t, Lang};
use crate::wire::api::{AllowanceResponse, ReportResponse};
use chrono::Datelike;

/// One table of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// A stable name, the CSV file's stem ("summary", "teams"...).
    pub name: &'static str,
    /// The table's title, translated.
    pub title: String,
    /// Column headers, translated.
    pub headers: Vec<String>,
    /// Rows of cells, as shown.
    pub rows: Vec<Vec<String>>,
}

/// Hours as people write them: to a tenth, no ",0" on a whole number, the decimal comma in
/// Vietnamese ("1,5"; "1.5" in English).
fn hours(seconds: i64, lang: Lang) -> String {
    let tenths = (seconds as f64 / 360.0).round() as i64;
    let (whole, tenth) = (tenths / 10, (tenths % 10).abs());
    match (tenth, lang) {
        (0, _) => whole.to_string(),
        (_, Lang::Vi) => format!("{whole},{tenth}"),
        (_, Lang::En) => format!("{whole}.{tenth}"),
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / whole as f64)
    }
}

/// The summary's rows: (translation key, value of each of the three periods).
fn summary_rows(f: &Figures, lang: Lang) -> Vec<(&'static str, String)> {
    let (s, p, c, o, tips) = (&f.shifts, &f.people, &f.coverage, &f.observations, &f.tips);
    vec![
        ("report.shifts_planned", s.planned.to_string()),
        ("report.shifts_run", s.run.to_string()),
        ("report.shifts_not_run", s.not_run.to_string()),
        ("report.shifts_late", s.late.to_string()),
        ("report.shifts_unended", s.unended.to_string()),
        ("report.member_shifts", p.member_shifts.to_string()),
        ("report.member_hours", hours(p.member_seconds, lang)),
        ("report.check_ins", c.check_ins.to_string()),
        ("report.gps_verified", c.gps_verified.to_string()),
        ("report.qr_verified", c.qr_verified.to_string()),
        ("report.unverified", c.unverified.to_string()),
        ("report.coverage", percent(c.stops_visited, c.route_stops)),
        ("report.observations", o.total.to_string()),
        ("report.urgent", o.urgent.to_string()),
        ("report.corrections", o.corrections.to_string()),
        ("report.tips_forwarded", tips.passed_on.to_string()),
        ("report.tips_valuable", tips.valuable.to_string()),
        ("report.tips_resolved", tips.resolved.to_string()),
        ("report.tips_unfounded", tips.unfounded.to_string()),
        ("report.tips_no_step", tips.no_step.to_string()),
    ]
}

/// The report's tables in `lang`: the summary beside the period before and the year before, the
/// teams, observations by category and by action, by hour of the night, and by place.
pub fn tables(r: &ReportResponse, lang: Lang) -> Vec<Table> {
    let tr = |k: &str| t(lang, k);
    let total = &r.report.total;
    let periods = vec![
        tr("report.col_figure"),
        tr("report.col_period"),
        tr("report.col_before"),
        tr("report.col_year_before"),
    ];
    let (now, before, year) = (
        summary_rows(total, lang),
        summary_rows(&r.before, lang),
        summary_rows(&r.year_before, lang),
    );
    let summary = now
        .iter()
        .zip(&before)
        .zip(&year)
        .map(|(((k, a), (_, b)), (_, c))| vec![tr(k), a.clone(), b.clone(), c.clone()])
        .collect();
    let teams = r
        .report
        .teams
        .iter()
        .map(|team| {
            let f = &team.figures;
            vec![
                team.ward_name.clone(),
                team.team_name.clone(),
                f.shifts.run.to_string(),
                f.shifts.not_run.to_string(),
                f.people.member_shifts.to_string(),
                f.observations.total.to_string(),
                f.observations.urgent.to_string(),
                f.tips.valuable.to_string(),
            ]
        })
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|&c| {
            vec![
                tr(&c.key()),
                total.observations.category(c).to_string(),
                r.before.observations.category(c).to_string(),
                r.year_before.observations.category(c).to_string(),
            ]
        })
        .collect();
    let mut actions: Vec<Vec<String>> = Action::ALL
        .iter()
        .map(|&a| vec![tr(&a.key()), total.observations.action(a).to_string()])
        .collect();
    actions.push(vec![
        tr("report.no_action"),
        total.observations.no_action.to_string(),
    ]);
    // The night runs from noon to noon, so the evening's hours come first and stay together.
    let by_hour = (12..36)
        .map(|h| h % 24)
        .map(|h| vec![format!("{h:02}:00"), total.by_hour[h].to_string()])
        .collect();
    let mut places: Vec<Vec<String>> = total
        .places
        .checkpoints
        .iter()
        .map(|p| vec![p.team_id.clone(), p.name.clone(), p.count.to_string()])
        .collect();
    places.push(vec![
        String::new(),
        tr("report.elsewhere"),
        total.places.elsewhere.to_string(),
    ]);
    places.push(vec![
        String::new(),
        tr("report.no_position"),
        total.places.no_position.to_string(),
    ]);
    vec![
        Table {
            name: "summary",
            title: tr("report.t_summary"),
            headers: periods.clone(),
            rows: summary,
        },
        Table {
            name: "teams",
            title: tr("report.t_teams"),
            headers: [
                "report.col_ward",
                "report.col_team",
                "report.shifts_run",
                "report.shifts_not_run",
                "report.member_shifts",
                "report.observations",
                "report.urgent",
                "report.tips_valuable",
            ]
            .iter()
            .map(|k| tr(k))
            .collect(),
            rows: teams,
        },
        Table {
            name: "categories",
            title: tr("report.t_categories"),
            headers: vec![
                tr("report.col_category"),
                tr("report.col_period"),
                tr("report.col_before"),
                tr("report.col_year_before"),
            ],
            rows: categories,
        },
        Table {
            name: "actions",
            title: tr("report.t_actions"),
            headers: vec![tr("report.col_action"), tr("report.col_period")],
            rows: actions,
        },
        Table {
            name: "hours",
            title: tr("report.t_hours"),
            headers: vec![tr("report.col_hour"), tr("report.observations")],
            rows: by_hour,
        },
        Table {
            name: "places",
            title: tr("report.t_places"),
            headers: vec![
                tr("report.col_team"),
                tr("report.col_place"),
                tr("report.observations"),
            ],
            rows: places,
        },
    ]
}

/// VND as people write it: digits grouped by three, with dots in Vietnamese ("1.500.000") and
/// commas in English.
pub fn money(vnd: u64, lang: Lang) -> String {
    let digits = vnd.to_string();
    let sep = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A team's night-duty sheet as one table (a line per member, then the total), as shown, printed
/// and exported: name, role, the evenings paid (day of the month), nights paid, over the cap and
/// below the minimum, the allowance, the monthly support and their sum.
pub fn allowance_table(r: &AllowanceResponse, lang: Lang) -> Table {
    let tr = |key: &str| t(lang, key);
    let s = &r.sheet;
    let mut rows: Vec<Vec<String>> = s
        .lines
        .iter()
        .map(|l| {
            let days: Vec<String> = l
                .nights
                .iter()
                .filter(|n| n.status == NightStatus::Paid)
                .map(|n| n.night.day().to_string())
                .collect();
            let role = if l.member.left {
                format!("{} ({})", tr(l.member.role.key()), tr("allowance.left"))
            } else {
                tr(l.member.role.key())
            };
            vec![
                l.member.name.clone(),
                role,
                days.join(", "),
                l.paid.to_string(),
                l.over_cap.to_string(),
                l.below_minimum.to_string(),
                money(l.allowance_vnd, lang),
                money(l.support_vnd, lang),
                money(l.total_vnd(), lang),
            ]
        })
        .collect();
    rows.push(vec![
        tr("allowance.total"),
        String::new(),
        String::new(),
        s.paid.to_string(),
        s.over_cap.to_string(),
        s.lines
            .iter()
            .map(|l| l.below_minimum)
            .sum::<u32>()
            .to_string(),
        money(s.allowance_vnd, lang),
        money(s.support_vnd, lang),
        money(s.total_vnd(), lang),
    ]);
    Table {
        name: "allowance",
        title: tr("allowance.table"),
        headers: [
            "allowance.col_name",
            "allowance.col_role",
            "allowance.col_days",
            "allowance.col_paid",
            "allowance.col_over",
            "allowance.col_short",
            "allowance.col_allowance",
            "allowance.col_support",
            "allowance.col_sum",
        ]
        .into_iter()
        .map(tr)
        .collect(),
        rows,
    }
}

/// `table` as a CSV file a spreadsheet opens correctly: UTF-8 with a byte-order mark (Excel reads
/// Vietnamese right only with it), a header row, CRLF line ends.
pub fn csv(table: &Table) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(&table.headers);
    for row in &table.rows {
        let _ = w.write_record(row);
    }
    let bytes = w.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_written_as_people_write_them() {
        assert_eq!(hours(0, Lang::Vi), "0");
        assert_eq!(hours(7200, Lang::Vi), "2");
        assert_eq!(hours(5400, Lang::Vi), "1,5");
        assert_eq!(hours(5400, Lang::En), "1.5");
        assert_eq!(hours(3600 * 12 + 179, Lang::Vi), "12");
        assert_eq!(hours(3600 * 12 + 181, Lang::Vi), "12,1");
    }

    #[test]
    fn money_is_grouped_by_three_as_each_language_writes_it() {
        assert_eq!(money(0, Lang::Vi), "0");
        assert_eq!(money(150_000, Lang::Vi), "150.000");
        assert_eq!(money(1_500_000, Lang::Vi), "1.500.000");
        assert_eq!(money(12_345_678, Lang::En), "12,345,678");
        assert_eq!(money(999, Lang::En), "999");
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_starts_with_a_bom() {
        let t = Table {
            name: "x",
            title: "X".into(),
            headers: vec!["Tên".into(), "Số".into()],
            rows: vec![
                vec!["Chợ, cổng \"B\"".into(), "3".into()],
                vec!["Đầu ngõ 12".into(), "0".into()],
            ],
        };
        assert_eq!(
            csv(&t),
            "\u{feff}Tên,Số\r\n\"Chợ, cổng \"\"B\"\"\",3\r\nĐầu ngõ 12,0\r\n"
        );
    }
}
