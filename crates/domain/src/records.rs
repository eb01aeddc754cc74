//! The records a shift produces, the check-in decision and the end-of-shift summary.

use super::geofence::{self, Fix, GeoError, Geofence};
use super::observation::{Action, Category};
use super::photo::{PhotoHash, PhotoRef, PreparedPhoto};
use super::text::{self, TextError, LONG_TEXT_MAX, MEDIUM_TEXT_MAX, SHORT_TEXT_MAX};
use super::ward::Checkpoint;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A patrol shift as run by the members present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// UUIDv7.
    pub id: String,
    /// The team.
    pub team_id: String,
    /// The slot code, "ca1".
    pub slot_code: String,
    /// The patrol night (the evening's date).
    pub night: NaiveDate,
    /// Device clock when started.
    pub started_at: DateTime<Utc>,
    /// Ids of the members present.
    pub members_present: Vec<String>,
    /// Device clock when ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Handover note for the next shift.
    pub handover_note: Option<String>,
}

/// How a check-in was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInMethod {
    /// GPS fix inside the geofence.
    Gps,
    /// The checkpoint's QR code.
    Qr,
    /// By hand, with a reason; never verified.
    Manual,
}

impl CheckInMethod {
    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            CheckInMethod::Gps => "gps",
            CheckInMethod::Qr => "qr",
            CheckInMethod::Manual => "manual",
        }
    }

    /// The method with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        [CheckInMethod::Gps, CheckInMethod::Qr, CheckInMethod::Manual]
            .into_iter()
            .find(|m| m.code() == code)
    }
}

/// What the member asks for when checking in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum CheckInRequest {
    /// Use this GPS fix.
    Gps {
        /// The fix.
        fix: Fix,
    },
    /// The scanned (or typed) QR text.
    Qr {
        /// QR content.
        code: String,
        /// A fix if one is at hand.
        fix: Option<Fix>,
    },
    /// By hand.
    Manual {
        /// Why GPS or QR could not be used.
        reason: String,
        /// A fix if one is at hand.
        fix: Option<Fix>,
    },
}

/// A check-in at a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    /// UUIDv7.
    pub id: String,
    /// The shift.
    pub shift_id: String,
    /// The checkpoint.
    pub checkpoint_id: String,
    /// How.
    pub method: CheckInMethod,
    /// True for GPS inside the radius or a matching QR code.
    pub verified: bool,
    /// The fix used, if any.
    pub fix: Option<Fix>,
    /// Metres from the checkpoint when a fix was given.
    pub distance_m: Option<f64>,
    /// The reason of a manual check-in.
    pub reason: Option<String>,
    /// Device clock.
    pub at: DateTime<Utc>,
}

/// An observation (ghi nhận).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// UUIDv7.
    pub id: String,
    /// The shift.
    pub shift_id: String,
    /// What was seen.
    pub category: Category,
    /// Free description.
    pub description: Option<String>,
    /// Vehicle plate.
    pub plate: Option<String>,
    /// People involved.
    pub people: Option<String>,
    /// What the patrol did.
    pub action: Option<Action>,
    /// Urgent (khẩn cấp).
    pub urgent: bool,
    /// Where, if a fix was at hand.
    pub fix: Option<Fix>,
    /// Device clock.
    pub at: DateTime<Utc>,
    /// Photos, uploaded after the record (none on records made before photos existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<PhotoRef>,
}

/// The details a member types for an observation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservationInput {
    /// What was seen (required).
    pub category: Option<Category>,
    /// Free description.
    pub description: String,
    /// Vehicle plate.
    pub plate: String,
    /// People involved.
    pub people: String,
    /// What the patrol did.
    pub action: Option<Action>,
    /// Urgent.
    pub urgent: bool,
    /// Where, if a fix was at hand.
    pub fix: Option<Fix>,
    /// Photos made small on the phone, at most [`super::photo::MAX_PHOTOS`].
    #[serde(default)]
    pub photos: Vec<PreparedPhoto>,
}

/// A correction appended to an earlier check-in or observation; nothing is edited in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// UUIDv7.
    pub id: String,
    /// The shift.
    pub shift_id: String,
    /// The record it corrects.
    pub target_id: String,
    /// What was wrong and what is right.
    pub text: String,
    /// For an observation: the right category, if that was the mistake.
    pub new_category: Option<Category>,
    /// Device clock.
    pub at: DateTime<Utc>,
    /// For an observation: photos added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos_added: Vec<PhotoRef>,
    /// For an observation: photos taken off (by the prepared photo's hash).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos_removed: Vec<PhotoHash>,
}

