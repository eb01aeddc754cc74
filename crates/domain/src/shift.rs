//! Shift slots and patrol nights: "ca 2, 24:00–04:00" belongs to the evening before.
//!
//! A patrol night is named by the date of its evening and runs from that day's noon to the next
//! day's noon in the ward's time zone. A slot that starts before noon (00:00–04:00) therefore
//! starts on the calendar day after the night's date.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The ward time zone used when a ward does not set its own.
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// Why a slot definition is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SlotError {
    /// A time is not HH:MM between 00:00 and 24:00.
    #[error("'{0}' is not a time of day (HH:MM, 00:00–24:00)")]
    BadTime(String),
    /// Start and end are the same instant, or the slot is longer than 12 hours.
    #[error("a shift must last between 1 minute and 12 hours")]
    BadLength,
    /// The code is empty or too long.
    #[error("a shift code must be 1–16 characters")]
    BadCode,
}

/// One shift of a patrol night, as a team defines it: "ca1" 20:00–24:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftSlot {
    /// Stable code, e.g. "ca1".
    pub code: String,
    /// Minutes after local midnight when it starts (0..1440).
    pub start_min: u32,
    /// Length in minutes (1..=720).
    pub length_min: u32,
}

/// A slot placed on a real patrol night, in UTC with the local clock text for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotWindow {
    /// The slot's code.
    pub code: String,
    /// The patrol night it belongs to (the evening's date).
    pub night: NaiveDate,
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// Local clock label, "20:00–24:00".
    pub label: String,
}

