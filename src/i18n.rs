//! Translations: every visible string comes from assets/i18n/{vi,en}.json, Vietnamese first.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

pub use crate::domain::lang::Lang;

type Table = HashMap<String, String>;

fn tables() -> &'static (Table, Table) {
    static T: OnceLock<(Table, Table)> = OnceLock::new();
    T.get_or_init(|| {
        let vi =
            serde_json::from_str(include_str!("../assets/i18n/vi.json")).expect("vi.json is valid");
        let en =
            serde_json::from_str(include_str!("../assets/i18n/en.json")).expect("en.json is valid");
        (vi, en)
    })
}

/// The text for `key`; a missing key shows itself so it is noticed, never an empty string.
pub fn t(lang: Lang, key: &str) -> String {
    let (vi, en) = tables();
    let table = if lang == Lang::En { en } else { vi };
    table
        .get(key)
        .or_else(|| vi.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// A value for a message's `{name}` field: text shown as it is, or a key translated first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    /// Shown as it is (a number, a name, the server's words).
    Text(String),
    /// A translation key (a field's or a thing's name), shown in the UI language.
    Key(String),
}

/// The text for `key` with its `{name}` fields filled.
pub fn tf(lang: Lang, key: &str, args: &[(String, Arg)]) -> String {
    let mut out = t(lang, key);
    for (name, value) in args {
        let shown = match value {
            Arg::Text(text) => text.clone(),
            Arg::Key(key) => t(lang, key),
        };
        out = out.replace(&format!("{{{name}}}"), &shown);
    }
    out
}

/// Every key of a language's file, for tests.
pub fn keys(lang: Lang) -> Vec<String> {
    let (vi, en) = tables();
    let mut k: Vec<String> = if lang == Lang::En { en } else { vi }
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geofence::Compass;
    use crate::domain::observation::{Action, Category};
    use crate::domain::tip::TipStep;
    use crate::wire::api::RefusalCode;
    use crate::wire::event::EventKind;

    #[test]
    fn both_languages_have_the_same_keys() {
        assert_eq!(keys(Lang::Vi), keys(Lang::En));
    }

    /// A message shown in the toast fits three lines of a 360 px phone (about 95 characters
    /// with its fields filled by short values): details go behind the toggle, not in the text.
    #[test]
    fn every_message_fits_three_lines() {
        for lang in [Lang::Vi, Lang::En] {
            for key in keys(lang) {
                if !(key.starts_with("err.") || key.starts_with("notice.")) {
                    continue;
                }
                let text = t(lang, &key);
                let filled = text.split('{').count() - 1;
                let len =
                    text.chars().count() - text.chars().filter(|c| *c == '{' || *c == '}').count();
                assert!(
                    len + 3 * filled <= 95,
                    "{lang:?} {key} is {len} characters: {text}"
                );
            }
        }
    }

    #[test]
    fn domain_keys_exist() {
        let vi = keys(Lang::Vi);
        let mut needed: Vec<String> = Category::ALL.iter().map(|c| c.key()).collect();
        needed.extend(Action::ALL.iter().map(|a| a.key()));
        for c in Compass::ALL {
            needed.push(c.key().to_string());
        }
        // Keys the screens build from a code or a number.
        needed.extend(EventKind::ALL.iter().map(|k| format!("event.{}", k.code())));
        needed.extend(
            RefusalCode::ALL
                .iter()
                .map(|c| format!("refusal.{}", c.code())),
        );
        needed.extend((1..=7).map(|d| format!("weekday.{d}")));
        needed.extend(
            TipStep::ALL
                .iter()
                .chain([&TipStep::Withdrawn])
                .map(|s| s.key()),
        );
        #[cfg(any(feature = "web", feature = "web-store", feature = "desktop"))]
        needed.extend(
            crate::platform::NoGps::ALL
                .iter()
                .map(|g| g.key().to_string()),
        );
        for k in needed {
            assert!(vi.contains(&k), "missing translation key {k}");
        }
    }

    #[test]
    fn every_key_used_in_the_source_exists() {
        // Scan the source for t(lang, "key") / tf(lang, "key", ..) / ApiError::new("key") and field keys.
        let vi = keys(Lang::Vi);
        let re_like = [
            "t(lang, \"",
            "tf(lang, \"",
            "ApiError::new(\"",
            "(\"field.",
            "ui.t(\"",
            "ui.tf(\"",
        ];
        let mut missing = Vec::new();
        let files = walk(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        )));
        // This module names the patterns themselves; every other file is scanned.
        for entry in files.into_iter().filter(|p| !p.ends_with("i18n.rs")) {
            let text = std::fs::read_to_string(&entry).unwrap();
            for pat in re_like {
                for (i, _) in text.match_indices(pat) {
                    let start = i + pat.len() - if pat.starts_with("(\"field") { 6 } else { 0 };
                    let key: String = text[start..].chars().take_while(|c| *c != '"').collect();
                    if !vi.contains(&key) {
                        missing.push(format!("{}: {key}", entry.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the translation files: {missing:?}"
        );
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn named_fields_are_filled() {
        let s = tf(
            Lang::En,
            "err.outside",
            &[
                ("distance".into(), Arg::Text("180 m".into())),
                ("radius".into(), Arg::Text("40 m".into())),
            ],
        );
        assert!(
            s.contains("180 m") && s.contains("40 m") && !s.contains('{'),
            "{s}"
        );
    }

    #[test]
    fn text_that_happens_to_be_a_key_is_shown_as_it_is() {
        let args = [("id".to_string(), Arg::Text("field.plate".into()))];
        let s = tf(Lang::En, "err.unknown", &args);
        assert!(s.contains("field.plate"), "{s}");
        let args = [("field".to_string(), Arg::Key("field.plate".into()))];
        let s = tf(Lang::En, "err.required", &args);
        assert!(!s.contains("field.plate") && !s.contains('{'), "{s}");
    }
}
