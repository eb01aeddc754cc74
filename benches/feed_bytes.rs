//! What a new phone downloads before it can patrol (issue 23), in a team of 304 members after 300
//! changes (a member added each time, as a leader enrolling a new team would): the enrollment
//! answer and every pull page until the feed says no more, as bytes of JSON and as gzip would
//! carry them. Prints figures; asserts nothing.

use chrono::{Duration, Utc};
use patrol::domain::ward::DEMO_WARD;
use patrol::domain::ward::{Member, Role, WardSetup};
use patrol::wire::api::{EnrollResponse, PullResponse};
use patrol_server::app::{Application, ServerConfig};
use patrol_server::db::ServerDb;
use std::io::Write;

const CHANGES: usize = 300;

fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap().len()
}

/// The body of the answer to `req`, as it came (uncompressed: the client asks for no encoding).
async fn body_of(req: reqwest::RequestBuilder) -> Vec<u8> {
    req.send().await.unwrap().bytes().await.unwrap().to_vec()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let code = {
        let mut db = ServerDb::open(dir.path()).unwrap();
        let setup = WardSetup::from_json(DEMO_WARD).unwrap();
        db.load_setup(&setup).unwrap();
        for i in 0..CHANGES {
            db.upsert_member(
                &setup.team.id,
                &Member {
                    id: format!("m-{i:03}"),
                    name: format!("Nguyễn Văn Thành viên {i}"),
                    role: Role::Member,
                },
            )
            .unwrap();
        }
        db.issue_code("m-299", Duration::hours(1), Utc::now())
            .unwrap()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = Application::build(ServerConfig::new("127.0.0.1:0", dir.path()))
            .await
            .unwrap();
        let url = app.url();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::new();
        let enrolled = body_of(
            http.post(format!("{url}/api/v1/enroll"))
                .json(&serde_json::json!({ "code": code, "device_id": "bench-new-phone" })),
        )
        .await;
        let token = serde_json::from_slice::<EnrollResponse>(&enrolled)
            .unwrap()
            .token;
        let (mut after, mut pages, mut raw, mut packed, mut setups) = (0, 0, 0, 0, 0);
        loop {
            let body = body_of(
                http.get(format!("{url}/api/v1/pull?after={after}"))
                    .bearer_auth(&token),
            )
            .await;
            pages += 1;
            raw += body.len();
            packed += gzip_len(&body);
            let page: PullResponse = serde_json::from_slice(&body).unwrap();
            setups += page.items.iter().filter(|i| i.kind == "setup").count();
            after = page.cursor;
            if !page.more {
                break;
            }
        }
        println!(
            "a new phone in a team of {} members after {CHANGES} changes: enrollment answer {} bytes \
             ({} gzipped); then {pages} pull page(s) of {raw} bytes ({packed} gzipped) holding {setups} setup(s); \
             in all {} bytes of JSON, {} as gzip carries them",
            CHANGES + 4,
            enrolled.len(),
            gzip_len(&enrolled),
            enrolled.len() + raw,
            gzip_len(&enrolled) + packed
        );
        let _ = stop.send(());
        let _ = serving.await;
    });
}
