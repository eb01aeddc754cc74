//! Messages between the UI and the core, serialised as JSON across the worker boundary.

use super::error::ApiError;
use crate::domain::observation::Category;
use crate::domain::records::{CheckInRequest, ObservationInput};
use crate::domain::shift::SlotWindow;
use crate::domain::ward::WardSetup;
use crate::store::records::ShiftLog;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What the UI asks the core to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Read the state without changing anything.
    State,
    /// Load the built-in demo ward (only before a real enrollment).
    LoadDemo,
    /// Replace the route with the checkpoints of a GeoJSON file.
    ImportCheckpoints {
        /// The file's text.
        geojson: String,
    },
    /// Switch the UI language ("vi" or "en").
    SetLang {
        /// Language code.
        lang: String,
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
    },
    /// End the running shift.
    EndShift {
        /// Handover note for the next shift.
        handover_note: String,
    },
    /// Redeem an enrollment code with the ward server at `server_url` (needs the network).
    Enroll {
        /// The server's address, e.g. the page's origin.
        server_url: String,
        /// The one-time code from the link or QR.
        code: String,
    },
    /// Sync with the ward server now (needs the network).
    SyncNow,
}

impl Command {
    /// Whether the command writes a record that should go to the ward server.
    pub fn writes_event(&self) -> bool {
        matches!(
            self,
            Command::StartShift { .. }
                | Command::CheckIn { .. }
                | Command::Observe { .. }
                | Command::Correct { .. }
                | Command::EndShift { .. }
        )
    }
}

/// Sync status in words the UI can show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncInfo {
    /// The device is enrolled with a ward server.
    pub enrolled: bool,
    /// The member's role from enrollment.
    pub role: Option<String>,
    /// When the last sync succeeded (RFC 3339).
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    /// The last sync error, if the last attempt failed.
    pub last_error: Option<String>,
    /// Events the server refused, kept on the phone.
    pub refused: Vec<(i64, String, String, String)>,
}

/// Tonight's patrol night and its shifts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tonight {
    /// The evening's date.
    pub night: NaiveDate,
    /// The team's shifts placed on it.
    pub windows: Vec<SlotWindow>,
    /// The slot under way, else the next one.
    pub suggested: Option<String>,
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
    /// UI language, "vi" or "en".
    pub lang: String,
    /// This device's id.
    pub device_id: String,
    /// Sync with the ward server.
    pub sync: SyncInfo,
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The new state, or why nothing changed.
    pub result: Result<AppState, ApiError>,
    /// A notice for a successful write.
    pub notice: Option<Notice>,
}
