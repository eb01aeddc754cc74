//! The ward, its team, members and route of checkpoints, and the rules a route keeps.

use super::geofence::{validate_radius, GeoError, LatLon};
use super::shift::ShiftSlot;
use super::text::{self, TextError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The demo ward the app opens with before it is enrolled, and the ward server loads with `--demo`.
pub const DEMO_WARD: &str = include_str!("../../../assets/demo/ward.json");

/// Checkpoint radius used when a file gives none.
pub const DEFAULT_RADIUS_M: f64 = 40.0;
/// Most checkpoints one route may have.
pub const MAX_CHECKPOINTS: usize = 200;
/// Days a phone keeps a full-size photo after the ward server has it, unless the ward sets
/// another period; also the period of setups written before wards had one.
pub const DEFAULT_PHOTO_KEEP_DAYS: u16 = 14;
/// Most days a ward may have phones keep full-size photos.
pub const MAX_PHOTO_KEEP_DAYS: u16 = 365;

/// A ward (phường / xã) as the phone knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ward {
    /// Stable id.
    pub id: String,
    /// Display name, e.g. "Phường Hàng Trống".
    pub name: String,
    /// IANA time zone, "Asia/Ho_Chi_Minh".
    pub tz: String,
    /// Ward police duty phone, for the urgent button.
    pub police_phone: String,
    /// True for the built-in demo ward.
    pub demo: bool,
    /// How many days a phone keeps a full-size photo after the ward server has it (0: drops it
    /// as soon as the server has it); thumbnails always stay. A setup written before wards had
    /// this field reads as [`DEFAULT_PHOTO_KEEP_DAYS`].
    #[serde(default = "default_photo_keep_days")]
    pub photo_keep_days: u16,
}

fn default_photo_keep_days() -> u16 {
    DEFAULT_PHOTO_KEEP_DAYS
}

impl Ward {
    /// The ward's time zone ([`crate::shift::DEFAULT_TZ`] if the name is not one).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.tz.parse().unwrap_or(crate::shift::DEFAULT_TZ)
    }

    /// Checks the ward's own settings (the photo keeping period).
    pub fn validate(&self) -> Result<(), WardError> {
        check_photo_keep_days(self.photo_keep_days).map(|_| ())
    }

    /// How long a phone keeps a full-size photo after the ward server has it.
    pub fn photo_keep(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.photo_keep_days))
    }
}

/// Checks a photo keeping period: 0 to [`MAX_PHOTO_KEEP_DAYS`] days.
pub fn check_photo_keep_days(days: u16) -> Result<u16, WardError> {
    if days > MAX_PHOTO_KEEP_DAYS {
        return Err(WardError::PhotoKeepDays(days));
    }
    Ok(days)
}

/// A people's patrol team (tổ nhân dân tuần tra).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Team leader's phone, for the urgent button.
    pub leader_phone: String,
    /// The team's shifts of a patrol night.
    pub slots: Vec<ShiftSlot>,
}

/// What a member may do: everyone patrols; leaders, deputies, officers and admins also see the
/// team's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Tổ viên: patrols and records.
    #[default]
    Member,
    /// Tổ phó: acts for the leader, with the same rights on the team.
    Deputy,
    /// Tổ trưởng: leads a team.
    Leader,
    /// Ward police officer (công an phường).
    Officer,
    /// Runs the ward server.
    Admin,
}

impl Role {
    /// Every role, least rights first.
    pub const ALL: [Role; 5] = [
        Role::Member,
        Role::Deputy,
        Role::Leader,
        Role::Officer,
        Role::Admin,
    ];

    /// The stable code stored in databases and sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Deputy => "deputy",
            Role::Leader => "leader",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    /// The role with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The translation key naming the role.
    pub fn key(self) -> &'static str {
        match self {
            Role::Member => "role.member",
            Role::Deputy => "role.deputy",
            Role::Leader => "role.leader",
            Role::Officer => "role.officer",
            Role::Admin => "role.admin",
        }
    }

    /// Leaders, deputies, officers and admins receive the team's shift logs.
    pub fn sees_logs(self) -> bool {
        self != Role::Member
    }

    /// The highest role this role may give, or `None` when it gives none: a leader or deputy
    /// gives up to leader, an officer up to officer, an admin any.
    pub fn highest_given(self) -> Option<Role> {
        match self {
            Role::Member => None,
            Role::Deputy | Role::Leader => Some(Role::Leader),
            Role::Officer => Some(Role::Officer),
            Role::Admin => Some(Role::Admin),
        }
    }

    /// Whether a team's leader or deputy: they run their own team.
    pub fn runs_team(self) -> bool {
        matches!(self, Role::Leader | Role::Deputy)
    }

    /// Whether this role may give `role`, and so act on a member who has it. The ward server
    /// decides with this rule (`patrol_server::access`); the phone only hides what would be refused.
    pub fn may_give(self, role: Role) -> bool {
        let rank = |r: Role| Role::ALL.iter().position(|x| *x == r);
        self.highest_given()
            .is_some_and(|top| rank(role) <= rank(top))
    }
}

/// A team member (tổ viên or tổ trưởng).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Stable id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// What the member may do.
    pub role: Role,
}

/// A checkpoint on the team's route (điểm kiểm tra, chốt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Stable id.
    pub id: String,
    /// Display name, e.g. "Đầu ngõ 12".
    pub name: String,
    /// Place on the route, 1-based.
    pub seq: u32,
    /// Centre of the geofence.
    pub pos: LatLon,
    /// Geofence radius in metres.
    pub radius_m: f64,
    /// The text encoded in the checkpoint's QR code (and printed under it).
    pub qr_code: String,
}

