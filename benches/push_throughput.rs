//! Push throughput of the ward server (prints figures, asserts nothing): 50 devices push batches
//! concurrently over loopback; next to it, the raw SQLite insert rate of the same rows into the
//! same table, measured in the same run, and p50/p99 push latency.

use chrono::{Duration, Utc};
use patrol::domain::ward::{Member, WardSetup};
use patrol::server::app::{Application, ServerConfig};
use patrol::server::db::ServerDb;
use patrol::server::http::limit::Limit;
use patrol::service::handle::DEMO_WARD;
use patrol::wire::api::{PushRequest, PushResponse};
use patrol::wire::event::Event;
use std::time::Instant;

const DEVICES: usize = 50;
const BATCH: usize = 200;

fn events_for(device: &str, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            seq: i as i64 + 1,
            event_id: uuid::Uuid::now_v7().to_string(),
            device_id: device.to_string(),
            kind: patrol::wire::event::EventKind::Observed,
            entity_id: uuid::Uuid::now_v7().to_string(),
            payload: serde_json::json!({
                "category": "suspicious_vehicle", "description": "Hai người đi xe máy không biển số, chạy chậm quanh chợ",
                "plate": "29A-123.45", "action": "watched", "urgent": false, "fix": {"pos": {"lat": 21.0285, "lon": 105.8542}, "accuracy_m": 8.0}
            }),
            client_time: Utc::now(),
        })
        .collect()
}

fn main() {
    let per_device: usize = std::env::var("PUSH_EVENTS_PER_DEVICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut db = ServerDb::open(&dir.path().join("ward")).unwrap();
    let setup = WardSetup::from_json(DEMO_WARD).unwrap();
    db.load_setup(&setup).unwrap();
    let mut devices = Vec::new();
    for i in 0..DEVICES {
        let member = format!("bench-{i}");
        db.upsert_member(
            &setup.team.id,
            &Member {
                id: member.clone(),
                name: member.clone(),
                role: patrol::domain::ward::Role::Member,
            },
        )
        .unwrap();
        let code = db
            .issue_code(&member, Duration::hours(1), Utc::now())
            .unwrap();
        let device = format!("device-{i}");
        let (token, _) = db.redeem(&code, &device, Utc::now()).unwrap();
        devices.push((device.clone(), token, events_for(&device, per_device)));
    }
    drop(db);
    let unlimited = Limit {
        burst: 1e9,
        per_second: 1e9,
    };
    let mut config = ServerConfig::new("127.0.0.1:0", dir.path().join("ward"));
    config.limits.per_device = unlimited;
    config.limits.per_address = unlimited;
    let app = rt.block_on(Application::build(config)).unwrap();
    let shared = app.shared();
    let total = DEVICES * per_device;

    let (elapsed, mut latencies) = rt.block_on(async {
        let url = format!("{}/api/v1/push", app.url());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let client = reqwest::Client::new();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (_, token, events) in devices.clone() {
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for batch in events.chunks(BATCH) {
                    let t = Instant::now();
                    let r: PushResponse = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&PushRequest {
                            sent_at: Utc::now(),
                            events: batch.to_vec(),
                        })
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(r.stored.len(), batch.len());
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (start.elapsed().as_secs_f64(), all)
    });
    let (stored, distinct) = rt.block_on(shared.write(|db| db.event_counts())).unwrap();
    assert_eq!((stored as usize, distinct as usize), (total, total));

    // The raw SQLite insert rate of the same rows into the same table, same pragmas and batch size.
    let raw_dir = tempfile::tempdir().unwrap();
    drop(ServerDb::open(raw_dir.path()).unwrap());
    let mut conn = rusqlite::Connection::open(raw_dir.path().join("ward.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    // No device rows here: foreign keys off, which favours the raw side (the comparison is conservative).
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    let raw_start = Instant::now();
    for (device, _, events) in &devices {
        for batch in events.chunks(BATCH) {
            let tx = conn.transaction().unwrap();
            {
                let mut st = tx
                    .prepare_cached(
                        "INSERT INTO event(event_id, device_id, seq, team_id, kind, entity_id, payload, content_hash, client_time, received_at)
                         VALUES (?1, ?2, ?3, 'demo-team-1', ?4, ?5, ?6, 'x', ?7, ?8)",
                    )
                    .unwrap();
                for e in batch {
                    st.execute(rusqlite::params![
                        e.event_id,
                        device,
                        e.seq,
                        e.kind.code(),
                        e.entity_id,
                        e.payload.to_string(),
                        e.client_time.to_rfc3339(),
                        Utc::now().to_rfc3339()
                    ])
                    .unwrap();
                }
            }
            tx.commit().unwrap();
        }
    }
    let raw_secs = raw_start.elapsed().as_secs_f64();

    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| latencies[((p * latencies.len() as f64) as usize).min(latencies.len() - 1)];
    let push_rate = total as f64 / elapsed;
    let raw_rate = total as f64 / raw_secs;
    println!("push: {DEVICES} devices, {total} events in batches of {BATCH}, {elapsed:.2} s: {push_rate:.0} events/s");
    println!(
        "push latency per batch: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.99),
        latencies[latencies.len() - 1]
    );
    println!("raw SQLite insert of the same rows (WAL, synchronous=FULL, same batches): {raw_rate:.0} events/s");
    println!(
        "push throughput is {:.0}% of the raw insert rate",
        100.0 * push_rate / raw_rate
    );
}
