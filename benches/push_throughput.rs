//! Push throughput of the ward server (prints figures; asserts only that every event is stored
//! once). 50 devices push the same batches twice, each time into a fresh ward database:
//! - over loopback HTTP to a running server;
//! - in-process, through the path the push handler calls (the token looked up on a read
//!   connection, then `Shared::push`: the queue whose groups the one writer stores), with no
//!   HTTP and no JSON;
//!
//! so the difference is the share of HTTP. In both runs a few leaders pull their feed in a loop
//! while the pushes run, and their pull latency is printed. Last, the raw SQLite insert rate of
//! the same rows into the same table.

use chrono::{Duration, Utc};
use patrol::domain::ward::DEMO_WARD;
use patrol::domain::ward::{Member, Role, WardSetup};
use patrol::wire::api::{PullResponse, PushRequest, PushResponse};
use patrol::wire::event::Event;
use patrol_server::app::{Application, ServerConfig};
use patrol_server::db::{enrollment, feed, ServerDb};
use patrol_server::http::limit::Limit;
use patrol_server::http::Shared;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

const DEVICES: usize = 50;
const BATCH: usize = 200;
/// Leaders pulling their team's feed while the pushes run (`PUSH_PULLERS` changes it), each once
/// every `PULL_EVERY`.
const PULLERS: usize = 3;
const PULL_EVERY: std::time::Duration = std::time::Duration::from_millis(10);

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

/// A ward database in `dir`: one member and one enrolled device per pusher ("device-{i}"), and
/// `pullers` enrolled leaders. The pushers' tokens and the pullers' tokens.
fn ward(dir: &Path, pullers: usize) -> (Vec<String>, Vec<String>) {
    let mut db = ServerDb::open(dir).unwrap();
    let setup = WardSetup::from_json(DEMO_WARD).unwrap();
    db.load_setup(&setup).unwrap();
    let mut enrolled = |member: String, device: String, role: Role| {
        db.upsert_member(
            &setup.team.id,
            &Member {
                id: member.clone(),
                name: member.clone(),
                role,
            },
        )
        .unwrap();
        let code = db
            .issue_code(&member, Duration::hours(1), Utc::now())
            .unwrap();
        db.redeem(&code, &device, Utc::now()).unwrap().0
    };
    let pushers = (0..DEVICES)
        .map(|i| enrolled(format!("bench-{i}"), format!("device-{i}"), Role::Member))
        .collect();
    let pullers = (0..pullers)
        .map(|i| enrolled(format!("lead-{i}"), format!("leader-{i}"), Role::Leader))
        .collect();
    (pushers, pullers)
}

/// One run's figures.
struct Run {
    secs: f64,
    /// Push latency per batch, ms, sorted.
    batches: Vec<f64>,
    /// Pull latency while the pushes ran, ms, sorted.
    pulls: Vec<f64>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64) as usize).min(sorted.len() - 1)]
}

