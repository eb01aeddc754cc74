//! The ward server: `serve` runs the sync API and the PWA; the other commands administer the ward.

use anyhow::{bail, Context, Result};
use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};
use patrol::domain::shift::ShiftSlot;
use patrol::domain::ward::{Member, Team, Ward, WardSetup};
use patrol::server::db::ServerDb;
use patrol::server::http::{self, Limit, Limits, Shared};
use patrol::server::import::checkpoints_from_file;
use patrol::service::handle::DEMO_WARD;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ward-server",
    version,
    about = "Ward server for the patrol companion"
)]
struct Cli {
    /// Where the database lives.
    #[arg(long, env = "WARD_DATA", default_value = "ward-data", global = true)]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API and the web app.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "WARD_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// The built web app (make web).
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
        /// On first start with no ward, create the demo ward and print an enrollment link.
        #[arg(long)]
        demo: bool,
        /// The address members open, for links and QR codes.
        #[arg(long, env = "WARD_PUBLIC_URL")]
        public_url: Option<String>,
        /// Enrollment attempts one address may make at once (then one per 5 s).
        #[arg(long, default_value_t = 10.0)]
        enroll_burst: f64,
        /// Pushes per second one device may make (bursts of twice that).
        #[arg(long, default_value_t = 20.0)]
        push_rate: f64,
    },
    /// Create or rename a ward.
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
    /// Add or update a member: role member, leader, officer or admin.
    AddMember {
        #[arg(long)]
        team: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "member")]
        role: String,
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

fn enroll_link(public_url: &str, code: &str) -> String {
    format!("{}/#enroll={code}", public_url.trim_end_matches('/'))
}

fn print_code(public_url: &str, code: &str, svg: Option<&PathBuf>) -> Result<()> {
    let link = enroll_link(public_url, code);
    let qr = qrcode::QrCode::new(link.as_bytes()).context("making the QR code")?;
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
        .with_context(|| format!("writing {}", path.display()))?;
        println!("QR code written to {}", path.display());
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut db = ServerDb::open(&cli.data)
        .with_context(|| format!("opening the database in {}", cli.data.display()))?;
    match cli.command {
        Command::Serve {
            addr,
            dist,
            demo,
            public_url,
            enroll_burst,
            push_rate,
        } => {
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            let local = listener.local_addr()?;
            let public_url = public_url.unwrap_or_else(|| format!("http://{local}"));
            if demo && !db.has_wards()? {
                let setup = WardSetup::from_json(DEMO_WARD)?;
                db.load_setup(&setup)?;
                let code = db.issue_code("demo-m1", Duration::days(7), Utc::now())?;
                println!(
                    "Created the DEMO ward '{}' (not a real ward). Enroll a phone as its leader:",
                    setup.ward.name
                );
                print_code(&public_url, &code, None)?;
            }
            if !dist.join("index.html").exists() {
                tracing::warn!(dist = %dist.display(), "no built web app there (run make web); serving the API only");
            }
            let limits = Limits {
                enroll_per_ip: Limit {
                    burst: enroll_burst.max(1.0),
                    per_second: 0.2,
                },
                push_per_device: Limit {
                    burst: (2.0 * push_rate).max(1.0),
                    per_second: push_rate.max(0.1),
                },
            };
            let shared = Shared::new(db, limits);
            tracing::info!(%local, epoch = %shared.with_db(|d| d.epoch()).await?, "ward server listening");
            println!(
                "Serving on http://{local}/ (data in {})",
                cli.data.display()
            );
            http::serve(
                listener,
                http::router(shared, Some(dist)),
                shutdown_signal(),
            )
            .await?;
        }
        Command::CreateWard {
            id,
            name,
            tz,
            police_phone,
        } => {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                bail!("unknown time zone {tz}");
            }
            db.upsert_ward(&Ward {
                id,
                name,
                tz,
                police_phone,
                demo: false,
            })?;
        }
        Command::CreateTeam {
            ward,
            id,
            name,
            leader_phone,
        } => {
            let slots = patrol::domain::shift::default_slots();
            db.upsert_team(
                &ward,
                &Team {
                    id,
                    name,
                    leader_phone,
                    slots,
                },
            )?;
        }
        Command::AddMember {
            team,
            id,
            name,
            role,
        } => db.upsert_member(&team, &Member { id, name, role })?,
        Command::SetSlots { team, slots } => {
            let parsed = slots
                .iter()
                .map(|s| {
                    let (code, span) = s
                        .split_once('=')
                        .context("write slots as code=HH:MM-HH:MM")?;
                    let (a, b) = span
                        .split_once('-')
                        .context("write slots as code=HH:MM-HH:MM")?;
                    Ok(ShiftSlot::new(code, a, b)?)
                })
                .collect::<Result<Vec<_>>>()?;
            db.set_slots(&team, &parsed)?;
        }
        Command::ImportCheckpoints { team, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let cps = checkpoints_from_file(&file.to_string_lossy(), &text)?;
            db.set_route(&team, &cps)?;
            println!("Imported {} checkpoints into team {team}", cps.len());
        }
        Command::IssueCode {
            member,
            ttl_hours,
            public_url,
            svg,
        } => {
            if !(1..=24 * 30).contains(&ttl_hours) {
                bail!("--ttl-hours must be between 1 and 720");
            }
            let code = db.issue_code(&member, Duration::hours(ttl_hours), Utc::now())?;
            print_code(&public_url, &code, svg.as_ref())?;
            println!("Expires in {ttl_hours} h.");
        }
        Command::ListDevices { ward } => {
            println!(
                "{:<38} {:<24} {:>8} {:>10}  {}",
                "device", "member", "stored", "clock ms", "state"
            );
            for d in db.devices(&ward)? {
                let state = match (&d.revoked_at, &d.last_seen) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(seen)) => format!("last seen {seen}"),
                    (None, None) => format!("enrolled {}", d.enrolled_at),
                };
                let offset = match d.clock_offset_ms {
                    Some(o) if o.abs() > patrol::sync::protocol::CLOCK_FLAG_MS => {
                        format!("{o} CLOCK OFF")
                    }
                    Some(o) => o.to_string(),
                    None => "-".into(),
                };
                println!(
                    "{:<38} {:<24} {:>8} {:>10}  {state}",
                    d.id, d.member, d.stored_through, offset
                );
            }
        }
        Command::RevokeDevice { id } => {
            db.revoke(&id, Utc::now())?;
            println!("Device {id} revoked.");
        }
        Command::NewEpoch => println!("New epoch {}", db.new_epoch()?),
    }
    Ok(())
}
