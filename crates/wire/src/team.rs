//! The team API as the phone calls it: one typed call per endpoint of docs/api.md's "team API",
//! with its method, path and body, and the answer it expects, parsed into a typed value.

use super::api::{
    AddMemberRequest, AllowanceCloseRequest, AllowanceMarkRequest, AllowanceResponse,
    AuditResponse, DevicesResponse, IssueCodeRequest, IssueCodeResponse, LeftResponse,
    MembersResponse, RosterNightRequest, RosterPatternRequest, RosterResponse,
    RosterStatusResponse, RouteRequest, RouteResponse, SetRoleRequest, TeamDevice, TeamMember,
};
use chrono::NaiveDate;
use patrol_domain::allowance::YearMonth;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};

/// One call of the team API on the caller's team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "call")]
pub enum TeamCall {
    /// The team's members, those who left last.
    Members,
    /// Add a member.
    AddMember(AddMemberRequest),
    /// Change a member's role.
    SetRole {
        /// The member.
        member_id: String,
        /// The new role.
        req: SetRoleRequest,
    },
    /// Mark a member as having left the team (their records stay).
    Left {
        /// The member.
        member_id: String,
    },
    /// A one-time enrollment code (and link) for a member's phone.
    IssueCode {
        /// The member.
        member_id: String,
        /// How long it lives.
        req: IssueCodeRequest,
    },
    /// The team's devices, revoked ones included.
    Devices,
    /// Revoke a device.
    Revoke {
        /// The device.
        device_id: String,
    },
    /// The roster of nights `from`..=`to`.
    Roster {
        /// First night.
        from: NaiveDate,
        /// Last night, included.
        to: NaiveDate,
    },
    /// Who is due tonight, missed slots, members absent for `absent_nights`.
    RosterStatus {
        /// The window for "absent".
        absent_nights: u32,
    },
    /// Replace one night's roster.
    PlanNight(RosterNightRequest),
    /// Replace a range of nights with a weekly pattern.
    PlanPattern(RosterPatternRequest),
    /// Replace the route (GeoJSON or CSV).
    Route(RouteRequest),
    /// The team's audit records after id `after`, oldest first (officers and admins).
    Audit {
        /// The last id already read (0: from the start).
        after: i64,
    },
    /// The night-duty sheet of a month.
    Allowance {
        /// The month.
        month: YearMonth,
    },
    /// Add or take off one member's night on the sheet, with a reason.
    AllowanceMark(AllowanceMarkRequest),
    /// Close a month's sheet.
    AllowanceClose(AllowanceCloseRequest),
}

/// The HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads.
    Get,
    /// Creates or acts.
    Post,
    /// Replaces.
    Put,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// What a team call answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer")]
pub enum TeamAnswer {
    /// The members.
    Members(MembersResponse),
    /// One member, as changed.
    Member(TeamMember),
    /// A member who left, and what went with them.
    Left(LeftResponse),
    /// A fresh enrollment code.
    Code(IssueCodeResponse),
    /// The devices.
    Devices(DevicesResponse),
    /// One device, as revoked.
    Device(TeamDevice),
    /// A roster range.
    Roster(RosterResponse),
    /// The morning view of the roster.
    Status(RosterStatusResponse),
    /// The route as saved.
    Route(RouteResponse),
    /// A page of audit records.
    Audit(AuditResponse),
    /// A month's night-duty sheet.
    Allowance(Box<AllowanceResponse>),
}

/// What a path segment keeps as is: letters, digits, '-' and '_' (a '/' or ".." never escapes).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// Percent-encodes an id for a path segment.
fn seg(id: &str) -> String {
    utf8_percent_encode(id, SEGMENT).to_string()
}

impl TeamCall {
    /// Whether the call changes something on the server (then the phone syncs after it).
    pub fn changes(&self) -> bool {
        self.method() != Method::Get
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        match self {
            TeamCall::Members
            | TeamCall::Devices
            | TeamCall::Roster { .. }
            | TeamCall::RosterStatus { .. }
            | TeamCall::Audit { .. }
            | TeamCall::Allowance { .. } => Method::Get,
            TeamCall::AllowanceMark(_) | TeamCall::AllowanceClose(_) => Method::Post,
            TeamCall::AddMember(_)
            | TeamCall::Left { .. }
            | TeamCall::IssueCode { .. }
            | TeamCall::Revoke { .. } => Method::Post,
            TeamCall::SetRole { .. }
            | TeamCall::PlanNight(_)
            | TeamCall::PlanPattern(_)
            | TeamCall::Route(_) => Method::Put,
        }
    }

