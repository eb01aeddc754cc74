//! The team as this device knows it: the events it pulled (a leader's team, a member's own tips)
//! together with its own, read back through the one domain function
//! ([`patrol_domain::review::team_log`]); and the tip steps a leader appends.

use super::{outbox, Store, StoreError};
use crate::sync_state::SyncKey;
use chrono::{DateTime, Utc};
use patrol_domain::review::{team_log, TeamRecord};
pub use patrol_domain::review::{TeamView, Unreadable};
use patrol_domain::tip::{self, outcome, FollowUp, TipState, TipStep};
use patrol_domain::ward::Role;
use patrol_wire::event::{records_of, EventKind};
use serde::{Deserialize, Serialize};

/// What became of a tip, as this device knows it (a member sees the outcome of their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TipOutcome {
    /// The observation.
    pub observation_id: String,
    /// Its steps added up.
    pub state: TipState,
    /// The note of the step shown, if any.
    pub note: Option<String>,
}

/// How many days back a phone's team view reaches: two months of nights.
pub const TEAM_VIEW_DAYS: i64 = 62;

/// The roles that review a team's logs and follow its tips up.
pub fn reviews(role: Option<Role>) -> bool {
    role.is_some_and(Role::sees_logs)
}

impl Store {
    /// The team records this device holds from `since` on, each once: the events pulled from the
    /// ward server and this device's own not yet acknowledged (its acknowledged ones come back in
    /// the feed); those that do not parse are listed apart.
    pub fn team_records(
        &self,
        since: DateTime<Utc>,
    ) -> Result<(Vec<TeamRecord>, Vec<Unreadable>), StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, kind, payload FROM team_event WHERE client_time >= ?1
             UNION ALL
             SELECT event_id, kind, payload FROM outbox
              WHERE sent_at IS NULL AND refused_code IS NULL",
        )?;
        let rows = stmt
            .query_map([since.to_rfc3339()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<(String, String, String)>, _>>()?;
        Ok(records_of(rows))
    }

    /// The outcome of every tip this device has steps for (pulled or its own), by observation.
    pub fn tip_outcomes(&self) -> Result<Vec<TipOutcome>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, payload FROM team_event WHERE kind = ?1
             UNION ALL
             SELECT event_id, payload FROM outbox
              WHERE kind = ?1 AND sent_at IS NULL AND refused_code IS NULL",
        )?;
        let mut by_tip: std::collections::BTreeMap<String, Vec<FollowUp>> = Default::default();
        let mut seen = std::collections::HashSet::new();
        let rows = stmt.query_map([EventKind::TipFollowedUp.code()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (event_id, payload) = row?;
            if !seen.insert(event_id.clone()) {
                continue;
            }
            // An unreadable step is named in the team view ([`Store::team_records`]); here it is
            // left out.
            if let Ok(f) = serde_json::from_str::<FollowUp>(&payload) {
                by_tip.entry(f.observation_id.clone()).or_default().push(f);
            }
        }
        Ok(by_tip
            .into_iter()
            .map(|(observation_id, steps)| {
                let state = outcome(&steps);
                let note = tip::shown(&steps).and_then(|f| f.note.clone());
                TipOutcome {
                    observation_id,
                    state,
                    note,
                }
            })
            .collect())
    }

    /// The team's log over its route, as this device holds it, for the nights of the last
    /// [`TEAM_VIEW_DAYS`] days before `now` (older nights: the server's `team-log` and reports).
    pub fn team_view(&self, now: DateTime<Utc>) -> Result<TeamView, StoreError> {
        let route_len = self.setup()?.map_or(0, |s| s.checkpoints.len());
        let since = now - chrono::Duration::days(TEAM_VIEW_DAYS);
        let (records, unreadable) = self.team_records(since)?;
        Ok(TeamView {
            log: team_log(records, route_len),
            unreadable,
        })
    }

    /// Appends a step on the tip `observation_id`, after the step this device shows for it, with
    /// its event in one transaction. Only a leader, officer or admin may; the step must be
    /// allowed after the one shown ([`tip::check`]); the note is at most 500 characters.
    pub fn follow_up(
        &mut self,
        observation_id: &str,
        step: TipStep,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<FollowUp, StoreError> {
        if !reviews(self.role()?) {
            return Err(StoreError::NotReviewer);
        }
        let by = self
            .sync_value(SyncKey::MemberId)?
            .ok_or(StoreError::NotReviewer)?;
        let view = self.team_view(now)?;
        let tip = view
            .log
            .tips
            .iter()
            .find(|t| t.observation.id == observation_id)
            .ok_or_else(|| StoreError::Unknown {
                what: "observation",
                id: observation_id.into(),
            })?;
        // The step this one follows: the one shown, the highest-ranked (see tip::outcome).
        let after = tip::shown(&tip.steps).map(|f| f.id.clone());
        let f = FollowUp {
            id: super::records::new_id(),
            observation_id: observation_id.into(),
            step,
            note: tip::note(note)?,
            by,
            after,
            at: now,
        };
        tip::check(&tip.steps, &f)?;
        let tx = self.conn.transaction()?;
        outbox::append(&tx, EventKind::TipFollowedUp, &f.id, &f, now)?;
        tx.commit()?;
        Ok(f)
    }
}