/// A whole ward setup as loaded from the demo file or, later, from the ward server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WardSetup {
    /// The ward.
    pub ward: Ward,
    /// The member's team.
    pub team: Team,
    /// The team's members.
    pub members: Vec<Member>,
    /// The team's route.
    pub checkpoints: Vec<Checkpoint>,
}

/// Why a ward setup or checkpoint file is refused.
#[derive(Debug, Error, PartialEq)]
pub enum WardError {
    /// A setup file that is not JSON of the expected shape.
    #[error("the file is not valid: {0}")]
    Format(String),
    /// A route file that is not a GeoJSON FeatureCollection.
    #[error("the file is not a GeoJSON FeatureCollection")]
    NotGeoJson,
    /// A route file's feature (1-based) that is not a Point.
    #[error("feature {index} is not a Point")]
    NotPoint {
        /// 1-based position in the file.
        index: usize,
    },
    /// A CSV route file without a column it needs (name, lat, lon).
    #[error("the CSV file has no column '{0}'")]
    CsvColumn(String),
    /// A CSV route file's line that does not read (a number that is not one, a coordinate out of
    /// range, a row cut short); the column named when known.
    #[error("line {line}{}: not readable", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    CsvRow {
        /// 1-based line in the file (1 is the header).
        line: usize,
        /// The column's header, when known.
        column: Option<String>,
    },
    /// A checkpoint has a bad coordinate or radius.
    #[error("checkpoint {index}: {source}")]
    Geo {
        /// 1-based position in the file.
        index: usize,
        /// What is wrong.
        source: GeoError,
    },
    /// A checkpoint has a bad name or code.
    #[error("checkpoint {index}: {source}")]
    Text {
        /// 1-based position in the file.
        index: usize,
        /// What is wrong.
        source: TextError,
    },
    /// Zero checkpoints, or more than [`MAX_CHECKPOINTS`].
    #[error("a route needs 1 to {MAX_CHECKPOINTS} checkpoints, the file has {0}")]
    Count(usize),
    /// The team has no shifts or no members.
    #[error("the team needs at least one shift and one member")]
    EmptyTeam,
    /// Two checkpoints share an id.
    #[error("checkpoint id '{0}' appears twice")]
    DuplicateId(String),
    /// A photo keeping period longer than [`MAX_PHOTO_KEEP_DAYS`].
    #[error("phones may keep full-size photos 0 to {MAX_PHOTO_KEEP_DAYS} days, not {0}")]
    PhotoKeepDays(u16),
}

impl WardSetup {
    /// Parses and checks a setup file (the demo ward is one).
    pub fn from_json(json: &str) -> Result<Self, WardError> {
        let setup: WardSetup =
            serde_json::from_str(json).map_err(|e| WardError::Format(e.to_string()))?;
        setup.validate()
    }

    /// Checks every part of the setup.
    pub fn validate(self) -> Result<Self, WardError> {
        self.ward.validate()?;
        if self.team.slots.is_empty() || self.members.is_empty() {
            return Err(WardError::EmptyTeam);
        }
        check_route(&self.checkpoints)?;
        Ok(self)
    }
}

/// Checks a route: count, coordinates, radii, names and unique ids.
pub fn check_route(cps: &[Checkpoint]) -> Result<(), WardError> {
    if cps.is_empty() || cps.len() > MAX_CHECKPOINTS {
        return Err(WardError::Count(cps.len()));
    }
    let mut ids = std::collections::HashSet::new();
    for (i, cp) in cps.iter().enumerate() {
        let index = i + 1;
        cp.pos
            .validate()
            .map_err(|source| WardError::Geo { index, source })?;
        validate_radius(cp.radius_m).map_err(|source| WardError::Geo { index, source })?;
        text::required("field.checkpoint_name", &cp.name, 100)
            .map_err(|source| WardError::Text { index, source })?;
        if !ids.insert(cp.id.clone()) {
            return Err(WardError::DuplicateId(cp.id.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ward_file_is_valid() {
        let s = WardSetup::from_json(DEMO_WARD).unwrap();
        assert!(s.ward.demo);
        assert_eq!(s.ward.photo_keep_days, DEFAULT_PHOTO_KEEP_DAYS);
        assert_eq!(s.team.slots.len(), 2);
        assert!(s.checkpoints.len() >= 4);
    }

    #[test]
    fn a_photo_keeping_period_is_0_to_365_days() {
        assert_eq!(check_photo_keep_days(0), Ok(0));
        assert_eq!(check_photo_keep_days(14), Ok(14));
        assert_eq!(check_photo_keep_days(365), Ok(365));
        assert_eq!(
            check_photo_keep_days(366),
            Err(WardError::PhotoKeepDays(366))
        );
        let mut s = WardSetup::from_json(DEMO_WARD).unwrap();
        s.ward.photo_keep_days = 400;
        assert_eq!(s.validate(), Err(WardError::PhotoKeepDays(400)));
    }

    #[test]
    fn a_setup_written_before_photo_keeping_periods_keeps_photos_14_days() {
        let old =
            r#"{"id":"w","name":"W","tz":"Asia/Ho_Chi_Minh","police_phone":"113","demo":false}"#;
        let ward: Ward = serde_json::from_str(old).unwrap();
        assert_eq!(ward.photo_keep_days, DEFAULT_PHOTO_KEEP_DAYS);
        assert_eq!(ward.photo_keep(), chrono::Duration::days(14));
        let set: Ward =
            serde_json::from_str(&old.replace('}', r#","photo_keep_days":3}"#)).unwrap();
        assert_eq!(set.photo_keep_days, 3);
        let bad = old.replace('}', r#","photo_keep_days":"many"}"#);
        assert!(serde_json::from_str::<Ward>(&bad).is_err());
    }
}
