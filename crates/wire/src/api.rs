//! The ward server's API v1, as JSON bodies. The device's ward, team and role always come from its
//! token on the server, never from these bodies.

use super::event::Event;
use super::feed::FeedItem;
use chrono::{DateTime, NaiveDate, Utc};
use patrol_domain::roster::{Absence, Assignment, Missed};
use patrol_domain::ward::{Checkpoint, Role, WardSetup};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most events one push may carry.
pub const MAX_BATCH: usize = 500;
/// Largest payload of one event, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// A device clock further than this from the server's is flagged, in milliseconds.
pub const CLOCK_FLAG_MS: i64 = 10 * 60 * 1000;

/// POST /api/v1/enroll: redeem a one-time enrollment code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The code from the link or QR.
    pub code: String,
    /// The device's own id (from its local store).
    pub device_id: String,
}

/// The device's credentials and setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// Bearer token for every later request; the server keeps only its hash.
    pub token: String,
    /// The member this device belongs to.
    pub member_id: String,
    /// The member's role.
    pub role: Role,
    /// The ward, team, roster and route.
    pub setup: WardSetup,
    /// The server's epoch (changes when it is restored from a backup).
    pub epoch: String,
}

/// POST /api/v1/push: a batch of outbox events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The device clock when the batch was sent, to measure the clock offset.
    pub sent_at: DateTime<Utc>,
    /// Events in sequence order.
    pub events: Vec<Event>,
}

/// Why the server refused one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// The id (or the device's sequence number) is already another event; the original is kept.
    Conflict,
    /// The event names another device than the token's.
    BadDevice,
    /// A sequence below 1, or an id longer than 64 characters.
    BadSeq,
    /// The payload is larger than [`MAX_PAYLOAD_BYTES`].
    TooLarge,
    /// The payload does not parse as its kind's record.
    BadPayload,
    /// The token's role may not send this kind (a member's tip follow-up), or the record belongs
    /// to another team or ward.
    Forbidden,
    /// A tip follow-up names an observation the server does not hold.
    UnknownTip,
    /// A tip follow-up out of order (resolving twice, forwarding a closed tip).
    OutOfOrder,
}

impl RefusalCode {
    /// The stable code stored in databases and sent on the wire.
    pub fn code(self) -> &'static str {
        match self {
            RefusalCode::Conflict => "conflict",
            RefusalCode::BadDevice => "bad_device",
            RefusalCode::BadSeq => "bad_seq",
            RefusalCode::TooLarge => "too_large",
            RefusalCode::BadPayload => "bad_payload",
            RefusalCode::Forbidden => "forbidden",
            RefusalCode::UnknownTip => "unknown_tip",
            RefusalCode::OutOfOrder => "out_of_order",
        }
    }

    /// Every refusal.
    pub const ALL: [RefusalCode; 8] = [
        Self::Conflict,
        Self::BadDevice,
        Self::BadSeq,
        Self::TooLarge,
        Self::BadPayload,
        Self::Forbidden,
        Self::UnknownTip,
        Self::OutOfOrder,
    ];

    /// The refusal with `code`, or `None` for a code this build does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Why one event of a batch was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRefusal {
    /// The event.
    pub event_id: String,
    /// Why, as a stable code.
    pub code: RefusalCode,
    /// Human-readable detail.
    pub message: String,
}

/// The server's answer to a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The server's epoch.
    pub epoch: String,
    /// Event ids stored now or already stored with the same content.
    pub stored: Vec<String>,
    /// Events refused; the original of a conflicting id is kept.
    pub refused: Vec<EventRefusal>,
    /// The highest sequence n such that this device's events 1..=n are all stored.
    pub stored_through: i64,
    /// Server clock minus device clock, milliseconds.
    pub clock_offset_ms: i64,
}

/// GET /api/v1/pull?after=CURSOR: what changed since the cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// The server's epoch.
    pub epoch: String,
    /// Items after the cursor, in cursor order.
    pub items: Vec<FeedItem>,
    /// The cursor to ask after next time.
    pub cursor: i64,
    /// More items wait beyond this page.
    pub more: bool,
}

/// Every error body: a stable code and a message (the server's words, for logs and people
/// reading the API; the phone says it in its own words from the code and the reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code, e.g. "bad_code".
    pub error: String,
    /// What went wrong, in words.
    pub message: String,
    /// With `bad_code`: why the enrollment code cannot be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<CodeRefusal>,
}

impl ErrorBody {
    /// A body with no reason.
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: error.into(),
            message: message.into(),
            reason: None,
        }
    }
}

/// Why an enrollment code cannot be used (`bad_code`'s `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeRefusal {
    /// No such code (mistyped, or from another server).
    Unknown,
    /// Already used to enroll a phone.
    Used,
    /// Past its time.
    Expired,
    /// A reason a newer server gives that this build does not know.
    #[serde(other)]
    Other,
}

