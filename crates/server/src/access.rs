//! Who may run a team, decided from the token alone (never from a request body).
//!
//! - A **member** reads their own assignments of their own team, and nothing else of the team API.
//! - A **leader** (or **deputy**, who acts for them with the same rights) runs their own team: roster, members, enrollment codes, devices, route. They may
//!   give the roles member and leader, and act on members who are members or leaders.
//! - An **officer** runs every team of their ward, gives roles up to officer, acts on anyone but
//!   an admin, and reads the ward's audit.
//! - An **admin** runs every team of their ward, gives any role, and reads the ward's audit.
//!
//! Nobody changes their own role or marks themselves as having left (another leader or the
//! officer does), so a team is never left without the person who locked themselves out.
//! Another ward's team is answered 404, exactly as a team that does not exist, so ids of other
//! wards leak nothing; another team of the caller's own ward is 403.

use super::db::enrollment::DeviceAuth;
use super::error::ServerError;
use patrol_domain::ward::Role;

/// How much of a team a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reading the roster: every member of the team (each their own assignments), and whoever
    /// runs it.
    ReadRoster,
    /// Running the team: leaders of the team, officers and admins of the ward.
    Run,
}

/// Refuses `auth` on team `team_id` of ward `team_ward` (`None`: no such team) unless `need` is
/// within its reach.
pub fn team(
    auth: &DeviceAuth,
    team_id: &str,
    team_ward: Option<&str>,
    need: Need,
) -> Result<(), ServerError> {
    if team_ward != Some(auth.ward_id.as_str()) {
        return Err(ServerError::NotFound(format!("team {team_id}")));
    }
    let own = auth.team_id == team_id;
    let ok = match auth.role {
        Role::Member => own && need == Need::ReadRoster,
        Role::Leader | Role::Deputy => own,
        Role::Officer | Role::Admin => true,
    };
    if ok {
        Ok(())
    } else if auth.role == Role::Member {
        Err(ServerError::Forbidden(
            "a member reads only their own assignments; ask the team leader".into(),
        ))
    } else {
        Err(ServerError::Forbidden(format!(
            "a leader runs only their own team, not team {team_id}"
        )))
    }
}

/// Refuses acting on a member who holds `current` (a role change, leaving) unless `auth`'s role
/// may give that role; `new`, if given, is the role to give, which must be within reach too.
/// Nobody acts on themselves.
pub fn on_member(
    auth: &DeviceAuth,
    member_id: &str,
    current: Role,
    new: Option<Role>,
) -> Result<(), ServerError> {
    if member_id == auth.member_id {
        return Err(ServerError::Forbidden(
            "nobody changes their own role or membership; ask another leader or the officer".into(),
        ));
    }
    if auth.role.highest_given().is_none() {
        return Err(ServerError::Forbidden(
            "a member cannot change the team".into(),
        ));
    }
    if !auth.role.may_give(current) {
        return Err(ServerError::Forbidden(format!(
            "a {} cannot change a {}",
            auth.role.code(),
            current.code()
        )));
    }
    may_give(auth.role, new)
}

/// Refuses giving `new` (when given) unless `giver` may give it.
pub fn may_give(giver: Role, new: Option<Role>) -> Result<(), ServerError> {
    let Some(new) = new else { return Ok(()) };
    match giver.highest_given() {
        Some(_) if giver.may_give(new) => Ok(()),
        Some(top) => Err(ServerError::Forbidden(format!(
            "a {} may give the roles up to {}, not {}",
            giver.code(),
            top.code(),
            new.code()
        ))),
        None => Err(ServerError::Forbidden("a member cannot give roles".into())),
    }
}

/// Refuses reading the ward's audit unless `auth` is an officer or admin.
pub fn audit(auth: &DeviceAuth) -> Result<(), ServerError> {
    match auth.role {
        Role::Officer | Role::Admin => Ok(()),
        _ => Err(ServerError::Forbidden(
            "the audit is read by the ward's officers and admins".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(role: Role) -> DeviceAuth {
        DeviceAuth {
            device_id: "d".into(),
            member_id: "me".into(),
            role,
            team_id: "t1".into(),
            ward_id: "w1".into(),
        }
    }

    #[test]
    fn reach_of_each_role_over_teams() {
        use Need::*;
        // (own team, other team of the ward) for each need.
        let cases = [
            (Role::Member, [(true, false), (false, false)]),
            (Role::Deputy, [(true, false), (true, false)]),
            (Role::Leader, [(true, false), (true, false)]),
            (Role::Officer, [(true, true), (true, true)]),
            (Role::Admin, [(true, true), (true, true)]),
        ];
        for (role, want) in cases {
            for (need, (own, other)) in [ReadRoster, Run].into_iter().zip(want) {
                let a = auth(role);
                assert_eq!(
                    team(&a, "t1", Some("w1"), need).is_ok(),
                    own,
                    "{role:?} {need:?}"
                );
                let r = team(&a, "t2", Some("w1"), need);
                assert_eq!(r.is_ok(), other, "{role:?} {need:?}");
                if !other {
                    assert!(matches!(r, Err(ServerError::Forbidden(_))));
                }
                // Another ward's team, or none: 404 for everyone.
                for ward in [Some("w2"), None] {
                    assert!(matches!(
                        team(&a, "t9", ward, need),
                        Err(ServerError::NotFound(_))
                    ));
                }
            }
        }
    }

    #[test]
    fn roles_each_role_may_give() {
        let allowed = |giver: Role| {
            Role::ALL
                .into_iter()
                .filter(|r| may_give(giver, Some(*r)).is_ok())
                .collect::<Vec<_>>()
        };
        assert!(allowed(Role::Member).is_empty());
        // A deputy acts for the leader, with the same rights.
        for runs in [Role::Leader, Role::Deputy] {
            assert_eq!(allowed(runs), [Role::Member, Role::Deputy, Role::Leader]);
        }
        assert_eq!(
            allowed(Role::Officer),
            [Role::Member, Role::Deputy, Role::Leader, Role::Officer]
        );
        assert_eq!(allowed(Role::Admin), Role::ALL);
        // A leader cannot demote an officer, nor anyone act on themselves.
        assert!(on_member(&auth(Role::Leader), "x", Role::Officer, Some(Role::Member)).is_err());
        assert!(on_member(&auth(Role::Officer), "x", Role::Officer, Some(Role::Member)).is_ok());
        assert!(on_member(&auth(Role::Officer), "x", Role::Admin, None).is_err());
        assert!(on_member(&auth(Role::Admin), "me", Role::Admin, Some(Role::Member)).is_err());
        assert!(audit(&auth(Role::Leader)).is_err());
        assert!(audit(&auth(Role::Officer)).is_ok());
    }
}
