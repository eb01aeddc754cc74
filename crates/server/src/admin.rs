//! The commands a ward's administrator runs beside the server: wards, teams, members, shifts,
//! routes, enrollment codes, devices and epochs, backup and restore. Each is one call on
//! [`ServerDb`] or [`backup`].

use super::db::backup::{self, BackupError};
use super::db::setup::Edit;
use super::db::ServerDb;
use super::error::ServerError;
use chrono::{Duration, Utc};
use clap::{Subcommand, ValueEnum};
use patrol_domain::allowance::{AllowanceRules, MonthlySupport};
use patrol_domain::route_file::{self, RouteFormat};
use patrol_domain::shift::{format_clock, parse_clock, ShiftSlot};
use patrol_domain::ward::{Member, Role, Team, Ward, DEFAULT_PHOTO_KEEP_DAYS};
use patrol_wire::api::CLOCK_FLAG_MS;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why an admin command failed.
#[derive(Debug, Error)]
pub enum AdminError {
    /// The database refused or failed.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// A backup or restore was refused or failed.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// An enrollment link members could not use.
    #[error("--public-url {url}: {why}")]
    PublicUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be used.
        why: String,
    },
}

/// A member's role as typed on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Tổ viên.
    Member,
    /// Tổ phó (deputy leader).
    Deputy,
    /// Tổ trưởng.
    Leader,
    /// Ward police officer.
    Officer,
    /// Server administrator.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Member => Role::Member,
            RoleArg::Deputy => Role::Deputy,
            RoleArg::Leader => Role::Leader,
            RoleArg::Officer => Role::Officer,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// The administrator's commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create or change a ward (the change reaches every phone of its teams).
    CreateWard {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Asia/Ho_Chi_Minh")]
        tz: String,
        /// Ward police duty phone.
        #[arg(long)]
        police_phone: String,
        /// Days a phone keeps a full-size photo after the server has it (0 to 365; 0: drop it
        /// at once); thumbnails always stay.
        #[arg(long, default_value_t = DEFAULT_PHOTO_KEEP_DAYS)]
        photo_keep_days: u16,
    },
    /// Create or update a team (default shifts: ca1 20:00–24:00, ca2 24:00–04:00).
    CreateTeam {
        #[arg(long)]
        ward: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        leader_phone: String,
    },
    /// Add or update a member.
    AddMember {
        #[arg(long)]
        team: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "member")]
        role: RoleArg,
    },
    /// Set a ward's night-duty allowance rules (defaults: Hồ Chí Minh City's, late 2025).
    SetAllowance {
        #[arg(long)]
        ward: String,
        /// The window's start, HH:MM.
        #[arg(long, default_value_t = format_clock(AllowanceRules::default().window_start_min, false))]
        window_start: String,
        /// The window's end, HH:MM (the next morning when not after the start).
        #[arg(long, default_value_t = format_clock(AllowanceRules::default().window_end_min, true))]
        window_end: String,
        /// Least minutes on duty inside the window for a night to count.
        #[arg(long, default_value_t = AllowanceRules::default().min_minutes)]
        min_minutes: u32,
        /// Most nights paid a month (1 to 31).
        #[arg(long, default_value_t = AllowanceRules::default().cap_nights)]
        cap_nights: u32,
        /// VND for each night paid.
        #[arg(long, default_value_t = AllowanceRules::default().rate_vnd)]
        rate_vnd: u64,
        /// Monthly support of a leader, VND.
        #[arg(long, default_value_t = AllowanceRules::default().support.leader_vnd)]
        leader_support_vnd: u64,
        /// Monthly support of a deputy, VND.
        #[arg(long, default_value_t = AllowanceRules::default().support.deputy_vnd)]
        deputy_support_vnd: u64,
        /// Monthly support of a member, VND.
        #[arg(long, default_value_t = AllowanceRules::default().support.member_vnd)]
        member_support_vnd: u64,
    },
    /// Set a team's shifts, e.g. ca1=20:00-24:00 ca2=24:00-04:00.
    SetSlots {
        #[arg(long)]
        team: String,
        #[arg(required = true)]
        slots: Vec<String>,
    },
    /// Replace a team's route from a GeoJSON or CSV file (name,lat,lon[,radius_m,id,qr_code]).
    ImportCheckpoints {
        #[arg(long)]
        team: String,
        file: PathBuf,
    },
    /// Issue a one-time enrollment code for a member: a link, a QR in the terminal, and an SVG.
    IssueCode {
        #[arg(long)]
        member: String,
        /// Hours until the code expires.
        #[arg(long, default_value_t = 24)]
        ttl_hours: i64,
        /// The https:// address members open (plain http:// only for localhost tests).
        #[arg(long, env = "WARD_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// Also write the QR code as SVG here.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// List a ward's devices.
    ListDevices {
        #[arg(long)]
        ward: String,
    },
    /// Print a team's shift logs (timeline, members, gaps, handover) and its tips with their
    /// outcome, read by the same function as the leader's phone.
    TeamLog {
        #[arg(long)]
        team: String,
        /// Only this patrol night (the evening's date, YYYY-MM-DD).
        #[arg(long)]
        night: Option<chrono::NaiveDate>,
    },
    /// Revoke a device: its next request is refused.
    RevokeDevice { id: String },
    /// Give the database a new epoch after restoring it from a backup: devices re-send what they hold.
    NewEpoch,
    /// Write a consistent copy of the database to FILE while the server keeps serving.
    Backup {
        /// The backup file to write (refused if it exists, unless --force).
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the database with the backup FILE and start a new epoch; stop the server first.
    ///
    /// Devices and enrollment codes that exist only in the replaced database are kept (with their
    /// member, team and ward if the backup lacks them), as are newer tokens and revocations, so no
    /// phone enrolls again; phones re-send what they hold, and the server stores each event once.
    /// The replaced database is kept as ward.db.before-restore-<time> in the data directory.
    Restore {
        /// The backup file to restore (it is not changed).
        file: PathBuf,
    },
}

/// Refuses a public URL a phone could not use the app from: the link must be https://, except on
/// this computer (localhost, 127.0.0.1, ::1), where browsers allow plain http.
pub fn check_public_url(public_url: &str) -> Result<(), AdminError> {
    let refuse = |why: &str| AdminError::PublicUrl {
        url: public_url.to_string(),
        why: why.to_string(),
    };
    let url = reqwest::Url::parse(public_url).map_err(|e| {
        refuse(&format!(
            "not a URL ({e}); give the https:// address members open"
        ))
    })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = url.host_str().unwrap_or("");
            let local = match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
                Ok(ip) => ip.is_loopback(),
                Err(_) => host.eq_ignore_ascii_case("localhost"),
            };
            if local {
                Ok(())
            } else {
                Err(refuse(
                    "plain http:// is only allowed for localhost. Phones allow storage, the service \
                     worker and location only on https:// pages, so a member could not use the app \
                     from this link; give the https:// address members open",
                ))
            }
        }
        other => Err(refuse(&format!(
            "a {other}: link cannot be opened as the app; give the https:// address members open"
        ))),
    }
}

