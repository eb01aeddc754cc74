//! Who reads what, decided from the token alone: the events a role reaches, and the audience of
//! each feed item. The pull feed's query and the announcements both follow [`Audience::seen_by`].

use crate::db::enrollment::DeviceAuth;
use patrol_domain::ward::Role;

/// How far a role's reading (and following up tips) reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A member: no one's events, only the steps taken on their own observations.
    Own,
    /// A leader: every event of their team; follows up their team's tips.
    Team,
    /// An officer or admin: every event of every team of their ward; follows up any of its tips.
    Ward,
}

impl Reach {
    /// The reach of `role`.
    pub fn of(role: Role) -> Self {
        match role {
            Role::Member => Reach::Own,
            Role::Leader | Role::Deputy => Reach::Team,
            Role::Officer | Role::Admin => Reach::Ward,
        }
    }

    /// The stable code the feed query compares against.
    pub fn code(self) -> &'static str {
        match self {
            Reach::Own => "own",
            Reach::Team => "team",
            Reach::Ward => "ward",
        }
    }
}

/// Who a feed item is for: its team (and that team's ward), whether it is a log item (an event)
/// or a setup, and the one member it is addressed to besides, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// The team the item belongs to.
    pub team_id: String,
    /// That team's ward (the feed table does not keep it: it joins the team when read).
    pub ward_id: String,
    /// An event (read by leaders of the team and officers of the ward), not a setup (read by
    /// everyone of the team).
    pub log: bool,
    /// A member who reads it too, whatever their role (the author of an observation reads the
    /// steps taken on it).
    pub member_id: Option<String>,
}

impl Audience {
    /// A team's setup: everyone of the team.
    pub fn setup(team_id: &str, ward_id: &str) -> Self {
        Audience {
            team_id: team_id.into(),
            ward_id: ward_id.into(),
            log: false,
            member_id: None,
        }
    }

    /// An event pushed by `auth`'s device: the logs of its team.
    pub fn team_log(auth: &DeviceAuth) -> Self {
        Audience {
            team_id: auth.team_id.clone(),
            ward_id: auth.ward_id.clone(),
            log: true,
            member_id: None,
        }
    }

    /// Whether the device behind `auth` reads the item. Nobody reads another ward's items.
    pub fn seen_by(&self, auth: &DeviceAuth) -> bool {
        if self.ward_id != auth.ward_id {
            return false;
        }
        if self.member_id.as_deref() == Some(auth.member_id.as_str()) {
            return true;
        }
        if !self.log {
            return self.team_id == auth.team_id;
        }
        match Reach::of(auth.role) {
            Reach::Own => false,
            Reach::Team => self.team_id == auth.team_id,
            Reach::Ward => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(role: Role, member: &str, team: &str, ward: &str) -> DeviceAuth {
        DeviceAuth {
            device_id: format!("dev-{member}"),
            member_id: member.into(),
            role,
            team_id: team.into(),
            ward_id: ward.into(),
        }
    }

    #[test]
    fn who_reads_what() {
        let setup = Audience::setup("t1", "w1");
        let log = Audience {
            log: true,
            ..setup.clone()
        };
        let step = Audience {
            member_id: Some("m1".into()),
            ..log.clone()
        };
        let other_ward_step = Audience {
            ward_id: "w2".into(),
            ..step.clone()
        };
        let readers = [
            auth(Role::Member, "m1", "t1", "w1"),
            auth(Role::Member, "m2", "t1", "w1"),
            auth(Role::Leader, "l1", "t1", "w1"),
            auth(Role::Leader, "l2", "t2", "w1"),
            auth(Role::Officer, "o1", "t2", "w1"),
            auth(Role::Admin, "a1", "t3", "w1"),
            auth(Role::Officer, "o9", "t9", "w2"),
        ];
        // Per reader: setup of t1, an event of t1, a step on m1's observation, and the same
        // step in ward w2 (read by w2's officer only).
        let want: [[bool; 4]; 7] = [
            [true, false, true, false],
            [true, false, false, false],
            [true, true, true, false],
            [false, false, false, false],
            [false, true, true, false],
            [false, true, true, false],
            [false, false, false, true],
        ];
        for (reader, want) in readers.iter().zip(want) {
            let got = [&setup, &log, &step, &other_ward_step].map(|a| a.seen_by(reader));
            assert_eq!(got, want, "{reader:?}");
        }
    }
}
