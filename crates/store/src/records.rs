//! Shift records: every write stores its row and its outbox event in one transaction.

use super::outbox;
use super::rows;
use super::{Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use patrol_domain::geofence::{Fix, LatLon};
use patrol_domain::observation::{Action, Category};
use patrol_domain::photo::{self, PhotoError, PhotoHash, PhotoRef, PreparedPhoto};
use patrol_domain::records::{
    decide_check_in, CheckIn, CheckInMethod, CheckInRequest, Correction, Observation,
    ObservationInput, RecordError, Shift,
};
use patrol_domain::shift::night_of;
use patrol_domain::text::{self, LONG_TEXT_MAX};
use patrol_domain::ward::Checkpoint;
use patrol_wire::event::EventKind;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A record just written, and whether the device clock looked wrong while writing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved<T> {
    /// The record as stored.
    pub record: T,
    /// The device clock went backwards (the record keeps the clock's time anyway).
    pub clock_went_back: bool,
}

pub use patrol_domain::records::{LogEntry, ShiftLog};

/// Photos a correction adds to an observation or takes off it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhotoChange {
    /// Photos to add.
    #[serde(default)]
    pub add: Vec<PreparedPhoto>,
    /// Photos to take off, by hash.
    #[serde(default)]
    pub remove: Vec<PhotoHash>,
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn fix_from(r: &Row<'_>, lat: usize) -> rusqlite::Result<Option<Fix>> {
    let (la, lo, acc): (Option<f64>, Option<f64>, Option<f64>) =
        (r.get(lat)?, r.get(lat + 1)?, r.get(lat + 2)?);
    Ok(match (la, lo, acc) {
        (Some(lat), Some(lon), Some(accuracy_m)) => Some(Fix {
            pos: LatLon { lat, lon },
            accuracy_m,
        }),
        _ => None,
    })
}

const SHIFT_COLS: &str =
    "id, team_id, slot_code, night, started_at, members_json, ended_at, handover_note";

fn shift_from(r: &Row<'_>) -> rusqlite::Result<Shift> {
    let id: String = r.get(0)?;
    Ok(Shift {
        team_id: r.get(1)?,
        slot_code: r.get(2)?,
        night: rows::parsed(r, 3, ("shift", &id), "night", |t| t.parse().ok())?,
        started_at: rows::time(r, 4, "shift", &id)?,
        members_present: rows::json(r, 5, "shift", &id)?,
        ended_at: rows::opt_time(r, 6, "shift", &id)?,
        handover_note: r.get(7)?,
        id,
    })
}

/// What a photo change comes to: the photos to add, the hashes taken off, and their references.
type PhotoChangeParts = (Vec<PhotoRef>, Vec<PhotoHash>, Vec<PhotoRef>);

impl Store {
    /// Starts a shift of slot `slot_code` on the patrol night of `now`, with the members present.
    pub fn start_shift(
        &mut self,
        slot_code: &str,
        members_present: &[String],
        now: DateTime<Utc>,
    ) -> Result<Saved<Shift>, StoreError> {
        let setup = self.setup()?.ok_or(StoreError::NoWard)?;
        if self.active_shift()?.is_some() {
            return Err(StoreError::ShiftRunning);
        }
        if !setup.team.slots.iter().any(|s| s.code == slot_code) {
            return Err(StoreError::Unknown {
                what: "shift",
                id: slot_code.into(),
            });
        }
        if members_present.is_empty() {
            return Err(RecordError::NoMembers.into());
        }
        if let Some(m) = members_present
            .iter()
            .find(|m| !setup.members.iter().any(|k| &k.id == *m))
        {
            return Err(StoreError::Unknown {
                what: "member",
                id: m.clone(),
            });
        }
        let tz = self.time_zone()?;
        let shift = Shift {
            id: new_id(),
            team_id: setup.team.id,
            slot_code: slot_code.into(),
            night: night_of(now, tz),
            started_at: now,
            members_present: members_present.to_vec(),
            ended_at: None,
            handover_note: None,
        };
        let tx = self.conn.transaction()?;
        let ap = outbox::append(&tx, EventKind::ShiftStarted, &shift.id, &shift, now)?;
        tx.execute(
            "INSERT INTO shift(id, team_id, slot_code, night, started_at, members_json, log_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                shift.id,
                shift.team_id,
                shift.slot_code,
                shift.night.to_string(),
                now.to_rfc3339(),
                serde_json::to_string(&shift.members_present).expect("ids serialise"),
                ap.seq
            ],
        )?;
        tx.commit()?;
        Ok(Saved {
            record: shift,
            clock_went_back: ap.clock_went_back,
        })
    }

    /// Checks in at a checkpoint of the running shift; a refused check-in writes nothing.
    pub fn check_in(
        &mut self,
        checkpoint_id: &str,
        request: &CheckInRequest,
        now: DateTime<Utc>,
    ) -> Result<Saved<CheckIn>, StoreError> {
        let shift = self.active_shift()?.ok_or(StoreError::NoActiveShift)?;
        let cp = self.checkpoint(checkpoint_id)?;
        let d = decide_check_in(&cp, request)?;
        let rec = CheckIn {
            id: new_id(),
            shift_id: shift.id,
            checkpoint_id: cp.id,
            method: d.method,
            verified: d.verified,
            fix: d.fix,
            distance_m: d.distance_m,
            reason: d.reason,
            at: now,
        };
        let tx = self.conn.transaction()?;
        let ap = outbox::append(&tx, EventKind::CheckedIn, &rec.id, &rec, now)?;
        let method = rec.method.code();
        tx.execute(
            "INSERT INTO checkin(id, shift_id, checkpoint_id, method, verified, lat, lon, accuracy_m, distance_m, reason, at, log_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                rec.id,
                rec.shift_id,
                rec.checkpoint_id,
                method,
                rec.verified,
                rec.fix.map(|f| f.pos.lat),
                rec.fix.map(|f| f.pos.lon),
                rec.fix.map(|f| f.accuracy_m),
                rec.distance_m,
                rec.reason,
                now.to_rfc3339(),
                ap.seq
            ],
        )?;
        tx.commit()?;
        Ok(Saved {
            record: rec,
            clock_went_back: ap.clock_went_back,
        })
    }

    /// Records an observation in the running shift.
    pub fn observe(
        &mut self,
        input: &ObservationInput,
        now: DateTime<Utc>,
    ) -> Result<Saved<Observation>, StoreError> {
        let shift = self.active_shift()?.ok_or(StoreError::NoActiveShift)?;
        let f = input.validate()?;
        let photos = super::photos::refs(&input.photos)?;
        let rec = Observation {
            id: new_id(),
            shift_id: shift.id,
            category: f.category,
            description: f.description,
            plate: f.plate,
            people: f.people,
            action: f.action,
            urgent: f.urgent,
            fix: f.fix,
            at: now,
            photos,
        };
        let tx = self.conn.transaction()?;
        let ap = outbox::append(&tx, EventKind::Observed, &rec.id, &rec, now)?;
        super::photos::insert(&tx, &rec.id, &rec.photos, &input.photos, now)?;
        tx.execute(
            "INSERT INTO observation(id, shift_id, category, description, plate, people, action, urgent, lat, lon, accuracy_m, at, log_seq, photos_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                rec.id,
                rec.shift_id,
                rec.category.code(),
                rec.description,
                rec.plate,
                rec.people,
                rec.action.map(Action::code),
                rec.urgent,
                rec.fix.map(|f| f.pos.lat),
                rec.fix.map(|f| f.pos.lon),
                rec.fix.map(|f| f.accuracy_m),
                now.to_rfc3339(),
                ap.seq,
                serde_json::to_string(&rec.photos).map_err(|e| rows::corrupt("observation", &rec.id, e))?
            ],
        )?;
        tx.commit()?;
        Ok(Saved {
            record: rec,
            clock_went_back: ap.clock_went_back,
        })
    }

    /// Appends a correction to a check-in or observation; the original stays as it was.
    pub fn correct(
        &mut self,
        target_id: &str,
        text: &str,
        new_category: Option<Category>,
        photos: &PhotoChange,
        now: DateTime<Utc>,
    ) -> Result<Saved<Correction>, StoreError> {
        let text =
            text::required("field.correction", text, LONG_TEXT_MAX).map_err(RecordError::from)?;
        let target: Option<(String, bool)> = self
            .conn
            .query_row(
                "SELECT shift_id, 1 FROM observation WHERE id = ?1 UNION ALL SELECT shift_id, 0 FROM checkin WHERE id = ?1",
                [target_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((shift_id, is_observation)) = target else {
            return Err(StoreError::Unknown {
                what: "record",
                id: target_id.into(),
            });
        };
        let (add, remove, taken_off) = if is_observation {
            self.photo_change(target_id, photos)?
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        let rec = Correction {
            id: new_id(),
            shift_id,
            target_id: target_id.into(),
            text,
            new_category: new_category.filter(|_| is_observation),
            at: now,
            photos_added: add,
            photos_removed: remove,
        };
        let added = serde_json::to_string(&rec.photos_added)
            .map_err(|e| rows::corrupt("correction", &rec.id, e))?;
        let removed = serde_json::to_string(&rec.photos_removed)
            .map_err(|e| rows::corrupt("correction", &rec.id, e))?;
        let tx = self.conn.transaction()?;
        let ap = outbox::append(&tx, EventKind::Corrected, &rec.id, &rec, now)?;
        if is_observation {
            super::photos::insert(&tx, &rec.id, &rec.photos_added, &photos.add, now)?;
            super::photos::withdraw(&tx, target_id, &taken_off)?;
        }
        tx.execute(
            "INSERT INTO correction(id, shift_id, target_id, text, new_category, at, log_seq, photos_added_json, photos_removed_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![rec.id, rec.shift_id, rec.target_id, rec.text, rec.new_category.map(Category::code), now.to_rfc3339(), ap.seq, added, removed],
        )?;
        tx.commit()?;
        Ok(Saved {
            record: rec,
            clock_went_back: ap.clock_went_back,
        })
    }

    /// The photos an observation shows now (its own, then each correction's additions and
    /// removals), checked against the change: removals must name shown photos, and the result
    /// holds at most four. Returns the photos to add, the hashes taken off, and their references.
    fn photo_change(
        &self,
        observation_id: &str,
        change: &PhotoChange,
    ) -> Result<PhotoChangeParts, StoreError> {
        let own: Vec<PhotoRef> = self.conn.query_row(
            "SELECT photos_json FROM observation WHERE id = ?1",
            [observation_id],
            |r| rows::json(r, 0, "observation", observation_id),
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT id, photos_added_json, photos_removed_json FROM correction WHERE target_id = ?1 ORDER BY log_seq",
        )?;
        let steps = stmt
            .query_map([observation_id], |r| {
                let id: String = r.get(0)?;
                Ok((
                    rows::json::<Vec<PhotoRef>>(r, 1, "correction", &id)?,
                    rows::json::<Vec<PhotoHash>>(r, 2, "correction", &id)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut shown = photo::shown(
            &own,
            steps.iter().map(|(a, r)| (a.as_slice(), r.as_slice())),
        );
        if let Some(h) = change
            .remove
            .iter()
            .find(|h| !shown.iter().any(|p| &p.hash == *h))
        {
            return Err(StoreError::Unknown {
                what: "photo",
                id: h.to_string(),
            });
        }
        let add = super::photos::refs(&change.add)?;
        let taken_off: Vec<PhotoRef> = shown
            .iter()
            .filter(|p| change.remove.contains(&p.hash))
            .cloned()
            .collect();
        shown.retain(|p| !change.remove.contains(&p.hash));
        if shown.len() + add.len() > photo::MAX_PHOTOS {
            return Err(PhotoError::TooMany {
                max: photo::MAX_PHOTOS,
            }
            .into());
        }
        Ok((add, change.remove.clone(), taken_off))
    }

    /// Ends the running shift with a handover note.
    pub fn end_shift(
        &mut self,
        handover_note: &str,
        now: DateTime<Utc>,
    ) -> Result<Saved<Shift>, StoreError> {
        let mut shift = self.active_shift()?.ok_or(StoreError::NoActiveShift)?;
        shift.handover_note = text::optional("field.handover", handover_note, LONG_TEXT_MAX)
            .map_err(RecordError::from)?;
        shift.ended_at = Some(now);
        let tx = self.conn.transaction()?;
        let ap = outbox::append(&tx, EventKind::ShiftEnded, &shift.id, &shift, now)?;
        tx.execute(
            "UPDATE shift SET ended_at = ?1, handover_note = ?2 WHERE id = ?3 AND ended_at IS NULL",
            params![now.to_rfc3339(), shift.handover_note, shift.id],
        )?;
        tx.commit()?;
        Ok(Saved {
            record: shift,
            clock_went_back: ap.clock_went_back,
        })
    }

    /// The running shift, if any.
    pub fn active_shift(&self) -> Result<Option<Shift>, StoreError> {
        Ok(self
            .conn
            .query_row(&format!("SELECT {SHIFT_COLS} FROM shift WHERE ended_at IS NULL ORDER BY log_seq DESC LIMIT 1"), [], shift_from)
            .optional()?)
    }

    /// The most recently ended shift, if any.
    pub fn last_ended_shift(&self) -> Result<Option<Shift>, StoreError> {
        Ok(self
            .conn
            .query_row(&format!("SELECT {SHIFT_COLS} FROM shift WHERE ended_at IS NOT NULL ORDER BY log_seq DESC LIMIT 1"), [], shift_from)
            .optional()?)
    }

    /// Shifts of patrol night `night`, in the order they were started.
    pub fn shifts_of_night(&self, night: NaiveDate) -> Result<Vec<Shift>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SHIFT_COLS} FROM shift WHERE night = ?1 ORDER BY log_seq"
        ))?;
        let rows = stmt.query_map([night.to_string()], shift_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A checkpoint of the route.
    pub fn checkpoint(&self, id: &str) -> Result<Checkpoint, StoreError> {
        use super::rows::{self, CHECKPOINT_COLS};
        self.conn
            .query_row(
                &format!("SELECT {CHECKPOINT_COLS} FROM checkpoint WHERE id = ?1"),
                [id],
                rows::checkpoint,
            )
            .optional()?
            .ok_or_else(|| StoreError::Unknown {
                what: "checkpoint",
                id: id.into(),
            })
    }

    /// The whole timeline of a shift with its summary, ordered by the device's sequence.
    pub fn shift_log(&self, shift: Shift) -> Result<ShiftLog, StoreError> {
        let mut entries: Vec<(i64, LogEntry)> = Vec::new();
        let mut stmt = self.conn.prepare(
            "SELECT id, shift_id, checkpoint_id, method, verified, lat, lon, accuracy_m, distance_m, reason, at, log_seq
             FROM checkin WHERE shift_id = ?1",
        )?;
        for row in stmt.query_map([&shift.id], |r| {
            let id: String = r.get(0)?;
            let method = rows::parsed(r, 3, ("checkin", &id), "method", CheckInMethod::from_code)?;
            Ok((
                r.get(11)?,
                LogEntry::CheckIn(CheckIn {
                    at: rows::time(r, 10, "checkin", &id)?,
                    id,
                    shift_id: r.get(1)?,
                    checkpoint_id: r.get(2)?,
                    method,
                    verified: r.get(4)?,
                    fix: fix_from(r, 5)?,
                    distance_m: r.get(8)?,
                    reason: r.get(9)?,
                }),
            ))
        })? {
            entries.push(row?);
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, shift_id, category, description, plate, people, action, urgent, lat, lon, accuracy_m, at, log_seq, photos_json
             FROM observation WHERE shift_id = ?1",
        )?;
        for row in stmt.query_map([&shift.id], |r| {
            let id: String = r.get(0)?;
            let row = ("observation", id.as_str());
            let action = rows::opt_parsed(r, 6, row, "action", Action::from_code)?;
            let category = rows::parsed(r, 2, row, "category", Category::from_code)?;
            Ok((
                r.get(12)?,
                LogEntry::Observation(Observation {
                    shift_id: r.get(1)?,
                    category,
                    description: r.get(3)?,
                    plate: r.get(4)?,
                    people: r.get(5)?,
                    action,
                    urgent: r.get(7)?,
                    fix: fix_from(r, 8)?,
                    at: rows::time(r, 11, "observation", &id)?,
                    photos: rows::json(r, 13, "observation", &id)?,
                    id,
                }),
            ))
        })? {
            entries.push(row?);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, shift_id, target_id, text, new_category, at, log_seq, photos_added_json, photos_removed_json FROM correction WHERE shift_id = ?1")?;
        for row in stmt.query_map([&shift.id], |r| {
            let id: String = r.get(0)?;
            Ok((
                r.get(6)?,
                LogEntry::Correction(Correction {
                    shift_id: r.get(1)?,
                    target_id: r.get(2)?,
                    text: r.get(3)?,
                    new_category: rows::opt_parsed(
                        r,
                        4,
                        ("correction", &id),
                        "category",
                        Category::from_code,
                    )?,
                    at: rows::time(r, 5, "correction", &id)?,
                    photos_added: rows::json(r, 7, "correction", &id)?,
                    photos_removed: rows::json(r, 8, "correction", &id)?,
                    id,
                }),
            ))
        })? {
            entries.push(row?);
        }
        entries.sort_by_key(|(seq, _)| *seq);
        let entries: Vec<LogEntry> = entries.into_iter().map(|(_, e)| e).collect();
        let total = self
            .conn
            .query_row("SELECT COUNT(*) FROM checkpoint", [], |r| {
                r.get::<_, i64>(0)
            })? as usize;
        Ok(ShiftLog::new(shift, entries, total))
    }
}