/// The enrollment link a phone opens.
pub fn enroll_link(public_url: &str, code: &str) -> String {
    format!("{}/#enroll={code}", public_url.trim_end_matches('/'))
}

/// Prints an enrollment link with its QR code, and writes the QR as SVG to `svg` if given.
pub fn print_code(public_url: &str, code: &str, svg: Option<&Path>) -> Result<(), ServerError> {
    let link = enroll_link(public_url, code);
    let qr = qrcode::QrCode::new(link.as_bytes())
        .map_err(|e| ServerError::Invalid(format!("making the QR code: {e}")))?;
    println!(
        "{}",
        qr.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build()
    );
    println!("Enrollment link (one use): {link}");
    if let Some(path) = svg {
        std::fs::write(
            path,
            qr.render::<qrcode::render::svg::Color>()
                .min_dimensions(256, 256)
                .build(),
        )
        .map_err(|e| ServerError::Invalid(format!("writing {}: {e}", path.display())))?;
        println!("QR code written to {}", path.display());
    }
    Ok(())
}

/// What an edit did, in one line for the administrator: `what` created, changed (and how), or
/// already so.
fn edit_text(what: &str, edit: &Edit) -> String {
    match edit {
        Edit::Created => format!("{what}: created."),
        Edit::Changed(how) => format!("{what}: changed ({}).", how.join(", ")),
        Edit::Unchanged => format!("{what}: already so; nothing changed."),
    }
}

