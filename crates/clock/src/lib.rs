//! "Now", read from one place on every platform. The browser tests move it to fixed nights (ca 1,
//! ca 2 after midnight, a month's end) by setting an offset in the page, which hands it on to the
//! store's worker; the app and its tests then never depend on the host's clock or time zone.

use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// The current time: the device's clock plus the offset set by [`set_offset_ms`] (0 unless a test
/// set one).
pub fn now() -> DateTime<Utc> {
    Utc::now() + Duration::milliseconds(OFFSET_MS.load(Ordering::Relaxed))
}

/// Moves [`now`] by `ms` milliseconds from the device's clock.
pub fn set_offset_ms(ms: i64) {
    OFFSET_MS.store(ms, Ordering::Relaxed);
}

/// The offset in force, to hand on to another thread of the app (the browser's worker).
pub fn offset_ms() -> i64 {
    OFFSET_MS.load(Ordering::Relaxed)
}