    /// The path on the ward server, with the query.
    pub fn path(&self, team_id: &str) -> String {
        let t = format!("/api/v1/team/{}", seg(team_id));
        match self {
            TeamCall::Members | TeamCall::AddMember(_) => format!("{t}/members"),
            TeamCall::SetRole { member_id, .. } => format!("{t}/members/{}/role", seg(member_id)),
            TeamCall::Left { member_id } => format!("{t}/members/{}/left", seg(member_id)),
            TeamCall::IssueCode { member_id, .. } => {
                format!("{t}/members/{}/code", seg(member_id))
            }
            TeamCall::Devices => format!("{t}/devices"),
            TeamCall::Revoke { device_id } => format!("{t}/devices/{}/revoke", seg(device_id)),
            TeamCall::Roster { from, to } => format!("{t}/roster?from={from}&to={to}"),
            TeamCall::RosterStatus { absent_nights } => {
                format!("{t}/roster/status?absent_nights={absent_nights}")
            }
            TeamCall::PlanNight(_) => format!("{t}/roster/night"),
            TeamCall::PlanPattern(_) => format!("{t}/roster/pattern"),
            TeamCall::Route(_) => format!("{t}/route"),
            TeamCall::Allowance { month } => format!("{t}/allowance?month={month}"),
            TeamCall::AllowanceMark(_) => format!("{t}/allowance/marks"),
            TeamCall::AllowanceClose(_) => format!("{t}/allowance/close"),
            TeamCall::Audit { after } => {
                format!(
                    "/api/v1/audit?after={after}&limit=200&team={}",
                    seg(team_id)
                )
            }
        }
    }

    /// The JSON body, if the call has one.
    pub fn body(&self) -> Option<serde_json::Value> {
        let v = match self {
            TeamCall::AddMember(r) => serde_json::to_value(r),
            TeamCall::SetRole { req, .. } => serde_json::to_value(req),
            TeamCall::IssueCode { req, .. } => serde_json::to_value(req),
            TeamCall::PlanNight(r) => serde_json::to_value(r),
            TeamCall::PlanPattern(r) => serde_json::to_value(r),
            TeamCall::Route(r) => serde_json::to_value(r),
            TeamCall::AllowanceMark(r) => serde_json::to_value(r),
            TeamCall::AllowanceClose(r) => serde_json::to_value(r),
            _ => return None,
        };
        Some(v.expect("team requests serialise"))
    }

    /// Parses the server's answer to this call.
    pub fn answer(&self, body: serde_json::Value) -> Result<TeamAnswer, serde_json::Error> {
        use serde_json::from_value as parse;
        Ok(match self {
            TeamCall::Members => TeamAnswer::Members(parse(body)?),
            TeamCall::AddMember(_) | TeamCall::SetRole { .. } => TeamAnswer::Member(parse(body)?),
            TeamCall::Left { .. } => TeamAnswer::Left(parse(body)?),
            TeamCall::IssueCode { .. } => TeamAnswer::Code(parse(body)?),
            TeamCall::Devices => TeamAnswer::Devices(parse(body)?),
            TeamCall::Revoke { .. } => TeamAnswer::Device(parse(body)?),
            TeamCall::Roster { .. } | TeamCall::PlanNight(_) | TeamCall::PlanPattern(_) => {
                TeamAnswer::Roster(parse(body)?)
            }
            TeamCall::RosterStatus { .. } => TeamAnswer::Status(parse(body)?),
            TeamCall::Route(_) => TeamAnswer::Route(parse(body)?),
            TeamCall::Audit { .. } => TeamAnswer::Audit(parse(body)?),
            TeamCall::Allowance { .. }
            | TeamCall::AllowanceMark(_)
            | TeamCall::AllowanceClose(_) => TeamAnswer::Allowance(Box::new(parse(body)?)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_methods_and_bodies_follow_the_api() {
        let c = TeamCall::Revoke {
            device_id: "dev-1".into(),
        };
        assert_eq!(c.method(), Method::Post);
        assert_eq!(c.path("t1"), "/api/v1/team/t1/devices/dev-1/revoke");
        assert_eq!(c.body(), None);
        assert!(c.changes());
        let r = TeamCall::RosterStatus { absent_nights: 14 };
        assert_eq!(
            r.path("t1"),
            "/api/v1/team/t1/roster/status?absent_nights=14"
        );
        assert!(!r.changes());
        // An id cannot climb out of its segment.
        let odd = TeamCall::Left {
            member_id: "../x".into(),
        };
        assert_eq!(odd.path("t1"), "/api/v1/team/t1/members/%2E%2E%2Fx/left");
    }
}
