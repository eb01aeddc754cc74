//! Small display helpers shared by the screens.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// "20:05" in the ward's time zone.
pub fn clock(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// "22/11/2026", the Vietnamese date order.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// A shift code for display: "ca1" becomes "CA1".
pub fn slot(code: &str) -> String {
    code.to_uppercase()
}
