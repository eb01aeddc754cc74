//! Small display helpers shared by the screens (plain formatting: no strftime parser in the bundle).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

/// "20:05" in the ward's time zone.
pub fn clock(at: DateTime<Utc>, tz: Tz) -> String {
    let t = at.with_timezone(&tz);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// "22/11/2026", the Vietnamese date order.
pub fn date(d: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", d.day(), d.month(), d.year())
}

/// A shift code for display: "ca1" becomes "CA1".
pub fn slot(code: &str) -> String {
    code.to_uppercase()
}

/// A size in bytes as people read it: "850 KB", "12.4 MB".
pub fn bytes(n: u64) -> String {
    if n < 1024 * 1024 {
        format!("{} KB", n.div_ceil(1024))
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}
