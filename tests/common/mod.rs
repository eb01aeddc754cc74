//! A real ward server for the tests: the demo ward plus a second ward, on a free port of 127.0.0.1.
#![allow(dead_code)]

use chrono::{Duration, Utc};
use patrol::domain::ward::{Member, Team, Ward, WardSetup};
use patrol::server::db::ServerDb;
use patrol::server::http::{self, Limits, Shared};
use patrol::service::handle::DEMO_WARD;

/// A running server and its data directory.
pub struct Server {
    /// "http://127.0.0.1:PORT".
    pub url: String,
    /// Its state, for direct checks.
    pub shared: std::sync::Arc<Shared>,
    _dir: tempfile::TempDir,
}

/// Starts a ward server with the demo ward and a second ward, on a free port.
pub async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut db = ServerDb::open(dir.path()).unwrap();
    db.load_setup(&WardSetup::from_json(DEMO_WARD).unwrap())
        .unwrap();
    db.upsert_ward(&Ward {
        id: "w2".into(),
        name: "Phường Hai".into(),
        tz: "Asia/Ho_Chi_Minh".into(),
        police_phone: "0241".into(),
        demo: false,
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
            role: "member".into(),
        },
    )
    .unwrap();
    let route =
        patrol::server::import::checkpoints_from_csv("name,lat,lon\nCầu Mới,10.77,106.70\n")
            .unwrap();
    db.set_route("t2", &route).unwrap();
    let shared = Shared::new(db, Limits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = http::router(shared.clone(), None);
    tokio::spawn(http::serve(listener, app, std::future::pending()));
    Server {
        url,
        shared,
        _dir: dir,
    }
}

impl Server {
    pub async fn code(&self, member: &str, ttl: Duration) -> String {
        let member = member.to_string();
        self.shared
            .with_db(move |db| db.issue_code(&member, ttl, Utc::now()))
            .await
            .unwrap()
    }
}
