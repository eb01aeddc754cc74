//! Report periods over patrol nights: a night belongs to its evening (ca 2, 24:00–04:00, counts
//! on the evening's date), so a period is a range of evenings, whatever the calendar says at 02:00.

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest period a report covers, in days (ten years).
pub const MAX_DAYS: i64 = 3653;

/// A period a report is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Period {
    /// One night (its evening's date).
    Night {
        /// The evening.
        night: NaiveDate,
    },
    /// The week (Monday to Sunday evenings) holding `night`.
    Week {
        /// Any night of the week.
        night: NaiveDate,
    },
    /// A calendar month of evenings.
    Month {
        /// The year.
        year: i32,
        /// 1–12.
        month: u32,
    },
    /// A quarter: 1 (January–March) to 4.
    Quarter {
        /// The year.
        year: i32,
        /// 1–4.
        quarter: u32,
    },
    /// A half-year: 1 (January–June) or 2.
    Half {
        /// The year.
        year: i32,
        /// 1 or 2.
        half: u32,
    },
    /// A calendar year of evenings.
    Year {
        /// The year.
        year: i32,
    },
    /// Any evenings from `from` to `to`, both included.
    Range {
        /// First evening.
        from: NaiveDate,
        /// Last evening.
        to: NaiveDate,
    },
}

/// Why a period is refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PeriodError {
    /// The end comes before the start.
    #[error("the period ends ({to}) before it starts ({from})")]
    EndBeforeStart {
        /// First evening asked.
        from: NaiveDate,
        /// Last evening asked.
        to: NaiveDate,
    },
    /// Longer than [`MAX_DAYS`].
    #[error("the period is {days} days long; at most {MAX_DAYS} (ten years)")]
    TooLong {
        /// Its length.
        days: i64,
    },
    /// A month, quarter or half out of range, or a date that does not exist.
    #[error("no such {what}: {value}")]
    NoSuch {
        /// "month", "quarter", "half", "date".
        what: &'static str,
        /// What was given.
        value: String,
    },
}

/// The evenings of a period: `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nights {
    /// First evening.
    pub first: NaiveDate,
    /// Last evening.
    pub last: NaiveDate,
}

impl Nights {
    /// Whether `night` falls in the period.
    pub fn contains(&self, night: NaiveDate) -> bool {
        self.first <= night && night <= self.last
    }

    /// How many evenings.
    pub fn len(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }

    /// Never true: a period holds at least one evening.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every evening, in order.
    pub fn iter(&self) -> impl Iterator<Item = NaiveDate> {
        let first = self.first;
        (0..self.len()).map(move |d| first + Duration::days(d))
    }
}

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate, PeriodError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| PeriodError::NoSuch {
        what: "date",
        value: format!("{y:04}-{m:02}-{d:02}"),
    })
}

/// The evenings of `months` whole months from the first of `year`-`month`.
fn months(year: i32, month: u32, n: u32) -> Result<Nights, PeriodError> {
    let first = date(year, month, 1)?;
    let next = first
        .checked_add_months(Months::new(n))
        .ok_or_else(|| PeriodError::NoSuch {
            what: "date",
            value: format!("{year}-{month} + {n} months"),
        })?;
    Ok(Nights {
        first,
        last: next - Duration::days(1),
    })
}

impl Period {
    /// The evenings it covers; a period ending before it starts, longer than ten years, or
    /// naming a month, quarter or half that does not exist is refused.
    pub fn nights(&self) -> Result<Nights, PeriodError> {
        let nights = match *self {
            Period::Night { night } => Nights {
                first: night,
                last: night,
            },
            Period::Week { night } => {
                let first = night - Duration::days(night.weekday().num_days_from_monday() as i64);
                Nights {
                    first,
                    last: first + Duration::days(6),
                }
            }
            Period::Month { year, month } => {
                if !(1..=12).contains(&month) {
                    return Err(PeriodError::NoSuch {
                        what: "month",
                        value: month.to_string(),
                    });
                }
                months(year, month, 1)?
            }
            Period::Quarter { year, quarter } => {
                if !(1..=4).contains(&quarter) {
                    return Err(PeriodError::NoSuch {
                        what: "quarter",
                        value: quarter.to_string(),
                    });
                }
                months(year, 3 * quarter - 2, 3)?
            }
            Period::Half { year, half } => {
                if !(1..=2).contains(&half) {
                    return Err(PeriodError::NoSuch {
                        what: "half",
                        value: half.to_string(),
                    });
                }
                months(year, 6 * half - 5, 6)?
            }
            Period::Year { year } => months(year, 1, 12)?,
            Period::Range { from, to } => {
                if to < from {
                    return Err(PeriodError::EndBeforeStart { from, to });
                }
                Nights {
                    first: from,
                    last: to,
                }
            }
        };
        if nights.len() > MAX_DAYS {
            return Err(PeriodError::TooLong { days: nights.len() });
        }
        Ok(nights)
    }

    /// The same period one year earlier (a range keeps its length; 29 February maps to the 28th).
    pub fn year_before(&self) -> Period {
        let back = |d: NaiveDate| {
            d.checked_sub_months(Months::new(12))
                .unwrap_or(d - Duration::days(365))
        };
        match *self {
            Period::Night { night } => Period::Night { night: back(night) },
            Period::Week { night } => Period::Week {
                night: night - Duration::weeks(52),
            },
            Period::Month { year, month } => Period::Month {
                year: year - 1,
                month,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year: year - 1,
                quarter,
            },
            Period::Half { year, half } => Period::Half {
                year: year - 1,
                half,
            },
            Period::Year { year } => Period::Year { year: year - 1 },
            Period::Range { from, to } => Period::Range {
                from: back(from),
                to: back(to),
            },
        }
    }

