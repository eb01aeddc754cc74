//! Messages between the UI and the core, serialised as JSON across the worker boundary.

use super::error::ApiError;
use crate::domain::observation::Category;
use crate::domain::photo::PhotoHash;
use crate::domain::records::{CheckInRequest, ObservationInput};
use crate::domain::roster::Assignment;
use crate::domain::shift::SlotWindow;
use crate::domain::tip::TipStep;
use crate::domain::ward::Role;
use crate::domain::ward::WardSetup;
use crate::i18n::Lang;
use crate::store::outbox::Refused;
use crate::store::photos::PhotoUsage;
use crate::store::records::{LogEntry, PhotoChange, ShiftLog};
#[cfg(team_api)]
use crate::store::team::TeamView;
use crate::store::team::TipOutcome;
use crate::sync::schedule::Trigger;
#[cfg(team_api)]
use crate::wire::api::{ReportQuery, ReportResponse};
#[cfg(team_api)]
use crate::wire::team::{TeamAnswer, TeamCall};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the UI asks the core to do: a local command, answered from the store on the device, or
/// one that needs the ward server. [`crate::service::door::handle`] is the one door for both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Read or change the store on this device.
    Local(Local),
    /// Redeem an enrollment code with the ward server at `server_url` (needs the network).
    Enroll {
        /// The server's address, e.g. the page's origin.
        server_url: String,
        /// The one-time code from the link or QR.
        code: String,
    },
    /// Sync with the ward server now (needs the network).
    SyncNow,
    /// The page saw a sign of a connection (back online, shown again): sync at once, with the
    /// back-off reset. Changes nothing.
    ConnectionSeen,
    /// Ask the ward server for a report (leaders, officers, admins; needs the network). Not in
    /// the members' phone app, nor its answer ([`Change::Report`]): neither is compiled into it.
    #[cfg(team_api)]
    Report {
        /// The scope and the evenings.
        query: ReportQuery,
    },
    /// An image (a photo or its thumbnail) named by an observation: from this device, else from
    /// the ward server (a leader's view of a member's photo; needs the network).
    Photo {
        /// Its hash.
        hash: PhotoHash,
    },
    /// The member's own nights on their team's night-duty sheet of `month`, from the ward server
    /// (needs the network).
    MyAllowance {
        /// The month.
        month: crate::domain::allowance::YearMonth,
    },
    /// Read or change this device's team on the ward server: roster, members, codes, devices,
    /// route (leaders, officers, admins; needs the network). Not in the members' phone app.
    #[cfg(team_api)]
    Team {
        /// The call.
        call: TeamCall,
    },
}

impl Command {
    /// What this command, once it succeeded, tells the sync loop: a record to send, or a
    /// connection to use now.
    pub fn sync_trigger(&self) -> Option<Trigger> {
        match self {
            Command::Local(local) if local.writes_event() => Some(Trigger::Wrote),
            Command::Enroll { .. } | Command::ConnectionSeen => Some(Trigger::Connected),
            // A change on the server reaches this phone's feed (setup, roster): pull it now.
            #[cfg(team_api)]
            Command::Team { call } if call.changes() => Some(Trigger::Connected),
            _ => None,
        }
    }
}

impl From<Local> for Command {
    fn from(cmd: Local) -> Self {
        Command::Local(cmd)
    }
}

/// A command the device answers by itself, with no network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Local {
    /// Read the state without changing anything.
    State,
    /// Load the built-in demo ward (only before a real enrollment).
    LoadDemo,
    /// Replace the route with the checkpoints of a GeoJSON file.
    ImportCheckpoints {
        /// The file's text.
        geojson: String,
    },
    /// Switch the UI language.
    SetLang {
        /// The language.
        lang: Lang,
    },
    /// Start a shift.
    StartShift {
        /// Slot code, "ca1".
        slot_code: String,
        /// Ids of the members present.
        members: Vec<String>,
    },
    /// Check in at a checkpoint.
    CheckIn {
        /// Checkpoint id.
        checkpoint_id: String,
        /// GPS, QR or manual.
        request: CheckInRequest,
    },
    /// Record an observation.
    Observe {
        /// What was seen and done.
        input: ObservationInput,
    },
    /// Append a correction to a log entry.
    Correct {
        /// The entry's id.
        target_id: String,
        /// What is right.
        text: String,
        /// The right category, for an observation.
        new_category: Option<Category>,
        /// Photos added to or taken off an observation.
        #[serde(default)]
        photos: PhotoChange,
    },
    /// Keep full-size photos for Wi-Fi (thumbnails go on any link), or send them on any link.
    SetPhotosWifiOnly {
        /// On or off.
        on: bool,
    },
    /// End the running shift.
    EndShift {
        /// Handover note for the next shift.
        handover_note: String,
    },
    /// Take a step on a tip (leaders, officers, admins).
    FollowUp {
        /// The observation.
        observation_id: String,
        /// The step.
        step: TipStep,
        /// A short note.
        note: String,
    },
}

impl Local {
    /// Whether the command writes a record that should go to the ward server.
    pub fn writes_event(&self) -> bool {
        matches!(
            self,
            Local::StartShift { .. }
                | Local::CheckIn { .. }
                | Local::Observe { .. }
                | Local::Correct { .. }
                | Local::EndShift { .. }
                | Local::FollowUp { .. }
        )
    }
}

