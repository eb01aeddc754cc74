//! Runs local commands against the store and answers with what changed.

use super::api::{AppState, Change, Local, Notice, Reply, SyncInfo, Tonight};
use super::error::ApiError;
use crate::domain::roster::suggest;
use crate::domain::route_file::checkpoints_from_geojson;
use crate::domain::shift::{night_of, windows_for_night};
use crate::domain::ward::WardSetup;
use crate::i18n::Lang;
use crate::store::records::LogEntry;
use crate::store::sync_state::SyncKey;
use crate::store::{outbox, Store, StoreError};
use chrono::{DateTime, Utc};

/// The core service over one store.
pub struct Service {
    store: Store,
}

/// What a local command did: a notice for the user, and what the UI should re-read.
struct Done {
    notice: Option<Notice>,
    change: Changed,
}

/// Which pieces of the state a command changed.
enum Changed {
    Everything,
    Entry(LogEntry),
    Lang(Lang),
}

fn saved(clock_went_back: bool) -> Option<Notice> {
    Some(if clock_went_back {
        Notice::ClockWentBack
    } else {
        Notice::Saved
    })
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

    /// Runs one local command at time `now` and answers with what changed (the door,
    /// [`crate::service::door::handle`], sends every local command here).
    pub fn run(&mut self, cmd: Local, now: DateTime<Utc>) -> Reply {
        let done = match self.apply(cmd, now) {
            Ok(done) => done,
            Err(e) => {
                return Reply {
                    result: Err(e.into()),
                    notice: None,
                }
            }
        };
        let change = match done.change {
            Changed::Everything => self.state(now).map(|state| Change::Full {
                state: Box::new(state),
            }),
            Changed::Entry(entry) => {
                outbox::pending_count(self.store.conn()).map(|pending_sync| Change::Entry {
                    entry,
                    pending_sync,
                })
            }
            Changed::Lang(lang) => Ok(Change::Lang { lang }),
        };
        Reply {
            result: change.map_err(ApiError::from),
            notice: done.notice,
        }
    }

    fn apply(&mut self, cmd: Local, now: DateTime<Utc>) -> Result<Done, StoreError> {
        let s = &mut self.store;
        let everything = |notice| Done {
            notice,
            change: Changed::Everything,
        };
        Ok(match cmd {
            Local::State => everything(None),
            Local::LoadDemo => {
                if s.setup()?.is_some_and(|w| !w.ward.demo) {
                    return Err(StoreError::Enrolled);
                }
                s.load_setup(WardSetup::from_json(crate::domain::ward::DEMO_WARD)?)?;
                everything(Some(Notice::Saved))
            }
            Local::ImportCheckpoints { geojson } => {
                s.replace_checkpoints(&checkpoints_from_geojson(&geojson)?)?;
                everything(Some(Notice::Saved))
            }
            Local::SetLang { lang } => {
                s.set_lang(lang)?;
                Done {
                    notice: None,
                    change: Changed::Lang(lang),
                }
            }
            Local::StartShift { slot_code, members } => everything(saved(
                s.start_shift(&slot_code, &members, now)?.clock_went_back,
            )),
            Local::CheckIn {
                checkpoint_id,
                request,
            } => {
                let r = s.check_in(&checkpoint_id, &request, now)?;
                Done {
                    notice: saved(r.clock_went_back),
                    change: Changed::Entry(LogEntry::CheckIn(r.record)),
                }
            }
            Local::Observe { input } => {
                let r = s.observe(&input, now)?;
                Done {
                    notice: saved(r.clock_went_back),
                    change: Changed::Entry(LogEntry::Observation(r.record)),
                }
            }
            Local::Correct {
                target_id,
                text,
                new_category,
                photos,
            } => {
                let r = s.correct(&target_id, &text, new_category, &photos, now)?;
                Done {
                    notice: saved(r.clock_went_back),
                    change: Changed::Entry(LogEntry::Correction(r.record)),
                }
            }
            Local::SetPhotosWifiOnly { on } => {
                s.set_setting(
                    crate::sync::engine::PHOTOS_WIFI_ONLY,
                    if on { "1" } else { "0" },
                )?;
                everything(Some(Notice::Saved))
            }
            Local::FollowUp {
                observation_id,
                step,
                note,
            } => {
                s.follow_up(&observation_id, step, &note, now)?;
                everything(saved(false))
            }
            Local::EndShift { handover_note } => {
                everything(saved(s.end_shift(&handover_note, now)?.clock_went_back))
            }
        })
    }

    /// Reads everything the UI shows.
    pub fn state(&self, now: DateTime<Utc>) -> Result<AppState, StoreError> {
        let s = &self.store;
        let setup = s.setup()?;
        let tz = s.time_zone()?;
        let member_id = s.sync_value(SyncKey::MemberId)?;
        let duties = s.duties(night_of(now, tz))?;
        let tonight = match &setup {
            Some(w) => {
                let night = night_of(now, tz);
                let windows = windows_for_night(&w.team.slots, night, tz);
                let done: Vec<String> = s
                    .shifts_of_night(night)?
                    .into_iter()
                    .filter(|x| x.ended_at.is_some())
                    .map(|x| x.slot_code)
                    .collect();
                let planned: Vec<String> = duties
                    .iter()
                    .filter(|d| d.night == night && Some(&d.member_id) == member_id.as_ref())
                    .map(|d| d.slot.clone())
                    .collect();
                let suggested = suggest(&windows, &planned, &done, now).map(|w| w.code.clone());
                Some(Tonight {
                    night,
                    windows,
                    suggested,
                    planned,
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
            lang: s.lang()?,
            device_id: outbox::device_id(s.conn())?,
            sync: SyncInfo {
                enrolled: s.sync_value(SyncKey::Token)?.is_some(),
                member_id,
                role: s.role()?,
                last_success: s.last_success()?,
                last_error: s.sync_value(SyncKey::LastError)?,
                refused: outbox::refused(s.conn())?,
                feed_rejected: s.feed_rejected()?,
                photos: s.photo_usage()?,
                photos_wifi_only: s.setting(crate::sync::engine::PHOTOS_WIFI_ONLY)?.as_deref()
                    == Some("1"),
            },
            #[cfg(team_api)]
            team: if crate::store::team::reviews(s.role()?) {
                Some(s.team_view(now)?)
            } else {
                None
            },
            tips: s.tip_outcomes()?,
            duties,
        })
    }
}