impl CodeRefusal {
    /// The words the server writes in its message.
    pub fn words(self) -> &'static str {
        match self {
            CodeRefusal::Unknown => "unknown",
            CodeRefusal::Used => "already used",
            CodeRefusal::Expired => "expired",
            CodeRefusal::Other => "not usable",
        }
    }
}

/// Reads an enrollment link "https://ward.example/#enroll=CODE" into (server url, code).
pub fn parse_enroll_link(link: &str) -> Option<(String, String)> {
    let (base, fragment) = link.trim().split_once('#')?;
    let code = fragment.strip_prefix("enroll=")?.trim();
    if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let scheme_end = base.find("://")? + 3;
    let origin_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    Some((base[..origin_end].to_string(), code.to_string()))
}

// ---- The team API (/api/v1/team/{team_id}/..., /api/v1/audit): leaders, officers and admins
// run a team from the phone. See docs/api.md for who may call what.

/// The `kind` of a roster feed item (payload: [`RosterFeed`]).
pub const ROSTER_KIND: &str = "roster";

/// GET /api/v1/team/{team_id}/roster and the answer to every roster change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterResponse {
    /// The team.
    pub team_id: String,
    /// First night of the range (the evening's date).
    pub from: NaiveDate,
    /// Last night of the range, included.
    pub to: NaiveDate,
    /// The assignments in the range, by night, slot and member (a member reads only their own).
    pub assignments: Vec<Assignment>,
}

/// PUT /api/v1/team/{team_id}/roster/night: replaces one night's roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterNightRequest {
    /// The night (the evening's date, YYYY-MM-DD): tonight or later.
    #[serde(with = "crate::ymd")]
    pub night: NaiveDate,
    /// Slot code → member ids; a slot left out has nobody that night.
    pub slots: BTreeMap<String, Vec<String>>,
}

/// PUT /api/v1/team/{team_id}/roster/pattern: replaces every night from `from` to `to` with a
/// weekly pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterPatternRequest {
    /// First night, tonight or later.
    #[serde(with = "crate::ymd")]
    pub from: NaiveDate,
    /// Last night, included (at most 366 nights in all).
    #[serde(with = "crate::ymd")]
    pub to: NaiveDate,
    /// Weekday of the evening ("mon" … "sun") → slot code → member ids. A weekday left out has
    /// nobody on those nights.
    pub weekly: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// GET /api/v1/team/{team_id}/roster/status: the leader's morning view of the roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterStatusResponse {
    /// The team.
    pub team_id: String,
    /// Tonight's night (the evening's date) by the server's clock in the ward's time zone.
    pub tonight: NaiveDate,
    /// Everyone due tonight, by slot and member.
    pub due_tonight: Vec<Assignment>,
    /// Planned slots of the last 31 nights whose window ended with no shift of that slot run.
    pub missed: Vec<Missed>,
    /// Active members on no shift in the last `absent_nights` nights.
    pub absent: Vec<Absence>,
    /// The window `absent` was computed over.
    pub absent_nights: u32,
}

/// One slot a member is due on, in their roster feed item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterSlot {
    /// The night.
    pub night: NaiveDate,
    /// The slot's code.
    pub slot: String,
}

/// The payload of a [`ROSTER_KIND`] feed item, addressed to one member (and read by the team's
/// leaders and the ward's officers): from night `from` on, the member is due on exactly
/// `assignments`. A phone replaces what it holds for that member from `from` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterFeed {
    /// The team.
    pub team_id: String,
    /// The member.
    pub member_id: String,
    /// The night the list starts at (tonight when it was sent).
    pub from: NaiveDate,
    /// Every slot the member is due on from `from` on, by night and slot.
    pub assignments: Vec<RosterSlot>,
}

/// A member as the team API lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    /// Member id.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// When they left the team (their records stay); `None` while in the team.
    pub left_at: Option<DateTime<Utc>>,
    /// Their devices not revoked.
    pub active_devices: u32,
}

/// GET /api/v1/team/{team_id}/members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembersResponse {
    /// The team.
    pub team_id: String,
    /// Members, leaders first, then by name; those who left included.
    pub members: Vec<TeamMember>,
}

/// POST /api/v1/team/{team_id}/members: adds a member (the server chooses the id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// Full name, 1–100 characters.
    pub name: String,
    /// Role; member when left out.
    #[serde(default)]
    pub role: Role,
}

/// PUT /api/v1/team/{team_id}/members/{member_id}/role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRoleRequest {
    /// The new role.
    pub role: Role,
}

/// The answer to POST /api/v1/team/{team_id}/members/{member_id}/left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftResponse {
    /// The member, now with `left_at`.
    pub member: TeamMember,
    /// Their devices revoked now.
    pub revoked_devices: Vec<String>,
    /// Their assignments removed from tonight on.
    pub removed_assignments: u32,
}