/// Parses "HH:MM" (also "24:00") into minutes after midnight.
pub fn parse_clock(text: &str) -> Result<u32, SlotError> {
    let bad = || SlotError::BadTime(text.to_string());
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Formats minutes after midnight as "HH:MM"; `end` shows midnight as "24:00".
pub fn format_clock(min: u32, end: bool) -> String {
    let min = min % 1440;
    if end && min == 0 {
        return "24:00".into();
    }
    format!("{:02}:{:02}", min / 60, min % 60)
}

impl ShiftSlot {
    /// Builds a slot from clock texts such as ("ca2", "24:00", "04:00").
    pub fn new(code: &str, start: &str, end: &str) -> Result<Self, SlotError> {
        let code = code.trim();
        if code.is_empty() || code.chars().count() > 16 {
            return Err(SlotError::BadCode);
        }
        let start_min = parse_clock(start)? % 1440;
        let end_min = parse_clock(end)? % 1440;
        let length_min = (end_min + 1440 - start_min) % 1440;
        if length_min == 0 || length_min > 720 {
            return Err(SlotError::BadLength);
        }
        Ok(Self {
            code: code.to_string(),
            start_min,
            length_min,
        })
    }

    /// The local clock label, "24:00–04:00" for a slot that starts at midnight.
    pub fn label(&self) -> String {
        let start = if self.start_min == 0 {
            "24:00".to_string()
        } else {
            format_clock(self.start_min, false)
        };
        format!(
            "{}–{}",
            start,
            format_clock(self.start_min + self.length_min, true)
        )
    }

    /// Places the slot on patrol night `night` in time zone `tz`.
    pub fn window(&self, night: NaiveDate, tz: Tz) -> SlotWindow {
        let day = if self.start_min < 12 * 60 {
            night.succ_opt().unwrap_or(night)
        } else {
            night
        };
        let local_start =
            NaiveDateTime::new(day, NaiveTime::MIN) + Duration::minutes(self.start_min as i64);
        let start = resolve_local(tz, local_start);
        let end = start + Duration::minutes(self.length_min as i64);
        SlotWindow {
            code: self.code.clone(),
            night,
            start,
            end,
            label: self.label(),
        }
    }
}

/// The default slots of a ward plan: ca1 20:00–24:00 and ca2 24:00–04:00.
pub fn default_slots() -> Vec<ShiftSlot> {
    vec![
        ShiftSlot {
            code: "ca1".into(),
            start_min: 20 * 60,
            length_min: 240,
        },
        ShiftSlot {
            code: "ca2".into(),
            start_min: 0,
            length_min: 240,
        },
    ]
}

/// The patrol night an instant belongs to: before local noon it is still last night.
pub fn night_of(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let local = at.with_timezone(&tz).naive_local();
    if local.time() < NaiveTime::from_hms_opt(12, 0, 0).expect("valid noon") {
        local.date().pred_opt().unwrap_or(local.date())
    } else {
        local.date()
    }
}

/// The windows of all `slots` on `night`, in start order.
pub fn windows_for_night(slots: &[ShiftSlot], night: NaiveDate, tz: Tz) -> Vec<SlotWindow> {
    let mut out: Vec<SlotWindow> = slots.iter().map(|s| s.window(night, tz)).collect();
    out.sort_by_key(|w| w.start);
    out
}

/// The slot a member most likely means when starting a shift at `at`: the one under way, else the next.
pub fn current_or_next(windows: &[SlotWindow], at: DateTime<Utc>) -> Option<&SlotWindow> {
    windows
        .iter()
        .find(|w| w.start <= at && at < w.end)
        .or_else(|| {
            windows
                .iter()
                .filter(|w| w.start > at)
                .min_by_key(|w| w.start)
        })
}

pub(crate) fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
        // A clock gap (daylight saving elsewhere): take the instant one hour later.
        chrono::LocalResult::None => resolve_local(tz, local + Duration::hours(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn second_shift_starts_next_morning_but_belongs_to_the_night() {
        let slots = default_slots();
        let w = windows_for_night(&slots, d(2026, 12, 31), DEFAULT_TZ);
        assert_eq!(w[0].code, "ca1");
        assert_eq!(w[0].start.to_rfc3339(), "2026-12-31T13:00:00+00:00");
        assert_eq!(w[0].end.to_rfc3339(), "2026-12-31T17:00:00+00:00");
        assert_eq!(w[1].code, "ca2");
        // 24:00 on 31 Dec local is 00:00 on 1 Jan 2027 local = 17:00 UTC on 31 Dec.
        assert_eq!(w[1].start.to_rfc3339(), "2026-12-31T17:00:00+00:00");
        assert_eq!(w[1].end.to_rfc3339(), "2026-12-31T21:00:00+00:00");
        assert_eq!(w[1].night, d(2026, 12, 31));
        assert_eq!(w[1].label, "24:00–04:00");
        assert_eq!(w[0].label, "20:00–24:00");
    }

    #[test]
    fn night_of_crosses_month_and_year_ends() {
        // 02:30 local on 1 Jan 2027 belongs to the night of 31 Dec 2026.
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2027, 1, 1, 2, 30, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(night_of(at, DEFAULT_TZ), d(2026, 12, 31));
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2026, 3, 1, 3, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(night_of(at, DEFAULT_TZ), d(2026, 2, 28));
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2028, 3, 1, 3, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(night_of(at, DEFAULT_TZ), d(2028, 2, 29));
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2026, 11, 22, 21, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(night_of(at, DEFAULT_TZ), d(2026, 11, 22));
    }

    #[test]
    fn current_or_next_picks_the_running_slot() {
        let w = windows_for_night(&default_slots(), d(2026, 11, 22), DEFAULT_TZ);
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2026, 11, 23, 1, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(current_or_next(&w, at).unwrap().code, "ca2");
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2026, 11, 22, 19, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(current_or_next(&w, at).unwrap().code, "ca1");
        let at = DEFAULT_TZ
            .with_ymd_and_hms(2026, 11, 23, 5, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert!(current_or_next(&w, at).is_none());
    }

    #[test]
    fn slot_definitions_are_checked() {
        assert_eq!(
            ShiftSlot::new("ca2", "24:00", "04:00").unwrap(),
            default_slots()[1]
        );
        assert_eq!(
            ShiftSlot::new("ca1", "20:00", "24:00").unwrap(),
            default_slots()[0]
        );
        assert_eq!(
            ShiftSlot::new("x", "20:00", "20:00"),
            Err(SlotError::BadLength)
        );
        assert_eq!(
            ShiftSlot::new("x", "06:00", "20:00"),
            Err(SlotError::BadLength)
        );
        assert_eq!(
            ShiftSlot::new("", "20:00", "22:00"),
            Err(SlotError::BadCode)
        );
        assert!(matches!(
            ShiftSlot::new("x", "24:30", "02:00"),
            Err(SlotError::BadTime(_))
        ));
        assert!(matches!(
            ShiftSlot::new("x", "7pm", "02:00"),
            Err(SlotError::BadTime(_))
        ));
    }

    proptest! {
        #[test]
        fn every_window_lies_inside_its_night(start in 0u32..1440, len in 1u32..=720,
                                              days in 0i64..3650) {
            let slot = ShiftSlot { code: "c".into(), start_min: start, length_min: len };
            let night = d(2024, 1, 1) + Duration::days(days);
            let w = slot.window(night, DEFAULT_TZ);
            prop_assert_eq!((w.end - w.start).num_minutes(), len as i64);
            // The start always falls in the night it was placed on (noon to noon).
            prop_assert_eq!(night_of(w.start, DEFAULT_TZ), night);
            // And the label round-trips through the slot constructor.
            let (a, b) = w.label.split_once('–').unwrap();
            prop_assert_eq!(ShiftSlot::new("c", a, b).unwrap(), slot);
        }

        #[test]
        fn night_of_is_never_after_the_local_date(secs in 0i64..400_000_000) {
            let at = DateTime::<Utc>::from_timestamp(1_600_000_000 + secs, 0).unwrap();
            let local = at.with_timezone(&DEFAULT_TZ).date_naive();
            let n = night_of(at, DEFAULT_TZ);
            prop_assert!(n == local || n.succ_opt().unwrap() == local);
        }
    }
}