fn parse_slot(s: &str) -> Result<ShiftSlot, ServerError> {
    let bad = || ServerError::Invalid(format!("'{s}': write slots as code=HH:MM-HH:MM"));
    let (code, span) = s.split_once('=').ok_or_else(bad)?;
    let (a, b) = span.split_once('-').ok_or_else(bad)?;
    ShiftSlot::new(code, a, b).map_err(|e| ServerError::Invalid(format!("'{s}': {e}")))
}

/// Runs one command on the database.
pub fn run(db: &mut ServerDb, cmd: AdminCommand) -> Result<(), AdminError> {
    match cmd {
        AdminCommand::CreateWard {
            id,
            name,
            tz,
            police_phone,
            photo_keep_days,
        } => {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                return Err(ServerError::Invalid(format!("unknown time zone {tz}")).into());
            }
            Ok(db.upsert_ward(&Ward {
                id,
                name,
                tz,
                police_phone,
                demo: false,
                photo_keep_days,
            })?)
        }
        AdminCommand::CreateTeam {
            ward,
            id,
            name,
            leader_phone,
        } => {
            let edit = db.upsert_team(
                &ward,
                &Team {
                    id: id.clone(),
                    name: name.clone(),
                    leader_phone,
                    slots: patrol_domain::shift::default_slots(),
                },
            )?;
            println!(
                "{}",
                edit_text(&format!("Team {id} ({name}) of ward {ward}"), &edit)
            );
            Ok(())
        }
        AdminCommand::AddMember {
            team,
            id,
            name,
            role,
        } => {
            let role: Role = role.into();
            let edit = db.upsert_member(
                &team,
                &Member {
                    id: id.clone(),
                    name: name.clone(),
                    role,
                },
            )?;
            println!(
                "{}",
                edit_text(
                    &format!("Member {id} ({name}, {}) of team {team}", role.code()),
                    &edit
                )
            );
            Ok(())
        }
        AdminCommand::SetAllowance {
            ward,
            window_start,
            window_end,
            min_minutes,
            cap_nights,
            rate_vnd,
            leader_support_vnd,
            deputy_support_vnd,
            member_support_vnd,
        } => {
            // "24:00" is midnight, as in a shift slot.
            let clock = |t: &str| {
                parse_clock(t)
                    .map(|m| m % (24 * 60))
                    .map_err(|e| ServerError::Invalid(e.to_string()))
            };
            let rules = db.set_allowance_rules(
                &ward,
                AllowanceRules {
                    window_start_min: clock(&window_start)?,
                    window_end_min: clock(&window_end)?,
                    min_minutes,
                    cap_nights,
                    rate_vnd,
                    support: MonthlySupport {
                        leader_vnd: leader_support_vnd,
                        deputy_vnd: deputy_support_vnd,
                        member_vnd: member_support_vnd,
                    },
                },
            )?;
            println!(
                "Ward {ward}: nights on duty {window_start}–{window_end} for at least {} min, \
                 at most {} a month, {} VND a night",
                rules.min_minutes, rules.cap_nights, rules.rate_vnd
            );
            Ok(())
        }
        AdminCommand::SetSlots { team, slots } => {
            let parsed = slots
                .iter()
                .map(|s| parse_slot(s))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(db.set_slots(&team, &parsed)?)
        }
        AdminCommand::ImportCheckpoints { team, file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| ServerError::Invalid(format!("reading {}: {e}", file.display())))?;
            let cps = route_file::read(RouteFormat::of_file(&file.to_string_lossy()), &text)
                .map_err(ServerError::from)?;
            db.set_route(&team, &cps)?;
            println!("Imported {} checkpoints into team {team}", cps.len());
            Ok(())
        }
        AdminCommand::IssueCode {
            member,
            ttl_hours,
            public_url,
            svg,
        } => {
            if !(1..=24 * 30).contains(&ttl_hours) {
                return Err(
                    ServerError::Invalid("--ttl-hours must be between 1 and 720".into()).into(),
                );
            }
            check_public_url(&public_url)?;
            let code = db.issue_code(&member, Duration::hours(ttl_hours), patrol_clock::now())?;
            print_code(&public_url, &code, svg.as_deref())?;
            println!("Expires in {ttl_hours} h.");
            Ok(())
        }
        AdminCommand::ListDevices { ward } => {
            println!(
                "{:<38} {:<24} {:>8} {:>10}  state",
                "device", "member", "stored", "clock ms"
            );
            for d in db.devices(&ward)? {
                let state = match (&d.revoked_at, &d.last_seen) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(seen)) => format!("last seen {seen}"),
                    (None, None) => format!("enrolled {}", d.enrolled_at),
                };
                let offset = match d.clock_offset_ms {
                    Some(o) if o.abs() > CLOCK_FLAG_MS => format!("{o} CLOCK OFF"),
                    Some(o) => o.to_string(),
                    None => "-".into(),
                };
                println!(
                    "{:<38} {:<24} {:>8} {:>10}  {state}",
                    d.id, d.member, d.stored_through, offset
                );
            }
            Ok(())
        }
        AdminCommand::RevokeDevice { id } => {
            db.revoke(&id, patrol_clock::now())?;
            println!("Device {id} revoked.");
            Ok(())
        }
        AdminCommand::TeamLog { team, night } => {
            print!("{}", team_log_text(db, &team, night, patrol_clock::now())?);
            Ok(())
        }
        AdminCommand::NewEpoch => {
            println!("New epoch {}", db.new_epoch()?);
            Ok(())
        }
        AdminCommand::Backup { file, force } => {
            let started = std::time::Instant::now();
            let r = backup::backup(db.conn(), &file, force)?;
            println!(
                "Backup written to {} ({} events, {} bytes, {:.1} s).",
                r.path.display(),
                r.events,
                r.bytes,
                started.elapsed().as_secs_f64()
            );
            println!(
                "Photos in {}: {} file(s), {} new.",
                crate::db::backup_photos::beside(&file).display(),
                r.photos.written + r.photos.present,
                r.photos.written
            );
            if !r.photos.missing.is_empty() {
                println!(
                    "{} stored photo file(s) are missing from the data directory and are not in the backup.",
                    r.photos.missing.len()
                );
            }
            Ok(())
        }
        AdminCommand::Restore { file } => {
            let live = db.path().to_path_buf();
            db.release()?;
            let r = backup::restore(&live, &file, patrol_clock::now())?;
            println!(
                "Restored {} ({} events) into {}; new epoch {}: phones re-send what they hold.",
                file.display(),
                r.events,
                live.display(),
                r.epoch
            );
            if let Some(kept) = &r.kept {
                println!("The replaced database is kept as {}.", kept.display());
            }
            println!(
                "Put back {} photo file(s) from {}; {} were there already.",
                r.photos.written,
                crate::db::backup_photos::beside(&file).display(),
                r.photos.present
            );
            if !r.photos.missing.is_empty() {
                println!(
                    "{} photo file(s) were found nowhere and are marked as not uploaded: the phones that hold them upload them again.",
                    r.photos.missing.len()
                );
            }
            if r.history_known {
                println!(
                    "Kept {} device(s) and {} member(s) enrolled after the backup; new feed items start above cursor {}.",
                    r.devices_carried, r.members_carried, r.feed_cursor_floor
                );
            } else {
                println!(
                    "No database here carried on from the backup: new feed items start above cursor {}, past any cursor a phone holds. \
                     Phones enrolled (or enrolled again) after the backup are not known: they say so and must be enrolled again, keeping what they recorded. \
                     Devices revoked and members who left after the backup are as the backup has them: check list-devices and revoke again.",
                    r.feed_cursor_floor
                );
            }
            Ok(())
        }
    }
}