/// Why a record is refused. Each variant maps to a translated message.
#[derive(Debug, Error, PartialEq)]
pub enum RecordError {
    /// A coordinate or accuracy is impossible.
    #[error(transparent)]
    Geo(#[from] GeoError),
    /// A text field is empty or too long.
    #[error(transparent)]
    Text(#[from] TextError),
    /// GPS says the member is outside the checkpoint's radius.
    #[error("{distance_m:.0} m from the checkpoint; it accepts {radius_m:.0} m")]
    Outside {
        /// Distance.
        distance_m: f64,
        /// The checkpoint's radius.
        radius_m: f64,
    },
    /// The GPS fix is too vague to verify.
    #[error("GPS accuracy is {accuracy_m:.0} m; at most {max:.0} m can verify a check-in")]
    TooInaccurate {
        /// The fix's accuracy.
        accuracy_m: f64,
        /// The limit.
        max: f64,
    },
    /// The QR code belongs to another checkpoint.
    #[error("this QR code is not the checkpoint's")]
    WrongQr,
    /// No category was chosen.
    #[error("choose what you saw")]
    NoCategory,
    /// Starting a shift with nobody ticked.
    #[error("tick at least one member present")]
    NoMembers,
}

/// The fields of a check-in that the store writes, decided from the request.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInDecision {
    /// How.
    pub method: CheckInMethod,
    /// Verified or not.
    pub verified: bool,
    /// The fix, if given.
    pub fix: Option<Fix>,
    /// Distance from the checkpoint, if a fix was given.
    pub distance_m: Option<f64>,
    /// Manual reason.
    pub reason: Option<String>,
}

/// Decides a check-in: GPS must be inside the radius with a usable fix, QR must match, manual
/// needs a reason and is never verified.
pub fn decide_check_in(
    cp: &Checkpoint,
    req: &CheckInRequest,
) -> Result<CheckInDecision, RecordError> {
    let fix = match req {
        CheckInRequest::Gps { fix } => Some(fix.validate()?),
        CheckInRequest::Qr { fix, .. } | CheckInRequest::Manual { fix, .. } => {
            fix.map(Fix::validate).transpose()?
        }
    };
    let distance_m = fix.map(|f| cp.pos.distance_m(f.pos));
    match req {
        CheckInRequest::Gps { fix } => match geofence::check(cp.pos, cp.radius_m, *fix) {
            Geofence::Inside { distance_m } => Ok(CheckInDecision {
                method: CheckInMethod::Gps,
                verified: true,
                fix: Some(*fix),
                distance_m: Some(distance_m),
                reason: None,
            }),
            Geofence::Outside { distance_m } => Err(RecordError::Outside {
                distance_m,
                radius_m: cp.radius_m,
            }),
            Geofence::TooInaccurate { accuracy_m } => Err(RecordError::TooInaccurate {
                accuracy_m,
                max: geofence::MAX_FIX_ACCURACY_M,
            }),
        },
        CheckInRequest::Qr { code, .. } => {
            if code.trim() != cp.qr_code {
                return Err(RecordError::WrongQr);
            }
            Ok(CheckInDecision {
                method: CheckInMethod::Qr,
                verified: true,
                fix,
                distance_m,
                reason: None,
            })
        }
        CheckInRequest::Manual { reason, .. } => {
            let reason = text::required("field.reason", reason, MEDIUM_TEXT_MAX)?;
            Ok(CheckInDecision {
                method: CheckInMethod::Manual,
                verified: false,
                fix,
                distance_m,
                reason: Some(reason),
            })
        }
    }
}

/// The checked fields of an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationFields {
    /// What was seen.
    pub category: Category,
    /// Description.
    pub description: Option<String>,
    /// Plate.
    pub plate: Option<String>,
    /// People.
    pub people: Option<String>,
    /// Action.
    pub action: Option<Action>,
    /// Urgent.
    pub urgent: bool,
    /// Fix.
    pub fix: Option<Fix>,
}

impl ObservationInput {
    /// Checks the input: a category, text limits, a sane fix; "other" needs a description.
    pub fn validate(&self) -> Result<ObservationFields, RecordError> {
        let category = self.category.ok_or(RecordError::NoCategory)?;
        let description = if category.needs_description() {
            Some(text::required(
                "field.description",
                &self.description,
                LONG_TEXT_MAX,
            )?)
        } else {
            text::optional("field.description", &self.description, LONG_TEXT_MAX)?
        };
        let plate =
            text::optional("field.plate", &self.plate, SHORT_TEXT_MAX)?.map(|p| p.to_uppercase());
        let people = text::optional("field.people", &self.people, MEDIUM_TEXT_MAX)?;
        let fix = self.fix.map(Fix::validate).transpose()?;
        Ok(ObservationFields {
            category,
            description,
            plate,
            people,
            action: self.action,
            urgent: self.urgent,
            fix,
        })
    }
}