/// What a command changed, so the UI replaces only those pieces of its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Everything, read afresh (first load, a new shift, enrollment, a sync).
    Full {
        /// The whole state.
        state: Box<AppState>,
    },
    /// An entry appended to the running shift's log: the hot path of a night's patrol.
    Entry {
        /// The new entry.
        entry: LogEntry,
        /// Events now waiting for the ward server.
        pending_sync: u64,
    },
    /// The UI language.
    Lang {
        /// The language now.
        lang: Lang,
    },
    /// A report from the ward server.
    #[cfg(team_api)]
    Report {
        /// The figures.
        report: Box<ReportResponse>,
    },
    /// What the team API answered.
    #[cfg(team_api)]
    Team {
        /// The answer.
        answer: Box<TeamAnswer>,
    },
    /// The member's own nights on their team's sheet.
    MyAllowance {
        /// As the ward server counts them.
        mine: crate::wire::api::MyAllowanceResponse,
    },
    /// An image, for the screen to show.
    Photo {
        /// Its hash.
        hash: PhotoHash,
        /// Its MIME type.
        mime: String,
        /// Its bytes.
        #[serde(with = "crate::domain::photo::b64")]
        data: Vec<u8>,
    },
    /// Nothing changed.
    Nothing,
}

/// Sync status in words the UI can show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncInfo {
    /// The device is enrolled with a ward server.
    pub enrolled: bool,
    /// The member this device was enrolled for.
    pub member_id: Option<String>,
    /// The member's role from enrollment.
    pub role: Option<Role>,
    /// When the last sync succeeded (RFC 3339).
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    /// The last sync error, if the last attempt failed.
    pub last_error: Option<String>,
    /// Events the server refused, kept on the phone.
    pub refused: Vec<Refused>,
    /// Feed items this device could not read: (cursor, reason).
    pub feed_rejected: Vec<(i64, String)>,
    /// Photos waiting, stored and refused.
    pub photos: PhotoUsage,
    /// Full-size photos wait for Wi-Fi.
    pub photos_wifi_only: bool,
}

/// Tonight's patrol night and its shifts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tonight {
    /// The evening's date.
    pub night: NaiveDate,
    /// The team's shifts placed on it.
    pub windows: Vec<SlotWindow>,
    /// The slot to offer: the member's planned one, else the one under way, else the next.
    pub suggested: Option<String>,
    /// The slots this member is planned on tonight (from the roster).
    pub planned: Vec<String>,
    /// Slot codes already ended tonight.
    pub done: Vec<String>,
}

/// Something the user should know after a command succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The record was saved.
    Saved,
    /// The phone's clock went backwards; the record was saved with it anyway.
    ClockWentBack,
    /// The device is now enrolled with its ward.
    Enrolled,
    /// A sync finished.
    Synced,
}

/// Everything the UI shows, read fresh after every command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppState {
    /// The ward setup, if loaded.
    pub setup: Option<WardSetup>,
    /// Tonight's shifts.
    pub tonight: Option<Tonight>,
    /// The running shift and its log.
    pub active: Option<ShiftLog>,
    /// The last ended shift and its log, for the summary (only while no shift runs).
    pub last_ended: Option<ShiftLog>,
    /// Events waiting for the ward server.
    pub pending_sync: u64,
    /// UI language.
    pub lang: Lang,
    /// This device's id.
    pub device_id: String,
    /// Sync with the ward server.
    pub sync: SyncInfo,
    /// The team's shifts and tips, for leaders, officers and admins (else `None`). Not in the
    /// members' phone app, which has no screen for it: a reviewer's phone moves to the leaders'.
    #[cfg(team_api)]
    pub team: Option<TeamView>,
    /// What became of the tips this device knows steps for (a member's own, a leader's team's).
    pub tips: Vec<TipOutcome>,
    /// The coming assignments held from tonight on: the member's own, or a leader's whole team's.
    pub duties: Vec<Assignment>,
}

impl AppState {
    /// What a store that was just made holds, but for its device id (left empty): no ward,
    /// nothing recorded, not enrolled, in Vietnamese. A new phone's first screen is drawn from it
    /// while its store is still being made (tests/service.rs holds it to a new store's answer).
    pub fn empty() -> AppState {
        AppState {
            setup: None,
            tonight: None,
            active: None,
            last_ended: None,
            pending_sync: 0,
            lang: Lang::default(),
            device_id: String::new(),
            sync: SyncInfo::default(),
            #[cfg(team_api)]
            team: None,
            tips: Vec::new(),
            duties: Vec::new(),
        }
    }

    /// Applies what a command changed.
    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Full { state } => *self = *state,
            Change::Entry {
                entry,
                pending_sync,
            } => {
                if let Some(log) = self.active.as_mut() {
                    log.push(entry);
                }
                self.pending_sync = pending_sync;
            }
            Change::Lang { lang } => self.lang = lang,
            // A report or a team answer is shown, not kept in the device's state.
            #[cfg(team_api)]
            Change::Report { .. } | Change::Team { .. } => {}
            Change::MyAllowance { .. } | Change::Photo { .. } | Change::Nothing => {}
        }
    }
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// What changed, or why nothing did.
    pub result: Result<Change, ApiError>,
    /// A notice for a successful write.
    pub notice: Option<Notice>,
}
