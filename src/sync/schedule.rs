//! When the next sync round runs: one pure function of what just happened, shared by the browser's
//! worker and the desktop app, so both behave alike and the rule is tested here once.

/// After a write, wait this long for more before syncing (debounce), in milliseconds.
pub const AFTER_WRITE_MS: u64 = 1_500;
/// Between successful rounds, in milliseconds.
pub const PERIOD_MS: u64 = 60_000;
/// The first round after start, in milliseconds.
pub const AT_START_MS: u64 = 1_000;
/// Between tries while the device believes it is offline, in milliseconds. No back-off grows
/// meanwhile: the back-off spaces out failures of a connection the device believes it has, so the
/// first round after the signal returns is never far off, even when no event says so.
pub const OFFLINE_RETRY_MS: u64 = 10_000;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The app started.
    Started,
    /// A record was saved.
    Wrote,
    /// The device enrolled, or the connection came back: sync now.
    Connected,
    /// A round ended.
    Ended(Outcome),
}

/// How a round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not enrolled: nothing to sync until the member enrolls.
    NotEnrolled,
    /// Everything pushed and pulled.
    Synced,
    /// No network, a busy or failing server, while the device believes it is online: worth
    /// trying again, less often each time.
    Retryable,
    /// The round failed and the device believes it is offline: try again soon, back-off untouched.
    Offline,
    /// Revoked, or refused as a whole: wait for the member to act.
    Permanent,
}

/// When to run next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// After this many milliseconds.
    In(u64),
    /// Only when something pokes the loop (a write, the connection coming back).
    WhenPoked,
}

/// The loop's memory between rounds: failures in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Schedule {
    /// Rounds that failed in a row (reset by a success or by the connection coming back).
    pub failures: u32,
}

impl Schedule {
    /// Decides the next round after `trigger`; `jitter` in 0..1 spreads retries of many phones.
    pub fn next(&mut self, trigger: Trigger, jitter: f64) -> Next {
        match trigger {
            Trigger::Started => Next::In(AT_START_MS),
            Trigger::Wrote => Next::In(AFTER_WRITE_MS),
            Trigger::Connected => {
                self.failures = 0;
                Next::In(0)
            }
            Trigger::Ended(Outcome::Synced) => {
                self.failures = 0;
                Next::In(PERIOD_MS)
            }
            Trigger::Ended(Outcome::Retryable) => {
                let delay = backoff_ms(self.failures, jitter);
                self.failures = self.failures.saturating_add(1);
                Next::In(delay)
            }
            Trigger::Ended(Outcome::Offline) => Next::In(OFFLINE_RETRY_MS),
            Trigger::Ended(Outcome::NotEnrolled) | Trigger::Ended(Outcome::Permanent) => {
                Next::WhenPoked
            }
        }
    }
}

/// Delay before retry `attempt` (0-based): exponential from 2 s to 5 min, with ±50% jitter from `unit` in 0..1.
pub fn backoff_ms(attempt: u32, unit: f64) -> u64 {
    let base = 2_000f64 * 2f64.powi(attempt.min(16) as i32);
    let capped = base.min(300_000.0);
    (capped * (0.5 + unit.clamp(0.0, 1.0))) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn failures_back_off_and_a_success_or_a_connection_resets() {
        let mut s = Schedule::default();
        assert_eq!(s.next(Trigger::Started, 0.5), Next::In(AT_START_MS));
        assert_eq!(
            s.next(Trigger::Ended(Outcome::Retryable), 0.5),
            Next::In(2_000)
        );
        assert_eq!(
            s.next(Trigger::Ended(Outcome::Retryable), 0.5),
            Next::In(4_000)
        );
        assert_eq!(
            s.next(Trigger::Ended(Outcome::Retryable), 0.5),
            Next::In(8_000)
        );
        assert_eq!(s.failures, 3);
        assert_eq!(s.next(Trigger::Wrote, 0.5), Next::In(AFTER_WRITE_MS));
        assert_eq!(s.failures, 3, "a write alone is no sign of a connection");
        assert_eq!(
            s.next(Trigger::Ended(Outcome::Synced), 0.5),
            Next::In(PERIOD_MS)
        );
        assert_eq!(s.failures, 0);
        s.next(Trigger::Ended(Outcome::Retryable), 0.5);
        assert_eq!(s.next(Trigger::Connected, 0.5), Next::In(0));
        assert_eq!(s.failures, 0);
        assert_eq!(
            s.next(Trigger::Ended(Outcome::Retryable), 0.5),
            Next::In(2_000)
        );
    }

    #[test]
    fn offline_failures_never_grow_the_back_off() {
        let mut s = Schedule::default();
        for _ in 0..3 {
            s.next(Trigger::Ended(Outcome::Retryable), 0.5);
        }
        let grown = s.failures;
        for _ in 0..100 {
            assert_eq!(
                s.next(Trigger::Ended(Outcome::Offline), 0.5),
                Next::In(OFFLINE_RETRY_MS)
            );
        }
        assert_eq!(
            s.failures, grown,
            "offline rounds leave the back-off as it was"
        );
        // Back online, the first failure waits no longer than before the phone went offline.
        assert_eq!(s.next(Trigger::Connected, 0.5), Next::In(0));
        assert_eq!(s.failures, 0);
    }

    #[test]
    fn revoked_or_not_enrolled_waits_for_the_member() {
        let mut s = Schedule::default();
        assert_eq!(
            s.next(Trigger::Ended(Outcome::Permanent), 0.1),
            Next::WhenPoked
        );
        assert_eq!(
            s.next(Trigger::Ended(Outcome::NotEnrolled), 0.1),
            Next::WhenPoked
        );
        assert_eq!(s.next(Trigger::Wrote, 0.1), Next::In(AFTER_WRITE_MS));
    }

    proptest! {
        #[test]
        fn backoff_grows_and_stays_bounded(attempt in 0u32..100, unit in 0.0f64..1.0) {
            let d = backoff_ms(attempt, unit);
            prop_assert!((1_000..=450_000).contains(&d));
            prop_assert!(backoff_ms(attempt + 1, unit) >= d || d >= 150_000);
        }

        #[test]
        fn retries_never_wait_past_the_cap(n in 0usize..200, unit in 0.0f64..1.0) {
            let mut s = Schedule::default();
            for _ in 0..n {
                match s.next(Trigger::Ended(Outcome::Retryable), unit) {
                    Next::In(ms) => prop_assert!(ms <= 450_000),
                    Next::WhenPoked => prop_assert!(false, "a retryable failure always retries"),
                }
            }
        }
    }
}