/// The figures shown when a shift ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShiftSummary {
    /// Checkpoints on the route.
    pub checkpoints_total: usize,
    /// Distinct checkpoints checked in at.
    pub checkpoints_visited: usize,
    /// Distinct checkpoints with at least one verified check-in.
    pub checkpoints_verified: usize,
    /// Observations recorded.
    pub observations: usize,
    /// Urgent observations.
    pub urgent: usize,
    /// Observations per category (after corrections), in grid order, zero counts left out.
    pub by_category: Vec<(Category, usize)>,
    /// Corrections appended.
    pub corrections: usize,
}

/// Summarises a shift; a correction with a new category moves its observation to that category.
/// Takes the records by reference, so a log can be summed up again after each save without copies.
pub fn summarize<'a>(
    checkpoints_total: usize,
    checkins: impl IntoIterator<Item = &'a CheckIn>,
    observations: impl IntoIterator<Item = &'a Observation>,
    corrections: impl IntoIterator<Item = &'a Correction>,
) -> ShiftSummary {
    use std::collections::{HashMap, HashSet};
    let (mut visited, mut verified) = (HashSet::<&str>::new(), HashSet::<&str>::new());
    for c in checkins {
        visited.insert(c.checkpoint_id.as_str());
        if c.verified {
            verified.insert(c.checkpoint_id.as_str());
        }
    }
    // The latest correction that names a category wins (corrections are given in log order).
    let mut recat: HashMap<&str, Category> = HashMap::new();
    let mut corrected = 0;
    for c in corrections {
        corrected += 1;
        if let Some(cat) = c.new_category {
            recat.insert(c.target_id.as_str(), cat);
        }
    }
    let observations: Vec<&Observation> = observations.into_iter().collect();
    let mut counts: HashMap<Category, usize> = HashMap::new();
    for o in &observations {
        *counts
            .entry(recat.get(o.id.as_str()).copied().unwrap_or(o.category))
            .or_default() += 1;
    }
    ShiftSummary {
        checkpoints_total,
        checkpoints_visited: visited.len(),
        checkpoints_verified: verified.len(),
        observations: observations.len(),
        urgent: observations.iter().filter(|o| o.urgent).count(),
        by_category: Category::ALL
            .iter()
            .filter_map(|c| counts.get(c).map(|n| (*c, *n)))
            .collect(),
        corrections: corrected,
    }
}

/// One entry of a shift's timeline, in the order the device wrote them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEntry {
    /// A check-in.
    CheckIn(CheckIn),
    /// An observation.
    Observation(Observation),
    /// A correction of an earlier entry.
    Correction(Correction),
}

/// A shift with everything recorded in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftLog {
    /// The shift.
    pub shift: Shift,
    /// Check-ins, observations and corrections in device order.
    pub entries: Vec<LogEntry>,
    /// The figures of the shift.
    pub summary: ShiftSummary,
}

impl ShiftLog {
    /// A shift's log with its figures, over a route of `checkpoints` checkpoints.
    pub fn new(shift: Shift, entries: Vec<LogEntry>, checkpoints: usize) -> Self {
        let mut log = ShiftLog {
            shift,
            entries,
            summary: ShiftSummary::default(),
        };
        log.summarize(checkpoints);
        log
    }

    /// Appends an entry just written and brings the figures up to date (over the same route).
    pub fn push(&mut self, entry: LogEntry) {
        self.entries.push(entry);
        self.summarize(self.summary.checkpoints_total);
    }

