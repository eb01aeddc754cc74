//! A real ward server for the tests, built by the same `Application::build` as `ward-server
//! serve`: the demo ward plus a second ward, on a free port of 127.0.0.1; or on a data directory
//! the test keeps, to stop it and start it again (as after `ward-server restore`). And the event
//! ids a phone recorded and a ward database file holds, to compare them.
#![allow(dead_code)]

pub mod client;
pub mod jpeg;

use chrono::Duration;
use patrol::domain::ward::DEMO_WARD;
use patrol::domain::ward::{Member, Role, Team, Ward, WardSetup};
use patrol::store::Store;
use patrol_server::app::{Application, ServerConfig};
use patrol_server::db::ServerDb;
use patrol_server::http::Shared;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// A running server and its data directory.
pub struct Server {
    /// "http://127.0.0.1:PORT".
    pub url: String,
    /// Its state, for direct checks.
    pub shared: std::sync::Arc<Shared>,
    /// The data directory, removed when the server is dropped.
    _dir: tempfile::TempDir,
    /// Dropping it shuts the server down.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Writes the demo ward and a second ward (w2, team t2, member w2-m1) into `dir`'s database.
pub fn seed(dir: &std::path::Path) {
    let mut db = ServerDb::open(dir).unwrap();
    db.load_setup(&WardSetup::from_json(DEMO_WARD).unwrap())
        .unwrap();
    db.upsert_ward(&Ward {
        id: "w2".into(),
        name: "Phường Hai".into(),
        tz: "Asia/Ho_Chi_Minh".into(),
        police_phone: "0241".into(),
        demo: false,
        photo_keep_days: patrol::domain::ward::DEFAULT_PHOTO_KEEP_DAYS,
    })
    .unwrap();
    db.upsert_team(
        "w2",
        &Team {
            id: "t2".into(),
            name: "Tổ 2".into(),
            leader_phone: "0902".into(),
            slots: patrol::domain::shift::default_slots(),
        },
    )
    .unwrap();
    db.upsert_member(
        "t2",
        &Member {
            id: "w2-m1".into(),
            name: "Võ Văn Em".into(),
            role: Role::Member,
        },
    )
    .unwrap();
    let route =
        patrol::domain::route_file::checkpoints_from_csv("name,lat,lon\nCầu Mới,10.77,106.70\n")
            .unwrap();
    db.set_route("t2", &route).unwrap();
}

/// Starts a seeded ward server on a free port.
pub async fn start() -> Server {
    start_with(|_| {}).await
}

/// Starts a seeded ward server whose configuration `tune` may change first.
pub async fn start_with(tune: impl FnOnce(&mut ServerConfig)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let mut config = ServerConfig::new("127.0.0.1:0", dir.path());
    tune(&mut config);
    serve(Application::build(config).await.unwrap(), dir)
}

/// The demo ward's second team, added by [`start_with_people`].
pub const TEAM2: &str = "demo-team-2";

/// Starts a seeded server with a second team in the demo ward ([`TEAM2`]) and `people` added as
/// (team, member id, role), named "Người <id>"; enrollment is not rate limited, for tests that
/// enroll many devices from one address; `tune` may change the configuration further.
pub async fn start_with_people(
    people: &[(&str, &str, Role)],
    tune: impl FnOnce(&mut ServerConfig),
) -> Server {
    let server = start_with(|c| {
        c.limits.enroll_per_address = patrol_server::http::limit::Limit {
            burst: 100.0,
            per_second: 100.0,
        };
        tune(c);
    })
    .await;
    let people: Vec<(String, Member)> = people
        .iter()
        .map(|&(team, id, role)| {
            let member = Member {
                id: id.into(),
                name: format!("Người {id}"),
                role,
            };
            (team.to_string(), member)
        })
        .collect();
    server
        .shared
        .write(move |db| {
            db.upsert_team(
                "demo-ward",
                &Team {
                    id: TEAM2.into(),
                    name: "Tổ 2".into(),
                    leader_phone: "0903".into(),
                    slots: patrol::domain::shift::default_slots(),
                },
            )?;
            for (team, member) in &people {
                db.upsert_member(team, member)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    server
}

/// Runs a built application in the background until the returned server is dropped.
pub fn serve(app: Application, dir: tempfile::TempDir) -> Server {
    let url = app.url();
    let shared = app.shared();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Server {
        url,
        shared,
        _dir: dir,
        _stop: stop,
    }
}

impl Server {
    /// A one-time enrollment code for `member`.
    pub async fn code(&self, member: &str, ttl: Duration) -> String {
        let member = member.to_string();
        self.shared
            .write(move |db| db.issue_code(&member, ttl, patrol::clock::now()))
            .await
            .unwrap()
    }
}

/// A ward server on a data directory the test keeps, so it can be stopped and started again.
pub struct Running {
    /// "http://127.0.0.1:PORT".
    pub url: String,
    /// Its state, for direct checks.
    pub shared: Arc<Shared>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts a server on `data` at `addr` ("127.0.0.1:0" for a free port).
pub async fn run_on(data: &Path, addr: &str) -> Running {
    let app = Application::build(ServerConfig::new(addr, data))
        .await
        .unwrap();
    let url = app.url();
    let shared = app.shared();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Running {
        url,
        shared,
        stop,
        task,
    }
}

/// Starts a server on `data` at a free port.
pub async fn run(data: &Path) -> Running {
    run_on(data, "127.0.0.1:0").await
}

impl Running {
    /// Stops the server and waits until it has let go of the database.
    pub async fn stop(self) {
        drop(self.shared);
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }

    /// A one-time enrollment code for `member`, valid for an hour.
    pub async fn code(&self, member: &str) -> String {
        let member = member.to_string();
        self.shared
            .write(move |db| db.issue_code(&member, Duration::hours(1), patrol::clock::now()))
            .await
            .unwrap()
    }
}

/// Every event id a phone's store has recorded (sent or not).
pub fn recorded(store: &Store) -> BTreeSet<String> {
    let mut stmt = store.conn().prepare("SELECT event_id FROM outbox").unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids
}

/// Every event id stored in the ward database file at `path`, and how many rows hold them.
pub fn stored(path: &Path) -> (BTreeSet<String>, usize) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT event_id FROM event").unwrap();
    let ids: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let rows = ids.len();
    (ids.into_iter().collect(), rows)
}

/// How the event ids `got` (as [`stored`] returns them) differ from `want`: (rows, missing,
/// extra), small enough to print when a check fails. `(want.len(), 0, 0)`: each once, no other.
pub fn compare(got: (BTreeSet<String>, usize), want: &BTreeSet<String>) -> (usize, usize, usize) {
    let (ids, rows) = got;
    (
        rows,
        want.difference(&ids).count(),
        ids.difference(want).count(),
    )
}