/// A team's logs as plain text for the administrator (times in the ward's zone).
pub fn team_log_text(
    db: &ServerDb,
    team: &str,
    night: Option<chrono::NaiveDate>,
    now: chrono::DateTime<Utc>,
) -> Result<String, AdminError> {
    use patrol_domain::records::{CheckInMethod, LogEntry};
    use patrol_domain::review::{gaps, slot_end, Gap};
    use std::fmt::Write as _;
    let view = db.team_view(team)?;
    let setup = db.team_setup(team)?;
    // create-ward refuses a zone that does not parse.
    let tz = super::db::team::tz_of(&setup.ward.tz);
    let at = |t: chrono::DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    let name = |id: &str| {
        setup
            .members
            .iter()
            .find(|m| m.id == id)
            .map_or(id.to_string(), |m| m.name.clone())
    };
    let route: Vec<String> = setup.checkpoints.iter().map(|c| c.id.clone()).collect();
    let mut out = String::new();
    let shifts: Vec<_> = view
        .log
        .shifts
        .iter()
        .filter(|l| night.is_none_or(|n| l.shift.night == n))
        .collect();
    let waiting = view.log.tips.iter().filter(|t| t.state.waiting()).count();
    let _ = writeln!(
        out,
        "Team {team}: {} shifts, {waiting} tips waiting, {} unreadable events",
        shifts.len(),
        view.unreadable.len()
    );
    for u in &view.unreadable {
        let _ = writeln!(out, "  unreadable event {}: {}", u.event_id, u.detail);
    }
    for log in shifts {
        let s = &log.shift;
        let members: Vec<String> = s.members_present.iter().map(|m| name(m)).collect();
        let _ = writeln!(
            out,
            "\nnight {} {}  started {}  {}  present: {}",
            s.night,
            s.slot_code,
            at(s.started_at),
            s.ended_at
                .map_or("not ended".into(), |e| format!("ended {}", at(e))),
            members.join(", ")
        );
        for e in &log.entries {
            let line = match e {
                LogEntry::CheckIn(c) => format!(
                    "{} check-in {} {}{}{}",
                    at(c.at),
                    c.checkpoint_id,
                    c.method.code(),
                    if c.verified {
                        " verified"
                    } else {
                        " unverified"
                    },
                    match (c.method, c.distance_m, &c.fix, &c.reason) {
                        (CheckInMethod::Manual, _, _, Some(r)) => format!(" ({r})"),
                        (_, Some(d), Some(f), _) => format!(" {d:.0} m ±{:.0} m", f.accuracy_m),
                        _ => String::new(),
                    }
                ),
                LogEntry::Observation(o) => format!(
                    "{} observation {}{}{}",
                    at(o.at),
                    o.category.code(),
                    if o.urgent { " URGENT" } else { "" },
                    o.description
                        .as_deref()
                        .map_or(String::new(), |d| format!(": {d}"))
                ),
                LogEntry::Correction(c) => {
                    format!("{} correction of {}: {}", at(c.at), c.target_id, c.text)
                }
            };
            let _ = writeln!(out, "  {line}");
        }
        for g in gaps(log, &route, slot_end(&setup.team.slots, s, tz), now) {
            let gap = match g {
                Gap::NeverVisited { checkpoint_id } => format!("never visited {checkpoint_id}"),
                Gap::Quiet { from, to } => format!("nothing recorded {}–{}", at(from), at(to)),
                Gap::NotEnded => "never ended".into(),
            };
            let _ = writeln!(out, "  gap: {gap}");
        }
        if let Some(n) = &s.handover_note {
            let _ = writeln!(out, "  handover: {n}");
        }
    }
    let _ = writeln!(out, "\ntips:");
    for t in view
        .log
        .tips
        .iter()
        .filter(|t| night.is_none_or(|n| t.night == n))
    {
        let steps: Vec<String> = t
            .steps
            .iter()
            .map(|f| format!("{} {} by {}", at(f.at), f.step.code(), name(&f.by)))
            .collect();
        let _ = writeln!(
            out,
            "  {} {} {}{}: {}{}",
            t.night,
            at(t.observation.at),
            t.observation.category.code(),
            if t.observation.urgent { " URGENT" } else { "" },
            t.state.outcome.map_or("waiting", |s| s.code()),
            if steps.is_empty() {
                String::new()
            } else {
                format!(" ({})", steps.join("; "))
            }
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_links_are_refused_except_on_this_computer() {
        for ok in [
            "https://tuantra.example.vn",
            "https://10.0.0.5:8443/",
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
        ] {
            assert!(check_public_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://tuantra.example.vn",
            "http://192.168.1.20:8080",
            "http://0.0.0.0:8080",
            "http://[fe80::1]:8080",
        ] {
            let err = check_public_url(bad).unwrap_err().to_string();
            assert!(err.contains("https://"), "{err}");
            assert!(err.contains("service worker"), "{err}");
            assert!(err.contains(bad), "{err}");
        }
        assert!(check_public_url("ftp://x").is_err());
        assert!(check_public_url("tuantra.example.vn").is_err());
    }
}