/// POST /api/v1/team/{team_id}/members/{member_id}/code (body optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IssueCodeRequest {
    /// Minutes until the code expires, 1–1440; 15 when left out.
    #[serde(default)]
    pub ttl_minutes: Option<i64>,
}

/// A one-time enrollment code, for the QR on the leader's screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueCodeResponse {
    /// The member it enrolls.
    pub member_id: String,
    /// The code (single use).
    pub code: String,
    /// The link the QR carries, "https://ward.example/#enroll=CODE".
    pub link: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// A device as the team API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamDevice {
    /// Device id.
    pub id: String,
    /// Its member.
    pub member_id: String,
    /// The member's name.
    pub member_name: String,
    /// When it enrolled.
    pub enrolled_at: String,
    /// Its last request, if any.
    pub last_seen: Option<String>,
    /// Server clock minus device clock at its last push, milliseconds.
    pub clock_offset_ms: Option<i64>,
    /// The offset is larger than [`CLOCK_FLAG_MS`].
    pub clock_off: bool,
    /// Its events 1..=n are all stored.
    pub stored_through: i64,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// GET /api/v1/team/{team_id}/devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DevicesResponse {
    /// The team.
    pub team_id: String,
    /// Its members' devices, oldest enrollment first, revoked ones included.
    pub devices: Vec<TeamDevice>,
}

/// The format of a route file, as the route request names it.
pub use patrol_domain::route_file::RouteFormat;

/// PUT /api/v1/team/{team_id}/route: replaces the team's route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRequest {
    /// How `text` is written.
    pub format: RouteFormat,
    /// The file's text.
    pub text: String,
}

/// The team's route after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteResponse {
    /// The team.
    pub team_id: String,
    /// The checkpoints, in route order.
    pub checkpoints: Vec<Checkpoint>,
}

/// What a change made through the team API was; stable codes on the wire and in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    /// One night's roster replaced.
    #[serde(rename = "roster.night")]
    RosterNight,
    /// A range of nights replaced with a weekly pattern.
    #[serde(rename = "roster.pattern")]
    RosterPattern,
    /// A member added.
    #[serde(rename = "member.add")]
    MemberAdd,
    /// A member's role changed.
    #[serde(rename = "member.role")]
    MemberRole,
    /// A member marked as having left.
    #[serde(rename = "member.left")]
    MemberLeft,
    /// An enrollment code issued.
    #[serde(rename = "member.code")]
    MemberCode,
    /// A device revoked.
    #[serde(rename = "device.revoke")]
    DeviceRevoke,
    /// The route replaced.
    #[serde(rename = "route.replace")]
    RouteReplace,
    /// A night added to or taken off a member's allowance sheet.
    #[serde(rename = "allowance.mark")]
    AllowanceMark,
    /// A month's allowance sheet closed.
    #[serde(rename = "allowance.close")]
    AllowanceClose,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 10] = [
        AuditAction::RosterNight,
        AuditAction::RosterPattern,
        AuditAction::MemberAdd,
        AuditAction::MemberRole,
        AuditAction::MemberLeft,
        AuditAction::MemberCode,
        AuditAction::DeviceRevoke,
        AuditAction::RouteReplace,
        AuditAction::AllowanceMark,
        AuditAction::AllowanceClose,
    ];

    /// The stable code, "roster.night".
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::RosterNight => "roster.night",
            AuditAction::RosterPattern => "roster.pattern",
            AuditAction::MemberAdd => "member.add",
            AuditAction::MemberRole => "member.role",
            AuditAction::MemberLeft => "member.left",
            AuditAction::MemberCode => "member.code",
            AuditAction::DeviceRevoke => "device.revoke",
            AuditAction::RouteReplace => "route.replace",
            AuditAction::AllowanceMark => "allowance.mark",
            AuditAction::AllowanceClose => "allowance.close",
        }
    }

    /// The action with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// One audit record: a change made through the team API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Increasing id (page with `after`).
    pub id: i64,
    /// When, by the server's clock.
    pub at: DateTime<Utc>,
    /// The team changed.
    pub team_id: String,
    /// Who: the member.
    pub member_id: String,
    /// Who: their device.
    pub device_id: String,
    /// What kind of change.
    pub action: AuditAction,
    /// The member, device or team acted on.
    pub target: String,
    /// The change as JSON (never an enrollment code).
    pub change: serde_json::Value,
}

