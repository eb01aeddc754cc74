//! Sustained push against a ward server in its own process (issue 23): `PHONES` phones (50, then
//! 200; `PUSH_PHONES=50,200` changes them), each on its own loopback address (127.0.1.x), push
//! 200-event batches back to back for `PUSH_SECONDS` (180) seconds. Every batch is one whole
//! shift of the demo team on the same night (its start, 99 check-ins, 99 observations, its end),
//! so the night the reports keep grows all along, as on a busy night of a large ward.
//!
//! Prints, per 10-second window: events stored per second, p50/p99 latency of the batches
//! answered in it, answers other than 200, and the server process's resident memory; then the
//! run's totals, and checks that every event sent was stored exactly once (asserts nothing else:
//! figures are for reading, not pass/fail).
//!
//! The server runs in a child process (this same binary, with `PUSH_SUSTAINED_SERVE` naming its
//! data directory), so its memory is its own.

use chrono::{Duration, NaiveDate, Utc};
use patrol::domain::ward::DEMO_WARD;
use patrol::domain::ward::{Member, Role, WardSetup};
use patrol::wire::api::{PushRequest, PushResponse};
use patrol::wire::event::{Event, EventKind};
use patrol_server::app::{Application, ServerConfig};
use patrol_server::db::ServerDb;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const BATCH: usize = 200;
const WINDOW_SECS: u64 = 10;
/// The night every shift is on.
const NIGHT: (i32, u32, u32) = (2026, 12, 4);

fn main() {
    if let Ok(data) = std::env::var("PUSH_SUSTAINED_SERVE") {
        serve(Path::new(&data));
        return;
    }
    let secs: u64 = std::env::var("PUSH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let phones: Vec<usize> = std::env::var("PUSH_PHONES")
        .unwrap_or_else(|_| "50,200".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    for n in phones {
        run(n, secs);
    }
}

/// The child: serves `data` on a free loopback port, prints its URL, and serves until its
/// standard input closes.
fn serve(data: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = Application::build(ServerConfig::new("127.0.0.1:0", data))
            .await
            .unwrap();
        println!("URL {}", app.url());
        let stop = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {}
        });
        app.run_until_stopped(async move {
            let _ = stop.await;
        })
        .await
        .unwrap();
    });
}

/// The demo ward with `n` enrolled member devices ("device-{i}"); their tokens.
fn ward(dir: &Path, n: usize) -> Vec<String> {
    let mut db = ServerDb::open(dir).unwrap();
    let setup = WardSetup::from_json(DEMO_WARD).unwrap();
    db.load_setup(&setup).unwrap();
    (0..n)
        .map(|i| {
            let member = format!("bench-{i}");
            db.upsert_member(
                &setup.team.id,
                &Member {
                    id: member.clone(),
                    name: member.clone(),
                    role: Role::Member,
                },
            )
            .unwrap();
            let code = db
                .issue_code(&member, Duration::hours(1), Utc::now())
                .unwrap();
            db.redeem(&code, &format!("device-{i}"), Utc::now())
                .unwrap()
                .0
        })
        .collect()
}

/// Phone `phone`'s `k`-th batch: one whole shift on [`NIGHT`], sequence numbers from `seq`.
fn shift_batch(phone: usize, member: &str, seq: i64) -> Vec<Event> {
    let night = NaiveDate::from_ymd_opt(NIGHT.0, NIGHT.1, NIGHT.2).unwrap();
    let now = Utc::now();
    let shift_id = uuid::Uuid::now_v7().to_string();
    let device = format!("device-{phone}");
    let mut out = Vec::with_capacity(BATCH);
    let mut push = |kind: EventKind, entity: String, payload: serde_json::Value| {
        out.push(Event {
            event_id: uuid::Uuid::now_v7().to_string(),
            device_id: device.clone(),
            seq: seq + out.len() as i64,
            kind,
            entity_id: entity,
            payload,
            client_time: now,
        })
    };
    let shift = |ended: bool| {
        serde_json::json!({
            "id": shift_id, "team_id": "demo-team-1", "slot_code": "ca1", "night": night,
            "started_at": now, "members_present": [member],
            "ended_at": if ended { Some(now) } else { None }, "handover_note": null
        })
    };
    push(EventKind::ShiftStarted, shift_id.clone(), shift(false));
    for i in 0..(BATCH - 2) / 2 {
        let id = uuid::Uuid::now_v7().to_string();
        push(
            EventKind::CheckedIn,
            id.clone(),
            serde_json::json!({
                "id": id, "shift_id": shift_id, "checkpoint_id": format!("demo-cp{}", i % 5 + 1),
                "method": "gps", "verified": true,
                "fix": {"pos": {"lat": 21.0285, "lon": 105.8542}, "accuracy_m": 8.0},
                "distance_m": 12.0, "reason": null, "at": now
            }),
        );
        let id = uuid::Uuid::now_v7().to_string();
        push(
            EventKind::Observed,
            id.clone(),
            serde_json::json!({
                "id": id, "shift_id": shift_id, "category": "suspicious_vehicle",
                "description": "Hai người đi xe máy không biển số, chạy chậm quanh chợ",
                "plate": "29A-123.45", "people": null, "action": "watched", "urgent": false,
                "fix": {"pos": {"lat": 21.0285, "lon": 105.8542}, "accuracy_m": 8.0},
                "at": now, "photos": []
            }),
        );
    }
    push(EventKind::ShiftEnded, shift_id.clone(), shift(true));
    out
}

