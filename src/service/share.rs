//! The text a tip is handed on with (the ward police's Zalo group, an SMS, a call note): urgency,
//! category, time and night, team and ward, the place (the nearest checkpoint within reach and a
//! map link), plate, people, details and what was done, in the member's language.

use crate::domain::observation::Category;
use crate::domain::records::Observation;
use crate::domain::report::place_of;
use crate::domain::shift::night_of;
use crate::domain::ward::WardSetup;
use crate::i18n::{self, Arg, Lang};

/// The share sheet's title and the text, for `o` as corrected to `category` (if a correction
/// changed it), of the team and ward in `setup`.
pub fn share_text(
    lang: Lang,
    setup: &WardSetup,
    o: &Observation,
    category: Option<Category>,
) -> (String, String) {
    let tz = setup
        .ward
        .tz
        .parse()
        .unwrap_or(crate::domain::shift::DEFAULT_TZ);
    let tf = |key: &str, args: &[(&str, String)]| {
        let args: Vec<(String, Arg)> = args
            .iter()
            .map(|(k, v)| (k.to_string(), Arg::Text(v.clone())))
            .collect();
        i18n::tf(lang, key, &args)
    };
    let category = i18n::t(lang, &category.unwrap_or(o.category).key());
    let mut lines = vec![if o.urgent {
        tf("share.urgent", &[("category", category)])
    } else {
        category
    }];
    let local = o.at.with_timezone(&tz);
    let night = night_of(o.at, tz);
    lines.push(tf(
        "share.when",
        &[
            ("time", local.format("%H:%M").to_string()),
            ("date", night.format("%d/%m/%Y").to_string()),
        ],
    ));
    lines.push(tf(
        "share.team",
        &[
            ("team", setup.team.name.clone()),
            ("ward", setup.ward.name.clone()),
        ],
    ));
    if let Some(fix) = &o.fix {
        let route: Vec<_> = setup.checkpoints.iter().collect();
        let place = match place_of(&route, fix.pos) {
            Some(i) => route[i].name.clone(),
            None => tf(
                "share.gps",
                &[("accuracy", format!("{:.0}", fix.accuracy_m))],
            ),
        };
        lines.push(tf("share.place", &[("place", place)]));
        let (lat, lon) = (fix.pos.lat, fix.pos.lon);
        lines.push(format!(
            "https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=18/{lat:.5}/{lon:.5}"
        ));
    }
    for (key, field, value) in [
        ("share.plate", "plate", &o.plate),
        ("share.people", "people", &o.people),
        ("share.details", "text", &o.description),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            lines.push(tf(key, &[(field, v.trim().to_string())]));
        }
    }
    if let Some(a) = o.action {
        lines.push(tf("share.action", &[("action", i18n::t(lang, &a.key()))]));
    }
    (i18n::t(lang, "share.title"), lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geofence::{Fix, LatLon};
    use crate::domain::observation::Action;
    use chrono::TimeZone;

    fn setup() -> WardSetup {
        serde_json::from_str(include_str!("../../assets/demo/ward.json")).unwrap()
    }

    #[test]
    fn a_tip_after_midnight_reads_with_its_evening_place_and_fields_in_both_languages() {
        let s = setup();
        let cp = &s.checkpoints[0];
        // 00:40 on 5 December in Hà Nội belongs to the night of 4 December.
        let at = crate::domain::shift::DEFAULT_TZ
            .with_ymd_and_hms(2026, 12, 5, 0, 40, 0)
            .unwrap()
            .with_timezone(&chrono::Utc);
        let o = Observation {
            id: "o1".into(),
            shift_id: "s1".into(),
            category: Category::SuspiciousVehicle,
            description: Some("Hai thanh niên đi xe máy, không đội mũ".into()),
            plate: Some("29B1-123.45".into()),
            people: None,
            action: Some(Action::ReportedPolice),
            urgent: true,
            fix: Some(Fix {
                pos: LatLon {
                    lat: cp.pos.lat + 0.0001,
                    lon: cp.pos.lon,
                },
                accuracy_m: 8.0,
            }),
            at,
            photos: Vec::new(),
        };
        let (title, vi) = share_text(Lang::Vi, &s, &o, None);
        assert!(!title.is_empty());
        for want in [
            "KHẨN CẤP",
            "Phương tiện khả nghi",
            "00:40",
            "04/12/2026",
            &cp.name,
            "29B1-123.45",
            "Hai thanh niên",
            "openstreetmap.org/?mlat=",
            &s.team.name,
        ] {
            assert!(vi.contains(want), "{want} missing in:\n{vi}");
        }
        // A correction's category is the one handed on; English reads in English.
        let (_, en) = share_text(Lang::En, &s, &o, Some(Category::Theft));
        assert!(
            en.contains("Theft") && en.contains("Plate") && !en.contains("Biển số"),
            "{en}"
        );
        // No fix: no place line and no map link.
        let (_, plain) = share_text(Lang::Vi, &s, &Observation { fix: None, ..o }, None);
        assert!(!plain.contains("openstreetmap"), "{plain}");
    }
}
