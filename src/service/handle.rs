//! Runs commands against the store and reads back the state.

use super::api::{AppState, Command, Notice, Reply, SyncInfo, Tonight};
use super::error::ApiError;
use crate::domain::shift::{current_or_next, night_of, windows_for_night};
use crate::domain::ward::{checkpoints_from_geojson, WardSetup};
use crate::store::{outbox, Store, StoreError};
use chrono::{DateTime, Utc};

/// The built-in demo ward, clearly marked as such.
pub const DEMO_WARD: &str = include_str!("../../assets/demo/ward.json");

/// The core service over one store.
pub struct Service {
    store: Store,
}

impl Service {
    /// Wraps an opened store.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store, for tests and benchmarks.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, for the sync engine.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Runs one command at time `now` and reads back the state.
    pub fn handle(&mut self, cmd: Command, now: DateTime<Utc>) -> Reply {
        match self.apply(cmd, now) {
            Ok(notice) => Reply {
                result: self.state(now).map_err(ApiError::from),
                notice,
            },
            Err(e) => Reply {
                result: Err(e.into()),
                notice: None,
            },
        }
    }

    fn apply(&mut self, cmd: Command, now: DateTime<Utc>) -> Result<Option<Notice>, StoreError> {
        let s = &mut self.store;
        let clock = |went_back: bool| {
            Some(if went_back {
                Notice::ClockWentBack
            } else {
                Notice::Saved
            })
        };
        Ok(match cmd {
            Command::State => None,
            Command::LoadDemo => {
                if s.setup()?.is_some_and(|w| !w.ward.demo) {
                    return Err(StoreError::Enrolled);
                }
                s.load_setup(WardSetup::from_json(DEMO_WARD)?)?;
                Some(Notice::Saved)
            }
            Command::ImportCheckpoints { geojson } => {
                s.replace_checkpoints(&checkpoints_from_geojson(&geojson)?)?;
                Some(Notice::Saved)
            }
            Command::SetLang { lang } => {
                let lang = if lang == "en" { "en" } else { "vi" };
                s.set_setting("lang", lang)?;
                None
            }
            Command::StartShift { slot_code, members } => {
                clock(s.start_shift(&slot_code, &members, now)?.clock_went_back)
            }
            Command::CheckIn {
                checkpoint_id,
                request,
            } => clock(s.check_in(&checkpoint_id, &request, now)?.clock_went_back),
            Command::Observe { input } => clock(s.observe(&input, now)?.clock_went_back),
            Command::Correct {
                target_id,
                text,
                new_category,
            } => clock(
                s.correct(&target_id, &text, new_category, now)?
                    .clock_went_back,
            ),
            Command::Enroll { .. } | Command::SyncNow => None,
            Command::EndShift { handover_note } => {
                clock(s.end_shift(&handover_note, now)?.clock_went_back)
            }
        })
    }

    /// Reads everything the UI shows.
    pub fn state(&self, now: DateTime<Utc>) -> Result<AppState, StoreError> {
        let s = &self.store;
        let setup = s.setup()?;
        let tz = s.time_zone()?;
        let tonight = match &setup {
            Some(w) => {
                let night = night_of(now, tz);
                let windows = windows_for_night(&w.team.slots, night, tz);
                let suggested = current_or_next(&windows, now).map(|w| w.code.clone());
                let done = s
                    .shifts_of_night(night)?
                    .into_iter()
                    .filter(|x| x.ended_at.is_some())
                    .map(|x| x.slot_code)
                    .collect();
                Some(Tonight {
                    night,
                    windows,
                    suggested,
                    done,
                })
            }
            None => None,
        };
        let active = s.active_shift()?.map(|sh| s.shift_log(sh)).transpose()?;
        // The last shift's summary is shown only while no shift runs: skip reading it otherwise.
        let last_ended = match active {
            Some(_) => None,
            None => s
                .last_ended_shift()?
                .map(|sh| s.shift_log(sh))
                .transpose()?,
        };
        Ok(AppState {
            setup,
            tonight,
            active,
            last_ended,
            pending_sync: outbox::pending_count(s.conn())?,
            lang: s.setting("lang")?.unwrap_or_else(|| "vi".into()),
            device_id: outbox::device_id(s.conn())?,
            sync: SyncInfo {
                enrolled: s.sync_value("token")?.is_some(),
                role: s.sync_value("role")?,
                last_success: s.sync_value("last_success")?.and_then(|t| t.parse().ok()),
                last_error: s.sync_value("last_error")?,
                refused: outbox::refused(s.conn())?,
            },
        })
    }
}