/// GET /api/v1/audit?after=ID&limit=N&team=TEAM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditResponse {
    /// Records after `after`, oldest first.
    pub items: Vec<AuditRecord>,
    /// The `after` to ask with next.
    pub cursor: i64,
    /// More records wait beyond this page.
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::parse_enroll_link;

    #[test]
    fn audit_actions_travel_as_their_codes() {
        for a in super::AuditAction::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), a.code());
            assert_eq!(super::AuditAction::from_code(a.code()), Some(a));
        }
        assert_eq!(super::AuditAction::from_code("member.delete"), None);
    }

    #[test]
    fn enrollment_links() {
        assert_eq!(
            parse_enroll_link("http://127.0.0.1:8080/#enroll=AWJ65YUDLL"),
            Some(("http://127.0.0.1:8080".into(), "AWJ65YUDLL".into()))
        );
        assert_eq!(
            parse_enroll_link("https://phuong.example.vn/app/index.html#enroll=K2"),
            Some(("https://phuong.example.vn".into(), "K2".into()))
        );
        assert_eq!(parse_enroll_link("http://x/#enroll="), None);
        assert_eq!(parse_enroll_link("http://x/#other=1"), None);
        assert_eq!(parse_enroll_link("http://x/#enroll=<script>"), None);
        assert_eq!(parse_enroll_link("no link"), None);
    }
}

/// What a report covers: one team, one ward, or every ward the server holds (a district).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportScope {
    /// One team (`id`: the team; the caller's own when absent).
    Team,
    /// One ward (`id`: the ward; the caller's own when absent).
    Ward,
    /// Every ward on the server (admins).
    District,
}

/// `GET /api/v1/report`: a scope and the evenings `from..=to` (YYYY-MM-DD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Team, ward or district.
    pub scope: ReportScope,
    /// The team or ward; the caller's own when absent.
    pub id: Option<String>,
    /// First evening.
    #[serde(with = "crate::ymd")]
    pub from: chrono::NaiveDate,
    /// Last evening.
    #[serde(with = "crate::ymd")]
    pub to: chrono::NaiveDate,
}

impl ReportQuery {
    /// The query as it travels after `/api/v1/report?`.
    pub fn query_string(&self) -> String {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let scope = match self.scope {
            ReportScope::Team => "team",
            ReportScope::Ward => "ward",
            ReportScope::District => "district",
        };
        let mut q = format!("scope={scope}&from={}&to={}", self.from, self.to);
        if let Some(id) = &self.id {
            q.push_str("&id=");
            q.extend(utf8_percent_encode(id, NON_ALPHANUMERIC));
        }
        q
    }
}

/// A report, with the same figures for as many evenings just before and for the year before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportResponse {
    /// The period asked for.
    pub report: patrol_domain::report::Report,
    /// The totals of the period just before, of the same length.
    pub before: patrol_domain::report::Figures,
    /// The totals of the same evenings a year earlier.
    pub year_before: patrol_domain::report::Figures,
}

/// GET /api/v1/team/{team}/allowance?month=YYYY-MM: a team's night-duty sheet for a month, as
/// worked out now, or as it was closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowanceResponse {
    /// The ward's name, for the sheet's heading.
    pub ward_name: String,
    /// The team.
    pub team_id: String,
    /// The team's name.
    pub team_name: String,
    /// The sheet.
    pub sheet: patrol_domain::allowance::Sheet,
    /// Who closed the month and when; `None` while it is open.
    pub closed: Option<AllowanceClosed>,
}

/// Who closed a month's sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowanceClosed {
    /// The member who closed it.
    pub by: String,
    /// When, by the server's clock.
    pub at: DateTime<Utc>,
}

/// POST /api/v1/team/{team}/allowance/marks: add or take off one member's night, with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowanceMarkRequest {
    /// The member.
    pub member_id: String,
    /// The evening (YYYY-MM-DD); its month is the sheet marked.
    #[serde(with = "crate::ymd")]
    pub night: chrono::NaiveDate,
    /// Add or remove.
    pub kind: patrol_domain::allowance::MarkKind,
    /// Why (1 to 300 characters).
    pub reason: String,
}

/// POST /api/v1/team/{team}/allowance/close: close a month's sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowanceCloseRequest {
    /// The month.
    pub month: patrol_domain::allowance::YearMonth,
}

/// The path of the caller's own line of `month`'s sheet, for both transports.
pub fn my_allowance_path(month: patrol_domain::allowance::YearMonth) -> String {
    format!("/api/v1/allowance/mine?month={month}")
}

/// GET /api/v1/allowance/mine?month=YYYY-MM: the caller's own nights on their team's sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyAllowanceResponse {
    /// The month.
    pub month: patrol_domain::allowance::YearMonth,
    /// Nights paid.
    pub paid: u32,
    /// Nights counted over the cap.
    pub over_cap: u32,
    /// The month's cap.
    pub cap_nights: u32,
    /// The allowance, VND.
    pub allowance_vnd: u64,
    /// True once the leader closed the month.
    pub closed: bool,
}