    /// The period just before, of the same kind (the month before, the quarter before...; a
    /// night or a range: as many evenings just before it).
    pub fn previous(&self) -> Result<Period, PeriodError> {
        let n = self.nights()?;
        Ok(match *self {
            Period::Night { night } => Period::Night {
                night: night - Duration::days(1),
            },
            Period::Week { night } => Period::Week {
                night: night - Duration::weeks(1),
            },
            Period::Month { year, month } => {
                let p = n.first - Duration::days(1);
                Period::Month {
                    year: if month == 1 { year - 1 } else { year },
                    month: p.month(),
                }
            }
            Period::Quarter { year, quarter } => Period::Quarter {
                year: if quarter == 1 { year - 1 } else { year },
                quarter: if quarter == 1 { 4 } else { quarter - 1 },
            },
            Period::Half { year, half } => Period::Half {
                year: if half == 1 { year - 1 } else { year },
                half: 3 - half,
            },
            Period::Year { year } => Period::Year { year: year - 1 },
            Period::Range { .. } => Period::Range {
                from: n.first - Duration::days(n.len()),
                to: n.first - Duration::days(1),
            },
        })
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
    fn each_kind_covers_its_evenings() {
        let n = |p: Period| p.nights().unwrap();
        assert_eq!(
            n(Period::Night {
                night: d(2026, 12, 31)
            })
            .len(),
            1
        );
        // 2026-12-31 is a Thursday: its week runs Monday 28/12 to Sunday 03/01, across the year.
        let w = n(Period::Week {
            night: d(2026, 12, 31),
        });
        assert_eq!((w.first, w.last), (d(2026, 12, 28), d(2027, 1, 3)));
        assert_eq!(
            n(Period::Month {
                year: 2028,
                month: 2
            })
            .len(),
            29,
            "a leap February"
        );
        assert_eq!(
            n(Period::Month {
                year: 2026,
                month: 2
            })
            .len(),
            28
        );
        let q4 = n(Period::Quarter {
            year: 2026,
            quarter: 4,
        });
        assert_eq!((q4.first, q4.last), (d(2026, 10, 1), d(2026, 12, 31)));
        let h2 = n(Period::Half {
            year: 2026,
            half: 2,
        });
        assert_eq!((h2.first, h2.last), (d(2026, 7, 1), d(2026, 12, 31)));
        assert_eq!(n(Period::Year { year: 2028 }).len(), 366);
        assert_eq!(
            n(Period::Range {
                from: d(2026, 11, 30),
                to: d(2026, 12, 1)
            })
            .iter()
            .collect::<Vec<_>>(),
            vec![d(2026, 11, 30), d(2026, 12, 1)]
        );
    }

    #[test]
    fn bad_periods_are_refused_with_a_reason() {
        assert_eq!(
            Period::Range {
                from: d(2026, 12, 2),
                to: d(2026, 12, 1)
            }
            .nights(),
            Err(PeriodError::EndBeforeStart {
                from: d(2026, 12, 2),
                to: d(2026, 12, 1)
            })
        );
        assert!(matches!(
            Period::Range {
                from: d(2010, 1, 1),
                to: d(2026, 1, 1)
            }
            .nights(),
            Err(PeriodError::TooLong { .. })
        ));
        for p in [
            Period::Month {
                year: 2026,
                month: 13,
            },
            Period::Month {
                year: 2026,
                month: 0,
            },
            Period::Quarter {
                year: 2026,
                quarter: 5,
            },
            Period::Half {
                year: 2026,
                half: 3,
            },
        ] {
            assert!(
                matches!(p.nights(), Err(PeriodError::NoSuch { .. })),
                "{p:?}"
            );
        }
    }

    #[test]
    fn the_period_before_and_the_year_before() {
        assert_eq!(
            Period::Month {
                year: 2027,
                month: 1
            }
            .previous(),
            Ok(Period::Month {
                year: 2026,
                month: 12
            })
        );
        assert_eq!(
            Period::Quarter {
                year: 2027,
                quarter: 1
            }
            .previous(),
            Ok(Period::Quarter {
                year: 2026,
                quarter: 4
            })
        );
        assert_eq!(
            Period::Night {
                night: d(2028, 2, 29)
            }
            .year_before(),
            Period::Night {
                night: d(2027, 2, 28)
            }
        );
        let r = Period::Range {
            from: d(2026, 12, 1),
            to: d(2026, 12, 10),
        };
        assert_eq!(
            r.previous().unwrap().nights().unwrap(),
            Nights {
                first: d(2026, 11, 21),
                last: d(2026, 11, 30)
            }
        );
    }

    proptest! {
        /// Every kind of period is a gap-free run of evenings, and the period before ends the
        /// evening before it starts.
        #[test]
        fn periods_tile_the_calendar(y in 2000i32..2100, m in 1u32..=12, q in 1u32..=4, h in 1u32..=2, day in 0i64..36_500) {
            let night = d(2000, 1, 1) + Duration::days(day);
            for p in [
                Period::Night { night },
                Period::Week { night },
                Period::Month { year: y, month: m },
                Period::Quarter { year: y, quarter: q },
                Period::Half { year: y, half: h },
                Period::Year { year: y },
            ] {
                let n = p.nights().unwrap();
                prop_assert!(n.first <= n.last);
                let before = p.previous().unwrap().nights().unwrap();
                prop_assert_eq!(before.last + Duration::days(1), n.first, "{:?}", p);
            }
        }
    }
}