/// How one batch or one pull is sent: over HTTP, or in-process.
trait Channel: Clone + Send + Sync + 'static {
    fn push(
        &self,
        token: String,
        batch: Vec<Event>,
    ) -> impl std::future::Future<Output = ()> + Send;
    fn pull(&self, token: String, after: i64) -> impl std::future::Future<Output = i64> + Send;
}

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Channel for Http {
    async fn push(&self, token: String, batch: Vec<Event>) {
        let n = batch.len();
        let r: PushResponse = self
            .client
            .post(format!("{}/api/v1/push", self.base))
            .bearer_auth(&token)
            .json(&PushRequest {
                sent_at: Utc::now(),
                events: batch,
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r.stored.len(), n);
    }

    async fn pull(&self, token: String, after: i64) -> i64 {
        let page: PullResponse = self
            .client
            .get(format!("{}/api/v1/pull?after={after}&limit=200", self.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page.cursor
    }
}

/// What the push and pull handlers do once the request is parsed and the rate limits passed.
#[derive(Clone)]
struct InProcess(Arc<Shared>);

impl Channel for InProcess {
    async fn push(&self, token: String, batch: Vec<Event>) {
        let n = batch.len();
        let auth = self
            .0
            .read(move |conn| enrollment::authenticate(conn, &token))
            .await
            .unwrap();
        let r = self.0.push(auth, Utc::now(), batch).await.unwrap();
        assert_eq!(r.stored.len(), n);
    }

    async fn pull(&self, token: String, after: i64) -> i64 {
        let page = self
            .0
            .read(move |conn| {
                let auth = enrollment::authenticate(conn, &token)?;
                feed::pull(conn, &auth, after, 200)
            })
            .await
            .unwrap();
        page.cursor
    }
}

/// Every device pushes its events in batches, all devices at once, while the leaders pull.
async fn run(
    path: impl Channel,
    pushers: &[String],
    pullers: &[String],
    events: &[Vec<Event>],
) -> Run {
    let done = Arc::new(AtomicBool::new(false));
    let mut pulling = Vec::new();
    for token in pullers {
        let (path, done, token) = (path.clone(), done.clone(), token.clone());
        pulling.push(tokio::spawn(async move {
            let (mut after, mut lat) = (0, Vec::new());
            while !done.load(Ordering::Relaxed) {
                let t = Instant::now();
                after = path.pull(token.clone(), after).await;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                tokio::time::sleep(PULL_EVERY).await;
            }
            lat
        }));
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (token, events) in pushers.iter().cloned().zip(events.iter().cloned()) {
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for batch in events.chunks(BATCH) {
                let t = Instant::now();
                path.push(token.clone(), batch.to_vec()).await;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut batches = Vec::new();
    for t in tasks {
        batches.extend(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let mut pulls = Vec::new();
    for t in pulling {
        pulls.extend(t.await.unwrap());
    }
    batches.sort_by(|a, b| a.partial_cmp(b).unwrap());
    pulls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Run {
        secs,
        batches,
        pulls,
    }
}

fn main() {
    let per_device: usize = std::env::var("PUSH_EVENTS_PER_DEVICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let total = DEVICES * per_device;
    let pullers: usize = std::env::var("PUSH_PULLERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PULLERS);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let events: Vec<Vec<Event>> = (0..DEVICES)
        .map(|i| events_for(&format!("device-{i}"), per_device))
        .collect();
    let unlimited = Limit {
        burst: 1e9,
        per_second: 1e9,
    };
    // Each run on its own fresh ward database, built by the server's own start-up.
    let server = |dir: &Path| {
        let mut config = ServerConfig::new("127.0.0.1:0", dir);
        config.limits.per_device = unlimited;
        config.limits.per_address = unlimited;
        rt.block_on(Application::build(config)).unwrap()
    };
    let stored_once = |shared: &Arc<Shared>| {
        let (stored, distinct) = rt.block_on(shared.write(|db| db.event_counts())).unwrap();
        assert_eq!((stored as usize, distinct as usize), (total, total));
    };

    let http_dir = tempfile::tempdir().unwrap();
    let (pushers, leaders) = ward(http_dir.path(), pullers);
    let app = server(http_dir.path());
    let shared = app.shared();
    let http = rt.block_on(async {
        let base = app.url();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let path = Http {
            client: reqwest::Client::new(),
            base,
        };
        run(path, &pushers, &leaders, &events).await
    });
    stored_once(&shared);

    let local_dir = tempfile::tempdir().unwrap();
    let (pushers, leaders) = ward(local_dir.path(), pullers);
    let app = server(local_dir.path());
    let shared = app.shared();
    let local = rt.block_on(run(InProcess(shared.clone()), &pushers, &leaders, &events));
    stored_once(&shared);
    drop(app);

    // The raw SQLite insert rate of the same rows into the same table, same pragmas and batch size.
    let raw_dir = tempfile::tempdir().unwrap();
    drop(ServerDb::open(raw_dir.path()).unwrap());
    let mut conn = rusqlite::Connection::open(raw_dir.path().join("ward.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    // No device rows here: foreign keys off, which favours the raw side (the comparison is conservative).
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    let raw_start = Instant::now();
    for events in &events {
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
                        e.device_id,
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
    let raw_rate = total as f64 / raw_start.elapsed().as_secs_f64();

    println!("push: {DEVICES} devices, {total} events in batches of {BATCH}; {pullers} leaders pull their feed every {PULL_EVERY:?} meanwhile");
    for (name, r) in [("over HTTP  ", &http), ("in-process ", &local)] {
        let pulls = match r.pulls.len() {
            0 => "no pulls".to_string(),
            n => format!(
                "pull latency p50 {:.1} ms, p99 {:.1} ms ({n} pulls)",
                pct(&r.pulls, 0.5),
                pct(&r.pulls, 0.99)
            ),
        };
        println!(
            "  {name}: {:.2} s, {:.0} events/s; batch latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {pulls}",
            r.secs,
            total as f64 / r.secs,
            pct(&r.batches, 0.5),
            pct(&r.batches, 0.99),
            r.batches[r.batches.len() - 1],
        );
    }
    let share = |h: f64, l: f64| 100.0 * (h - l) / h;
    println!(
        "  share of the time that is HTTP (client and server on the same cores): {:.0}% of the total, \
         {:.0}% of the p50 batch, {:.0}% of the p99 batch",
        share(http.secs, local.secs),
        share(pct(&http.batches, 0.5), pct(&local.batches, 0.5)),
        share(pct(&http.batches, 0.99), pct(&local.batches, 0.99))
    );
    println!("raw SQLite insert of the same rows (WAL, synchronous=FULL, same batches): {raw_rate:.0} events/s");
    println!(
        "push over HTTP is {:.0}% of the raw insert rate, in-process {:.0}%",
        100.0 * total as f64 / http.secs / raw_rate,
        100.0 * total as f64 / local.secs / raw_rate
    );
}
