//! Connection fairness against a real ward server on 127.0.0.1 (issue 23), in a test binary of its
//! own so the flood it makes shares the machine with no other test: 3,000 sockets from one
//! address, each opened again as soon as the server closes it. Before, they held every connection
//! slot and health went unanswered for 6 to 30 s; now one address holds at most its share, and a
//! phone on another address pushes and pulls, and health answers, each within a second (a bound
//! far above the milliseconds they take unloaded).

mod common;

use common::client::Device;
use patrol::wire::event::EventKind;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Sockets the flood keeps open (or reopens) from 127.0.0.2.
const SOCKETS: usize = 3_000;

/// A runtime of its own: the server, the flood and the phone each run on their own threads, as
/// three processes would, so the flood's busy tasks never queue the phone's behind them.
fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn thousands_of_reconnecting_sockets_from_one_address_starve_nobody() {
    let (server_rt, flood_rt, phone_rt) = (runtime(2), runtime(1), runtime(1));
    let server = server_rt.block_on(common::start());
    let target: std::net::SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let (stop, opened) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let flood: Vec<_> = (0..SOCKETS)
        .map(|_| {
            let (stop, opened) = (stop.clone(), opened.clone());
            flood_rt.spawn(async move {
                let mut buf = [0u8; 64];
                while !stop.load(Ordering::Relaxed) {
                    let socket = tokio::net::TcpSocket::new_v4().unwrap();
                    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
                    let Ok(mut conn) = socket.connect(target).await else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    opened.fetch_add(1, Ordering::Relaxed);
                    // Idle until the server lets go, then straight back.
                    tokio::select! {
                        _ = conn.read(&mut buf) => {}
                        _ = async {
                            while !stop.load(Ordering::Relaxed) {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        } => {}
                    }
                }
            })
        })
        .collect();
    // `FLOOD_ROUNDS=120` holds the flood for minutes (a round a second) and prints each round's
    // health time, to compare the first minute with the last.
    let rounds: u32 = std::env::var("FLOOD_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    phone_rt.block_on(async {
        let mut leader = Device::enroll(&server, "demo-m1").await;
        // Every socket opened, and most of them opened again after the server closed them (a
        // flood that never gets going fails here rather than hanging the run).
        let going = std::time::Instant::now();
        while opened.load(Ordering::Relaxed) < 2 * SOCKETS {
            assert!(
                going.elapsed() < Duration::from_secs(120),
                "the flood opened {} sockets in 2 minutes",
                opened.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let second = Duration::from_secs(1);
        let http = reqwest::Client::new();
        let mut after = 0;
        for round in 0..rounds {
            let asked = std::time::Instant::now();
            let health = tokio::time::timeout(
                second,
                http.get(format!("{}/api/v1/health", server.url)).send(),
            )
            .await
            .unwrap_or_else(|_| panic!("round {round}: health took longer than 1 s"))
            .unwrap();
            if rounds > 5 {
                println!("round {round}: health {} ms", asked.elapsed().as_millis());
            }
            assert_eq!(health.status(), StatusCode::OK, "round {round}");
            let id = format!("o-{round}");
            let e = leader.event(
                EventKind::Observed,
                &id,
                json!({
                    "id": id, "shift_id": "s-1", "category": "fire_hazard",
                    "description": "Dây điện chập chờn", "plate": null, "people": null,
                    "action": null, "urgent": false, "fix": null,
                    "at": "2026-12-05T15:00:00Z", "photos": []
                }),
            );
            let pushed = tokio::time::timeout(second, leader.push(std::slice::from_ref(&e)))
                .await
                .unwrap_or_else(|_| panic!("round {round}: a push took longer than 1 s"));
            assert_eq!(pushed.status(), StatusCode::OK, "round {round}");
            let page = tokio::time::timeout(second, leader.pull_after(after))
                .await
                .unwrap_or_else(|_| panic!("round {round}: a pull took longer than 1 s"));
            assert!(
                page.iter()
                    .any(|i| i.payload["event_id"] == e.event_id.as_str()),
                "{page:?}"
            );
            after = page.last().map_or(after, |i| i.cursor);
            if rounds > 5 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    for f in flood {
        flood_rt.block_on(f).unwrap();
    }
    let counts = phone_rt.block_on(server.shared.write(|db| db.event_counts()));
    assert_eq!(counts.unwrap(), (rounds as i64, rounds as i64));
    drop(server);
}
