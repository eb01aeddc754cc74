//! Dates on the wire as exactly `YYYY-MM-DD` (a four-digit year): chrono alone also reads a sign
//! and a longer year (`+99999-05-01`), which would be stored and then sort before every real
//! night. Use with `#[serde(with = "crate::ymd")]`.

use chrono::NaiveDate;
use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

/// Reads a date written exactly `YYYY-MM-DD`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(D::Error::custom)
}

/// Writes the date as `YYYY-MM-DD`.
pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    date.serialize(s)
}

/// `text` as a date, if it is written exactly `YYYY-MM-DD` and names a real day.
pub fn parse(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return Err(format!("'{text}' is not a date written YYYY-MM-DD"));
    }
    text.parse()
        .map_err(|e| format!("'{text}' is not a date: {e}"))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn only_four_digit_years_written_in_full() {
        assert_eq!(parse("2026-12-04").unwrap().to_string(), "2026-12-04");
        for bad in [
            "+99999-05-01",
            "-0001-01-01",
            "2026-1-04",
            "20261204",
            "2026-02-30",
            " 2026-12-04",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