/// One answered batch: when (seconds since the start), how long it took, its status, events stored.
#[derive(Clone, Copy)]
struct Answer {
    at: f64,
    ms: f64,
    status: u16,
    stored: usize,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((p * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

/// The resident memory of process `pid`, MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Starts the server child on `data`; the child and its URL.
fn start_server(data: &Path) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("PUSH_SUSTAINED_SERVE", data)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("URL ")
        .expect("the server prints its URL")
        .to_string();
    (child, url)
}

fn run(phones: usize, secs: u64) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = ward(dir.path(), phones);
    let (mut child, url) = start_server(dir.path());
    let pid = child.id();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let start = Instant::now();
    let deadline = std::time::Duration::from_secs(secs);
    let sent = rt.block_on(async {
        let mut tasks = Vec::new();
        for (i, token) in tokens.into_iter().enumerate() {
            let (url, answers) = (url.clone(), answers.clone());
            tasks.push(tokio::spawn(async move {
                // Each phone its own source address, as phones behind different carriers.
                let addr = IpAddr::V4(Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, (i % 250 + 2) as u8));
                let client = reqwest::Client::builder()
                    .local_address(addr)
                    .timeout(std::time::Duration::from_secs(120))
                    .build()
                    .unwrap();
                let member = format!("bench-{i}");
                let (mut seq, mut sent) = (1i64, 0usize);
                let mut batch = shift_batch(i, &member, seq);
                while start.elapsed() < deadline {
                    let t = Instant::now();
                    let resp = client
                        .post(format!("{url}/api/v1/push"))
                        .bearer_auth(&token)
                        .json(&PushRequest {
                            sent_at: Utc::now(),
                            events: batch.clone(),
                        })
                        .send()
                        .await;
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    let (status, stored) = match resp {
                        Ok(r) if r.status().is_success() => {
                            let body: PushResponse = r.json().await.unwrap();
                            assert!(body.refused.is_empty(), "{:?}", body.refused.first());
                            (200, body.stored.len())
                        }
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let wait = r
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.parse::<u64>().ok())
                                .unwrap_or(1);
                            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                            (status, 0)
                        }
                        Err(_) => (0, 0),
                    };
                    answers.lock().unwrap().push(Answer {
                        at: start.elapsed().as_secs_f64(),
                        ms,
                        status,
                        stored,
                    });
                    // A batch is sent again until it is answered 200 (a re-send is answered
                    // from what was stored), then the phone's next shift.
                    if status == 200 {
                        sent += batch.len();
                        seq += batch.len() as i64;
                        batch = shift_batch(i, &member, seq);
                    }
                }
                sent
            }));
        }
        let mut next = WINDOW_SECS;
        println!(
            "\n== {phones} phones, {BATCH}-event batches (one shift each, all on one night), {secs} s =="
        );
        println!(" window   events/s   batches   p50 ms   p99 ms   not-200   server RSS MB");
        while start.elapsed() < deadline + std::time::Duration::from_secs(1) {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if start.elapsed().as_secs() >= next {
                print_window(&answers, next, pid);
                next += WINDOW_SECS;
            }
        }
        let mut sent = 0;
        for t in tasks {
            sent += t.await.unwrap();
        }
        sent
    });
    let all = answers.lock().unwrap().clone();
    let mut ok: Vec<f64> = all
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.ms)
        .collect();
    ok.sort_by(f64::total_cmp);
    let stored: usize = all.iter().map(|a| a.stored).sum();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for a in &all {
        *statuses.entry(a.status).or_default() += 1;
    }
    let rss = rss_mb(pid);
    drop(child.stdin.take());
    let _ = child.wait();
    let (count, distinct) = ServerDb::open(dir.path()).unwrap().event_counts().unwrap();
    println!(
        "total: {stored} events in {:.0} s = {:.0} events/s; batch p50 {:.0} ms, p99 {:.0} ms; \
         answers by status {statuses:?} (0: no answer); server RSS at the end {rss:.0} MB",
        start.elapsed().as_secs_f64(),
        stored as f64 / start.elapsed().as_secs_f64(),
        pct(&ok, 0.5),
        pct(&ok, 0.99),
    );
    println!(
        "stored once: {count} rows, {distinct} distinct ids, {sent} acknowledged to the phones{}",
        if count == distinct && count as usize >= sent {
            ""
        } else {
            "  <-- MISMATCH"
        }
    );
}

/// Prints the window ending at `end` seconds.
fn print_window(answers: &Mutex<Vec<Answer>>, end: u64, pid: u32) {
    let all = answers.lock().unwrap();
    let begin = (end - WINDOW_SECS) as f64;
    let these: Vec<Answer> = all
        .iter()
        .copied()
        .filter(|a| a.at >= begin && a.at < end as f64)
        .collect();
    let mut ms: Vec<f64> = these
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.ms)
        .collect();
    ms.sort_by(f64::total_cmp);
    let events: usize = these.iter().map(|a| a.stored).sum();
    let bad = these.iter().filter(|a| a.status != 200).count();
    println!(
        "{:>4}-{:<4} {:>9.0} {:>9} {:>8.0} {:>8.0} {:>9} {:>15.0}",
        end - WINDOW_SECS,
        end,
        events as f64 / WINDOW_SECS as f64,
        these.len(),
        pct(&ms, 0.5),
        pct(&ms, 0.99),
        bad,
        rss_mb(pid)
    );
}