    fn summarize(&mut self, checkpoints: usize) {
        let e = &self.entries;
        self.summary = summarize(
            checkpoints,
            e.iter().filter_map(|x| match x {
                LogEntry::CheckIn(c) => Some(c),
                _ => None,
            }),
            e.iter().filter_map(|x| match x {
                LogEntry::Observation(o) => Some(o),
                _ => None,
            }),
            e.iter().filter_map(|x| match x {
                LogEntry::Correction(c) => Some(c),
                _ => None,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::LatLon;
    use proptest::prelude::*;

    fn cp() -> Checkpoint {
        Checkpoint {
            id: "cp1".into(),
            name: "Chợ".into(),
            seq: 1,
            pos: LatLon {
                lat: 21.0285,
                lon: 105.8542,
            },
            radius_m: 40.0,
            qr_code: "QR-CP1".into(),
        }
    }

    fn fix(dlat: f64, acc: f64) -> Fix {
        Fix {
            pos: LatLon {
                lat: 21.0285 + dlat,
                lon: 105.8542,
            },
            accuracy_m: acc,
        }
    }

    #[test]
    fn gps_check_in_inside_is_verified_outside_is_refused() {
        let ok = decide_check_in(
            &cp(),
            &CheckInRequest::Gps {
                fix: fix(0.0002, 8.0),
            },
        )
        .unwrap();
        assert!(ok.verified && ok.method == CheckInMethod::Gps);
        assert!(matches!(
            decide_check_in(&cp(), &CheckInRequest::Gps { fix: fix(0.002, 8.0) }),
            Err(RecordError::Outside { radius_m, .. }) if radius_m == 40.0
        ));
        assert!(matches!(
            decide_check_in(
                &cp(),
                &CheckInRequest::Gps {
                    fix: fix(0.0, 120.0)
                }
            ),
            Err(RecordError::TooInaccurate { .. })
        ));
        assert!(matches!(
            decide_check_in(
                &cp(),
                &CheckInRequest::Gps {
                    fix: Fix {
                        pos: LatLon {
                            lat: 95.0,
                            lon: 0.0
                        },
                        accuracy_m: 1.0
                    }
                }
            ),
            Err(RecordError::Geo(GeoError::Latitude(_)))
        ));
    }

    #[test]
    fn qr_and_manual_check_ins() {
        let q = decide_check_in(
            &cp(),
            &CheckInRequest::Qr {
                code: " QR-CP1 ".into(),
                fix: None,
            },
        )
        .unwrap();
        assert!(q.verified);
        assert_eq!(
            decide_check_in(
                &cp(),
                &CheckInRequest::Qr {
                    code: "QR-CP2".into(),
                    fix: None
                }
            ),
            Err(RecordError::WrongQr)
        );
        let m = decide_check_in(
            &cp(),
            &CheckInRequest::Manual {
                reason: "Mất GPS".into(),
                fix: None,
            },
        )
        .unwrap();
        assert!(!m.verified);
        assert_eq!(m.reason.as_deref(), Some("Mất GPS"));
        assert!(matches!(
            decide_check_in(
                &cp(),
                &CheckInRequest::Manual {
                    reason: "  ".into(),
                    fix: None
                }
            ),
            Err(RecordError::Text(TextError::Required { .. }))
        ));
    }

    #[test]
    fn observation_input_rules() {
        let mut i = ObservationInput::default();
        assert_eq!(i.validate(), Err(RecordError::NoCategory));
        i.category = Some(Category::Other);
        assert!(matches!(
            i.validate(),
            Err(RecordError::Text(TextError::Required { .. }))
        ));
        i.category = Some(Category::SuspiciousVehicle);
        i.plate = " 29a-123.45 ".into();
        assert_eq!(i.validate().unwrap().plate.as_deref(), Some("29A-123.45"));
        i.description = "x".repeat(LONG_TEXT_MAX + 1);
        assert!(matches!(
            i.validate(),
            Err(RecordError::Text(TextError::TooLong { .. }))
        ));
    }

    fn obs(id: &str, cat: Category, urgent: bool) -> Observation {
        Observation {
            id: id.into(),
            shift_id: "s".into(),
            category: cat,
            description: None,
            plate: None,
            people: None,
            action: None,
            urgent,
            fix: None,
            at: Utc::now(),
            photos: Vec::new(),
        }
    }

    #[test]
    fn summary_counts_and_applies_corrections() {
        let ci = |cp: &str, verified: bool| CheckIn {
            id: "c".into(),
            shift_id: "s".into(),
            checkpoint_id: cp.into(),
            method: CheckInMethod::Gps,
            verified,
            fix: None,
            distance_m: None,
            reason: None,
            at: Utc::now(),
        };
        let checkins = [ci("a", true), ci("a", false), ci("b", false), ci("c", true)];
        let observations = [
            obs("o1", Category::Theft, false),
            obs("o2", Category::Theft, true),
            obs("o3", Category::Drugs, false),
        ];
        let corr = Correction {
            id: "k".into(),
            shift_id: "s".into(),
            target_id: "o2".into(),
            text: "thật ra là cướp giật".into(),
            new_category: Some(Category::SnatchTheft),
            at: Utc::now(),
            photos_added: Vec::new(),
            photos_removed: Vec::new(),
        };
        let s = summarize(5, &checkins, &observations, &[corr]);
        assert_eq!(
            (
                s.checkpoints_total,
                s.checkpoints_visited,
                s.checkpoints_verified
            ),
            (5, 3, 2)
        );
        assert_eq!((s.observations, s.urgent, s.corrections), (3, 1, 1));
        assert_eq!(
            s.by_category,
            vec![
                (Category::SnatchTheft, 1),
                (Category::Theft, 1),
                (Category::Drugs, 1)
            ]
        );
    }

    proptest! {
        #[test]
        fn category_counts_add_up(cats in proptest::collection::vec(0usize..12, 0..50)) {
            let observations: Vec<Observation> = cats.iter().enumerate()
                .map(|(i, c)| obs(&i.to_string(), Category::ALL[*c], i % 3 == 0)).collect();
            let s = summarize(0, &[], &observations, &[]);
            prop_assert_eq!(s.by_category.iter().map(|(_, n)| n).sum::<usize>(), observations.len());
            prop_assert!(s.by_category.iter().all(|(_, n)| *n > 0));
        }
    }
}
