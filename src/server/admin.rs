//! The commands a ward's administrator runs beside the server: wards, teams, members, shifts,
//! routes, enrollment codes, devices and epochs. Each is one call on [`ServerDb`].

use super::db::ServerDb;
use super::error::ServerError;
use super::import::checkpoints_from_file;
use crate::domain::shift::ShiftSlot;
use crate::domain::ward::{Member, Role, Team, Ward};
use crate::wire::api::CLOCK_FLAG_MS;
use chrono::{Duration, Utc};
use clap::{Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

/// A member's role as typed on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Tổ viên.
    Member,
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
    /// Revoke a device: its next request is refused.
    RevokeDevice { id: String },
    /// Give the database a new epoch after restoring it from a backup: devices re-send what they hold.
    NewEpoch,
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

fn parse_slot(s: &str) -> Result<ShiftSlot, ServerError> {
    let bad = || ServerError::Invalid(format!("'{s}': write slots as code=HH:MM-HH:MM"));
    let (code, span) = s.split_once('=').ok_or_else(bad)?;
    let (a, b) = span.split_once('-').ok_or_else(bad)?;
    ShiftSlot::new(code, a, b).map_err(|e| ServerError::Invalid(format!("'{s}': {e}")))
}

/// Runs one command on the database.
pub fn run(db: &mut ServerDb, cmd: AdminCommand) -> Result<(), ServerError> {
    match cmd {
        AdminCommand::CreateWard {
            id,
            name,
            tz,
            police_phone,
        } => {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                return Err(ServerError::Invalid(format!("unknown time zone {tz}")));
            }
            db.upsert_ward(&Ward {
                id,
                name,
                tz,
                police_phone,
                demo: false,
            })
        }
        AdminCommand::CreateTeam {
            ward,
            id,
            name,
            leader_phone,
        } => db.upsert_team(
            &ward,
            &Team {
                id,
                name,
                leader_phone,
                slots: crate::domain::shift::default_slots(),
            },
        ),
        AdminCommand::AddMember {
            team,
            id,
            name,
            role,
        } => db.upsert_member(
            &team,
            &Member {
                id,
                name,
                role: role.into(),
            },
        ),
        AdminCommand::SetSlots { team, slots } => {
            let parsed = slots
                .iter()
                .map(|s| parse_slot(s))
                .collect::<Result<Vec<_>, _>>()?;
            db.set_slots(&team, &parsed)
        }
        AdminCommand::ImportCheckpoints { team, file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| ServerError::Invalid(format!("reading {}: {e}", file.display())))?;
            let cps = checkpoints_from_file(&file.to_string_lossy(), &text)?;
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
                return Err(ServerError::Invalid(
                    "--ttl-hours must be between 1 and 720".into(),
                ));
            }
            let code = db.issue_code(&member, Duration::hours(ttl_hours), Utc::now())?;
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
            db.revoke(&id, Utc::now())?;
            println!("Device {id} revoked.");
            Ok(())
        }
        AdminCommand::NewEpoch => {
            println!("New epoch {}", db.new_epoch()?);
            Ok(())
        }
    }
}
