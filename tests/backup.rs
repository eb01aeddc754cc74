//! `ward-server backup` and `restore` against real SQLite files and a real ward server: a backup
//! taken while phones push is a consistent copy; a restore refuses what is not a ward database
//! and leaves the live one alone; after a restore every phone syncs on without enrolling again,
//! every event is on the server exactly once, and a leader's pulls see what was pushed after it.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{run, run_on, stored};
use patrol::domain::observation::Category;
use patrol::domain::records::ObservationInput;
use patrol::domain::ward::Member;
use patrol::store::sync_state::SyncKey;
use patrol::store::{outbox, Store};
use patrol::sync::engine::{enroll, sync_once, Report, SyncError};
use patrol::sync::http::HttpTransport;
use patrol_server::admin::{self, AdminCommand, AdminError};
use patrol_server::db::backup::{self, BackupError};
use patrol_server::db::{ServerDb, MIGRATIONS};
use rusqlite::Connection;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

/// A fixed time for every `now` the API takes.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 13, 0, 0).unwrap()
}

struct Phone {
    store: RefCell<Store>,
    net: HttpTransport,
    _dir: tempfile::TempDir,
}

async fn phone(url: &str, code: &str) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let store = RefCell::new(Store::open_file(&dir.path().join("phone.db")).unwrap());
    let net = HttpTransport::new(url);
    enroll(&store, &net, url, code).await.unwrap();
    Phone {
        store,
        net,
        _dir: dir,
    }
}

/// Records a shift start (first time) and `n` observations.
fn patrol(p: &Phone, n: usize) {
    let mut store = p.store.borrow_mut();
    if store.active_shift().unwrap().is_none() {
        let me = store.sync_value(SyncKey::MemberId).unwrap().unwrap();
        store.start_shift("ca1", &[me], t0()).unwrap();
    }
    for i in 0..n {
        let input = ObservationInput {
            category: Some(Category::ALL[i % Category::COUNT]),
            description: format!("ghi nhận {i}"),
            ..Default::default()
        };
        store.observe(&input, t0()).unwrap();
    }
}

async fn sync(p: &Phone) -> Result<Report, SyncError> {
    sync_once(&p.store, &p.net, t0).await
}

/// Every event id the phone has recorded.
fn recorded(p: &Phone) -> BTreeSet<String> {
    common::recorded(&p.store.borrow())
}

/// Every team event id a leader's phone has pulled.
fn pulled(p: &Phone) -> BTreeSet<String> {
    let store = p.store.borrow();
    let mut stmt = store
        .conn()
        .prepare("SELECT event_id FROM team_event")
        .unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    ids
}

/// The admin command, run as `ward-server` runs it: its own connection beside the server's.
fn admin(data: &Path, cmd: AdminCommand) -> Result<(), AdminError> {
    let mut db = ServerDb::open(data).unwrap();
    admin::run(&mut db, cmd)
}

/// `ward-server backup FILE` on `data`, beside the running server, as the daily timer runs it.
async fn take_backup(data: &Path, file: &Path) {
    let (d, f) = (data.to_path_buf(), file.to_path_buf());
    tokio::task::spawn_blocking(move || admin(&d, backup_cmd(&f, false)).unwrap())
        .await
        .unwrap();
}

/// Ten route edits of `team` (feed items no phone re-sends).
async fn edit_route_ten_times(
    shared: &std::sync::Arc<patrol_server::http::Shared>,
    team: &'static str,
) {
    for i in 0..10 {
        let route = patrol::domain::route_file::checkpoints_from_csv(&format!(
            "name,lat,lon\nCầu {i},10.77,106.70\n"
        ))
        .unwrap();
        shared
            .write(move |db| db.set_route(team, &route))
            .await
            .unwrap();
    }
}

fn backup_cmd(file: &Path, force: bool) -> AdminCommand {
    AdminCommand::Backup {
        file: file.to_path_buf(),
        force,
    }
}

/// The epoch, the event ids, the devices (id, member) and the files beside the database.
type LiveState = (String, Vec<String>, Vec<(String, String)>, Vec<String>);

/// What must not change when a restore is refused: the epoch, the events, the devices, and no
/// file left beside the database.
fn live_state(data: &Path) -> LiveState {
    let conn = Connection::open(data.join("ward.db")).unwrap();
    let epoch: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'epoch'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let events: Vec<String> = conn
        .prepare("SELECT event_id FROM event ORDER BY cursor")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let devices: Vec<(String, String)> = conn
        .prepare("SELECT id, token_hash FROM device ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    let mut files: Vec<String> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    files.sort();
    (epoch, events, devices, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_a_phone_pushes_is_a_consistent_copy() {
    let data = tempfile::tempdir().unwrap();
    common::seed(data.path());
    let server = run(data.path()).await;
    let a = phone(&server.url, &server.code("demo-m2").await).await;
    patrol(&a, 300);
    sync(&a).await.unwrap();
    let acknowledged = recorded(&a);
    assert_eq!(acknowledged.len(), 301);

    // The backup runs on its own thread while the phone records and pushes in batches.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("ward-backup.db");
    let (d, f) = (data.path().to_path_buf(), file.clone());
    let taking = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        admin(&d, backup_cmd(&f, false)).unwrap();
        started.elapsed()
    });
    let mut rounds = 0;
    while !taking.is_finished() || rounds < 3 {
        patrol(&a, 250);
        sync(&a).await.unwrap();
        rounds += 1;
    }
    let took = taking.await.unwrap();
    eprintln!("backup of a database with >= 301 events took {took:?} during {rounds} push rounds");

    // The copy opens as a ward database and holds everything acknowledged before it began.
    let (ids, rows) = stored(&file);
    assert_eq!(ids.len(), rows, "no event twice");
    assert!(
        acknowledged.is_subset(&ids),
        "events acknowledged before the backup are in it"
    );
    assert!(ids.len() <= recorded(&a).len());
    let copy = Connection::open(&file).unwrap();
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // One moment of the database: the device's events are exactly 1..=stored_through, as every
    // push commits its batch and the device's count in one transaction.
    let (max_seq, count, through): (i64, i64, i64) = copy
        .query_row(
            "SELECT (SELECT MAX(seq) FROM event), (SELECT COUNT(*) FROM event), stored_through FROM device",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((max_seq, count), (through, through));
    drop(copy);
    let others: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        others,
        [std::ffi::OsString::from("ward-backup.db")],
        "no temp file left"
    );

    // An existing file is not overwritten without --force; with it, it is replaced.
    let before = std::fs::read(&file).unwrap();
    let err = admin(data.path(), backup_cmd(&file, false)).unwrap_err();
    assert!(
        matches!(err, AdminError::Backup(BackupError::Exists(ref p)) if p == &file),
        "{err}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    admin(data.path(), backup_cmd(&file, true)).unwrap();
    assert_eq!(
        stored(&file).0,
        recorded(&a),
        "the forced copy has everything"
    );

    // A folder that does not exist: an error naming the path, nothing written, the server serves.
    let nowhere = out.path().join("no-such-folder").join("b.db");
    let err = admin(data.path(), backup_cmd(&nowhere, false)).unwrap_err();
    assert!(
        matches!(err, AdminError::Backup(BackupError::Write { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains(&nowhere.display().to_string()),
        "{err}"
    );
    assert!(!out.path().join("no-such-folder").exists());
    // Nor over the live database itself.
    let err = admin(data.path(), backup_cmd(&data.path().join("ward.db"), true)).unwrap_err();
    assert!(
        matches!(err, AdminError::Backup(BackupError::IsLive(_))),
        "{err}"
    );
    patrol(&a, 1);
    sync(&a).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn restore_refuses_what_is_not_a_ward_database_and_leaves_the_live_one_alone() {
    let data = tempfile::tempdir().unwrap();
    common::seed(data.path());
    let server = run(data.path()).await;
    let a = phone(&server.url, &server.code("demo-m2").await).await;
    patrol(&a, 5);
    sync(&a).await.unwrap();
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("good.db");
    admin(data.path(), backup_cmd(&good, false)).unwrap();

    // While the server runs: refused, it says to stop the server.
    let live = live_state(data.path());
    let err = admin(data.path(), AdminCommand::Restore { file: good.clone() }).unwrap_err();
    assert!(
        matches!(err, AdminError::Backup(BackupError::InUse(_))),
        "{err}"
    );
    assert!(err.to_string().contains("stop the server"), "{err}");
    assert_eq!(live_state(data.path()), live);
    server.stop().await;

    // An SQLite file of something else.
    let other = files.path().join("notes.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE note(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO note(text) VALUES ('x');")
        .unwrap();
    // An SQLite file that claims a migration but has no ward tables.
    let half = files.path().join("half.db");
    Connection::open(&half)
        .unwrap()
        .execute_batch(
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); PRAGMA user_version = 1;",
        )
        .unwrap();
    // Random bytes (a fixed sequence).
    let noise = files.path().join("noise.db");
    let mut x: u32 = 0x2545_f491;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(&noise, &bytes).unwrap();
    // A ward backup from a newer server (one more migration than this one knows).
    let newer = files.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", MIGRATIONS.len() as u32 + 1)
        .unwrap();

    let live = live_state(data.path());
    let ward_db = data.path().join("ward.db");
    for (file, expected) in [
        (&other, "NotWard"),
        (&half, "NotWard"),
        (&noise, "NotSqlite"),
        (&newer, "TooNew"),
    ] {
        let given = std::fs::read(file).unwrap();
        let err = backup::restore(&ward_db, file, t0()).unwrap_err();
        let kind = match &err {
            BackupError::NotWard { .. } => "NotWard",
            BackupError::NotSqlite(_) => "NotSqlite",
            BackupError::TooNew {
                found, supported, ..
            } => {
                let supported_here = MIGRATIONS.len() as u32;
                assert_eq!((*found, *supported), (supported_here + 1, supported_here));
                "TooNew"
            }
            _ => "other",
        };
        assert_eq!(kind, expected, "{}: {err}", file.display());
        assert!(err.to_string().contains("nothing was restored"), "{err}");
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );
        assert_eq!(live_state(data.path()), live, "{}", file.display());
        assert_eq!(
            std::fs::read(file).unwrap(),
            given,
            "the file given is not changed"
        );
    }
    // Through the command, too, with the same words.
    let err = admin(
        data.path(),
        AdminCommand::Restore {
            file: noise.clone(),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("is not an SQLite database"),
        "{err}"
    );
    assert_eq!(live_state(data.path()), live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_every_phone_syncs_on_and_every_event_is_on_the_server_once() {
    let data = tempfile::tempdir().unwrap();
    common::seed(data.path());
    let server = run(data.path()).await;
    let url = server.url.clone();
    // A member and the leader of one team, a member of another ward, and a phone revoked later.
    let a = phone(&url, &server.code("demo-m2").await).await;
    let leader = phone(&url, &server.code("demo-m1").await).await;
    let c = phone(&url, &server.code("w2-m1").await).await;
    let r = phone(&url, &server.code("demo-m4").await).await;
    patrol(&a, 30);
    patrol(&leader, 10);
    patrol(&c, 10);
    for p in [&a, &leader, &c, &r] {
        sync(p).await.unwrap();
    }

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("ward-backup.db");
    take_backup(data.path(), &file).await;

    // After the backup: more records, a phone revoked, route edits (feed items no phone
    // re-sends), a new member, and two phones enrolled: one of a member the backup knows, one of
    // the new member.
    patrol(&a, 20);
    patrol(&c, 5);
    sync(&a).await.unwrap();
    sync(&c).await.unwrap();
    let rid = outbox::device_id(r.store.borrow().conn()).unwrap();
    server
        .shared
        .write(move |db| db.revoke(&rid, t0()))
        .await
        .unwrap();
    edit_route_ten_times(&server.shared, "t2").await;
    server
        .shared
        .write(|db| {
            db.upsert_member(
                "demo-team-1",
                &Member {
                    id: "demo-m9".into(),
                    name: "Đỗ Văn Mới".into(),
                    role: patrol::domain::ward::Role::Member,
                },
            )
        })
        .await
        .unwrap();
    let n = phone(&url, &server.code("demo-m3").await).await;
    let m = phone(&url, &server.code("demo-m9").await).await;
    patrol(&n, 4);
    patrol(&m, 3);
    sync(&n).await.unwrap();
    sync(&m).await.unwrap();
    sync(&leader).await.unwrap();
    let leader_cursor = leader.store.borrow().cursor().unwrap();
    let everything_before: BTreeSet<String> = [&a, &leader, &c, &n, &m, &r]
        .iter()
        .flat_map(|p| recorded(p))
        .collect();
    server.stop().await;

    // Restore: the events since the backup are gone from the server until the phones re-send.
    let ward_db = data.path().join("ward.db");
    let report = backup::restore(&ward_db, &file, t0()).unwrap();
    let kept = data.path().join("ward.db.before-restore-20261122T130000Z");
    assert_eq!(report.kept.as_deref(), Some(kept.as_path()));
    assert_eq!(report.devices_carried, 2, "n and m");
    assert_eq!(report.members_carried, 1, "demo-m9");
    assert!(report.feed_cursor_floor >= leader_cursor);
    let (in_kept, _) = stored(&kept);
    let (in_restored, _) = stored(&ward_db);
    assert!(in_restored.is_subset(&in_kept));
    assert!(
        in_restored.len() < in_kept.len(),
        "the backup lacks the later events"
    );
    assert_eq!(
        in_kept, everything_before,
        "the replaced database is kept whole"
    );

    // The server starts again on the same data directory and address; no phone enrolls again.
    let server = run_on(data.path(), url.trim_start_matches("http://")).await;
    for p in [&a, &leader, &c, &n, &m] {
        patrol(p, 2);
    }
    for p in [&a, &c, &n, &m] {
        let sent_before = recorded(p).len() - 2;
        let report = sync(p).await.unwrap();
        assert_eq!(
            report.requeued, sent_before,
            "the new epoch: it re-sends all it holds"
        );
        assert_eq!(outbox::pending_count(p.store.borrow().conn()).unwrap(), 0);
    }
    sync(&leader).await.unwrap();
    assert_eq!(
        outbox::pending_count(leader.store.borrow().conn()).unwrap(),
        0
    );
    // The phone revoked after the backup stays revoked.
    let err = sync(&r).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Server { status: 403, .. }),
        "{err}"
    );

    // Every event every phone recorded is on the server exactly once (r's own are on the server
    // from before its revocation, in the backup).
    let everything: BTreeSet<String> = [&a, &leader, &c, &n, &m, &r]
        .iter()
        .flat_map(|p| recorded(p))
        .collect();
    let counts = server.shared.write(|db| db.event_counts()).await.unwrap();
    assert_eq!(counts, (everything.len() as i64, everything.len() as i64));
    let (on_server, rows) = stored(&ward_db);
    assert_eq!(rows, on_server.len());
    assert_eq!(on_server, everything, "nothing missing, nothing extra");

    // The leader's pulls see every event of its team, including those pushed after the restore
    // (stored above the cursor its phone already held).
    let team: BTreeSet<String> = [&a, &leader, &n, &m, &r]
        .iter()
        .flat_map(|p| recorded(p))
        .collect();
    let seen = pulled(&leader);
    let missing: Vec<_> = team.difference(&seen).collect();
    assert!(missing.is_empty(), "the leader never received {missing:?}");
    assert!(seen.iter().all(|id| team.contains(id)));
    server.stop().await;
}

/// An off-site copy restored on a new machine (an empty data directory, through the admin
/// command as an administrator runs it): a leader whose phone kept a cursor above the backup's
/// feed pulls everything that comes after the restore, the re-sent records included. Before, the
/// restored feed went on from the backup's cursors, below the one the leader held, and its pulls
/// returned nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_on_a_new_machine_keeps_every_kept_cursor_working() {
    let data = tempfile::tempdir().unwrap();
    common::seed(data.path());
    let server = run(data.path()).await;
    let url = server.url.clone();
    let a = phone(&url, &server.code("demo-m2").await).await;
    let leader = phone(&url, &server.code("demo-m1").await).await;
    patrol(&a, 5);
    sync(&a).await.unwrap();
    sync(&leader).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("ward-backup.db");
    take_backup(data.path(), &file).await;
    // After the backup: more records (the leader's own too), the team's route edited ten times;
    // the leader sends and pulls all.
    patrol(&a, 20);
    sync(&a).await.unwrap();
    edit_route_ten_times(&server.shared, "demo-team-1").await;
    patrol(&leader, 3);
    sync(&leader).await.unwrap();
    let leader_cursor = leader.store.borrow().cursor().unwrap();
    server.stop().await;

    // A new machine: the copy restored into an empty data directory, served on the same address.
    let fresh = tempfile::tempdir().unwrap();
    {
        let (d, f) = (fresh.path().to_path_buf(), file.clone());
        tokio::task::spawn_blocking(move || admin(&d, AdminCommand::Restore { file: f }).unwrap())
            .await
            .unwrap();
    }
    let restored_high: i64 = Connection::open(fresh.path().join("ward.db"))
        .unwrap()
        .query_row("SELECT MAX(cursor) FROM feed", [], |r| r.get(0))
        .unwrap();
    assert!(
        restored_high > leader_cursor,
        "new cursors start above any a phone holds: {restored_high} against {leader_cursor}"
    );
    let server = run_on(fresh.path(), url.trim_start_matches("http://")).await;
    // The member re-sends all it holds (the new epoch in its push's reply). The leader, with
    // nothing left to send, learns of the new epoch from its first pull and sends again what it
    // recorded; it pulls from the cursor it kept and gets every one of the member's records.
    patrol(&a, 1);
    sync(&a).await.unwrap();
    assert_eq!(
        outbox::pending_count(leader.store.borrow().conn()).unwrap(),
        0
    );
    let report = sync(&leader).await.unwrap();
    assert_eq!(report.requeued, recorded(&leader).len(), "{report:?}");
    let missing: Vec<String> = recorded(&a).difference(&pulled(&leader)).cloned().collect();
    assert!(missing.is_empty(), "the leader lacks {missing:?}");
    let (on_server, copies) = stored(&fresh.path().join("ward.db"));
    assert_eq!(copies, on_server.len(), "each event once");
    let everything: BTreeSet<String> = recorded(&a).union(&recorded(&leader)).cloned().collect();
    assert_eq!(on_server, everything);
    server.stop().await;
}

/// The daily backup timer's unit names each run's file by its UTC time to the second: a second
/// run in one day (by hand, or after a missed one) makes its own file. Before, the name held the
/// day only, and `backup` refuses a file that exists, so the second run failed (and its pruning
/// with it).
#[test]
fn each_run_of_the_backup_timer_writes_a_file_of_its_own() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/ward-backup.service"),
    )
    .unwrap();
    let exec = unit
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .expect("an ExecStart line");
    let format = exec
        .split("$(date -u +")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the file is named by `date -u`")
        .replace("%%", "%");
    let name = |at: DateTime<Utc>| at.format(&format).to_string();
    let (morning, again) = (
        Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 1).unwrap(),
    );
    assert_ne!(name(morning), name(again), "{format}");
    assert!(exec.contains("ward-server backup"), "{exec}");
}
