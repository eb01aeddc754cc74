//! A phone's photos through the sync engine and a real ward server on 127.0.0.1 (issue 13): stored
//! with their observation or not at all, sent only after the record, thumbnails first, a cut
//! upload resumed from the server's copy (never from zero), read back by the team's leader and not
//! by another ward, and the phone's full-size copies dropped after the keeping period.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{start_with_people, TEAM2};
use patrol::domain::observation::Category;
use patrol::domain::photo::{PhotoError, PhotoHash, PreparedPhoto};
use patrol::domain::records::{Observation, ObservationInput};
use patrol::domain::ward::{Role, DEFAULT_PHOTO_KEEP_DAYS};
use patrol::store::records::{LogEntry, PhotoChange};
use patrol::store::{Store, StoreError};
use patrol::sync::engine::{enroll, sync_once, upload_photos, SyncError, Transport};
use patrol::sync::http::HttpTransport;
use patrol::wire::api::{
    EnrollRequest, EnrollResponse, PullResponse, PushRequest, PushResponse, ReportQuery,
    ReportResponse,
};
use patrol::wire::photo::{UploadState, CHUNK_BYTES};
use patrol::wire::team::{TeamAnswer, TeamCall};
use std::cell::{Cell, RefCell};

/// The evening the phone's records are made at (fixed: no wall clock).
fn evening() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 14, 0, 0).unwrap() // 21:00 in Hà Nội
}

/// A JPEG at quality 80 with grain of `grain` levels (more grain, more bytes).
fn jpeg(width: u32, height: u32, seed: u32, grain: u32) -> Vec<u8> {
    common::jpeg::jpeg(width, height, seed, grain, 80)
}

/// A prepared photo as the browser makes it: 800 × 600 (several upload pieces) and its thumbnail.
fn prepared(seed: u32) -> PreparedPhoto {
    PreparedPhoto {
        full: jpeg(800, 600, seed, 48),
        thumb: jpeg(160, 120, seed, 1),
    }
}

/// The network, with a cut after a number of upload pieces (the phone walks out of coverage).
struct Net {
    http: HttpTransport,
    /// Pieces still allowed before the cut; `None`: no cut.
    pieces_left: Cell<Option<usize>>,
    /// Offsets of the pieces sent, in order.
    offsets: RefCell<Vec<(PhotoHash, u64)>>,
}

impl Net {
    fn new(url: &str) -> Self {
        Net {
            http: HttpTransport::new(url),
            pieces_left: Cell::new(None),
            offsets: RefCell::new(Vec::new()),
        }
    }
}

impl Transport for Net {
    async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, SyncError> {
        self.http.enroll(req).await
    }
    async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, SyncError> {
        self.http.push(token, req).await
    }
    async fn pull(&self, token: &str, after: i64) -> Result<PullResponse, SyncError> {
        self.http.pull(token, after).await
    }
    async fn report(&self, token: &str, q: &ReportQuery) -> Result<ReportResponse, SyncError> {
        self.http.report(token, q).await
    }
    async fn team(&self, token: &str, team: &str, c: &TeamCall) -> Result<TeamAnswer, SyncError> {
        self.http.team(token, team, c).await
    }
    async fn my_allowance(
        &self,
        token: &str,
        month: patrol::domain::allowance::YearMonth,
    ) -> Result<patrol::wire::api::MyAllowanceResponse, SyncError> {
        self.http.my_allowance(token, month).await
    }
    async fn photo_state(&self, token: &str, hash: &PhotoHash) -> Result<UploadState, SyncError> {
        self.http.photo_state(token, hash).await
    }
    async fn photo_put(
        &self,
        token: &str,
        hash: &PhotoHash,
        offset: u64,
        piece: &[u8],
    ) -> Result<UploadState, SyncError> {
        match self.pieces_left.get() {
            Some(0) => return Err(SyncError::Network("the connection was cut".into())),
            Some(n) => self.pieces_left.set(Some(n - 1)),
            None => {}
        }
        self.offsets.borrow_mut().push((hash.clone(), offset));
        self.http.photo_put(token, hash, offset, piece).await
    }
    async fn photo_get(
        &self,
        token: &str,
        hash: &PhotoHash,
    ) -> Result<(String, Vec<u8>), SyncError> {
        self.http.photo_get(token, hash).await
    }
    fn metered(&self) -> bool {
        false
    }
}

struct Phone {
    store: RefCell<Store>,
    _dir: tempfile::TempDir,
}

async fn phone(server: &common::Server, member: &str, net: &Net) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let store = RefCell::new(Store::open_file(&dir.path().join("phone.db")).unwrap());
    let code = server.code(member, Duration::hours(1)).await;
    enroll(&store, net, &server.url, &code).await.unwrap();
    Phone { store, _dir: dir }
}

fn token(p: &Phone) -> String {
    p.store
        .borrow()
        .sync_value(patrol::store::sync_state::SyncKey::Token)
        .unwrap()
        .unwrap()
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_go_after_their_record_resume_after_a_cut_and_reach_only_their_readers() {
    let server = start_with_people(
        &[(TEAM2, "b-l1", Role::Leader), ("t2", "w2-l1", Role::Leader)],
        |_| {},
    )
    .await;
    let net = Net::new(&server.url);
    let member = phone(&server, "demo-m2", &net).await;
    let leader = phone(&server, "demo-m1", &net).await;
    let stranger = phone(&server, "w2-l1", &net).await;

    // A shift with an observation carrying two photos.
    let at = evening();
    let (p1, p2) = (prepared(1), prepared(2));
    assert!(p1.full.len() > 3 * CHUNK_BYTES, "{} bytes", p1.full.len());
    let obs: Observation = {
        let mut s = member.store.borrow_mut();
        s.start_shift("ca1", &["demo-m2".into()], at).unwrap();
        let input = ObservationInput {
            category: Some(Category::SuspiciousVehicle),
            plate: "59X1-234.56".into(),
            photos: vec![p1.clone(), p2.clone()],
            ..Default::default()
        };
        s.observe(&input, at + Duration::minutes(5)).unwrap().record
    };
    assert_eq!(obs.photos.len(), 2);
    assert_eq!(obs.photos[0].hash, PhotoHash::of(&p1.full));
    assert_eq!(obs.photos[0].thumb, PhotoHash::of(&p1.thumb));
    assert_eq!((obs.photos[0].width, obs.photos[0].height), (800, 600));
    {
        let s = member.store.borrow();
        assert_eq!(count(&s, "SELECT COUNT(*) FROM photo"), 4);
        // Not one photo may go before the record that names it reached the server.
        assert!(s.photos_waiting(false).unwrap().is_empty());
        let usage = s.photo_usage().unwrap();
        assert_eq!(usage.waiting, 2);
        let all = (p1.full.len() + p1.thumb.len() + p2.full.len() + p2.thumb.len()) as u64;
        assert_eq!(usage.waiting_bytes, all);
        // The log read back from the database holds the same photos.
        let log = s.shift_log(s.active_shift().unwrap().unwrap()).unwrap();
        let read = log.entries.iter().find_map(|e| match e {
            LogEntry::Observation(o) => Some(o.photos.clone()),
            _ => None,
        });
        assert_eq!(read, Some(obs.photos.clone()));
    }

    // The records go; the connection is cut after thumbnails and two pieces of the first photo.
    let report = sync_once(&member.store, &net, || at + Duration::minutes(6))
        .await
        .unwrap();
    assert_eq!(report.sent, 2);
    net.pieces_left.set(Some(4));
    let cut = upload_photos(&member.store, &net, || at + Duration::minutes(6)).await;
    assert!(matches!(cut, Err(SyncError::Network(_))), "{cut:?}");
    {
        let sent = net.offsets.borrow();
        // Thumbnails first.
        assert_eq!(sent[0].0, obs.photos[0].thumb);
        assert_eq!(sent[1].0, obs.photos[1].thumb);
        assert_eq!(sent[2], (obs.photos[0].hash.clone(), 0));
        assert_eq!(sent[3], (obs.photos[0].hash.clone(), CHUNK_BYTES as u64));
    }
    let held = net
        .http
        .photo_state(&token(&member), &obs.photos[0].hash)
        .await
        .unwrap();
    assert_eq!(held.received, 2 * CHUNK_BYTES as u64);
    assert!(!held.stored);
    assert_eq!(member.store.borrow().photo_usage().unwrap().waiting, 2);

    // The signal returns: the first photo goes on from the server's copy, not from zero.
    net.offsets.borrow_mut().clear();
    net.pieces_left.set(None);
    let report = upload_photos(&member.store, &net, || at + Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(report.photos_sent, 2);
    {
        let sent = net.offsets.borrow();
        assert_eq!(
            sent[0],
            (obs.photos[0].hash.clone(), 2 * CHUNK_BYTES as u64)
        );
        let pieces = |n: usize| n.div_ceil(CHUNK_BYTES);
        assert_eq!(
            sent.len(),
            pieces(p1.full.len()) - 2 + pieces(p2.full.len()),
            "no piece sent twice"
        );
    }
    let usage = member.store.borrow().photo_usage().unwrap();
    assert_eq!(
        (usage.waiting, usage.waiting_bytes, usage.refused),
        (0, 0, 0)
    );
    // Nothing is left to send: another round sends nothing.
    net.offsets.borrow_mut().clear();
    let again = upload_photos(&member.store, &net, || at + Duration::minutes(31))
        .await
        .unwrap();
    assert_eq!((again.photos_sent, net.offsets.borrow().len()), (0, 0));

    // The team's leader reads the photo byte for byte; another ward's leader cannot.
    let (mime, bytes) = net
        .http
        .photo_get(&token(&leader), &obs.photos[0].hash)
        .await
        .unwrap();
    assert_eq!((mime.as_str(), bytes), ("image/jpeg", p1.full.clone()));
    let (_, thumb) = net
        .http
        .photo_get(&token(&leader), &obs.photos[1].thumb)
        .await
        .unwrap();
    assert_eq!(thumb, p2.thumb);
    match net
        .http
        .photo_get(&token(&stranger), &obs.photos[0].hash)
        .await
    {
        Err(SyncError::Server { status: 404, body }) => assert_eq!(body.error, "unknown_photo"),
        other => panic!("another ward read the photo: {other:?}"),
    }

    // After the ward's keeping period (the default here) the next round drops the phone's
    // full-size copies; thumbnails stay.
    assert_eq!(
        member
            .store
            .borrow()
            .ward()
            .unwrap()
            .unwrap()
            .photo_keep_days,
        DEFAULT_PHOTO_KEEP_DAYS
    );
    let later = at
        + Duration::minutes(30)
        + Duration::days(DEFAULT_PHOTO_KEEP_DAYS.into())
        + Duration::hours(1);
    upload_photos(&member.store, &net, || later).await.unwrap();
    let s = member.store.borrow();
    assert_eq!(s.photo(&obs.photos[0].hash).unwrap().unwrap().data, None);
    assert_eq!(s.photo(&obs.photos[1].hash).unwrap().unwrap().data, None);
    assert_eq!(
        s.photo(&obs.photos[0].thumb).unwrap().unwrap().data,
        Some(p1.thumb.clone())
    );
    assert_eq!(
        s.photo_usage().unwrap().stored_bytes,
        (p1.thumb.len() + p2.thumb.len()) as u64
    );
}

/// Sets the phone's ward to keep full-size photos `days` days on the server, and pulls the new
/// setup onto the phone.
async fn set_photo_keep_days(server: &common::Server, phone: &Phone, net: &Net, days: u16) {
    let mut ward = phone.store.borrow().ward().unwrap().unwrap();
    ward.photo_keep_days = days;
    server
        .shared
        .write(move |db| db.upsert_ward(&ward))
        .await
        .unwrap();
    let report = sync_once(&phone.store, net, evening).await.unwrap();
    assert!(report.pulled >= 1, "{report:?}");
    let held = phone
        .store
        .borrow()
        .ward()
        .unwrap()
        .unwrap()
        .photo_keep_days;
    assert_eq!(held, days);
}

/// Records an observation with one photo at `at`, sends it, and uploads its images at `at` + 10
/// minutes; the photo's full-size hash.
async fn observe_and_upload(phone: &Phone, net: &Net, seed: u32, at: DateTime<Utc>) -> PhotoHash {
    let obs = phone
        .store
        .borrow_mut()
        .observe(
            &ObservationInput {
                category: Some(Category::SuspiciousVehicle),
                photos: vec![prepared(seed)],
                ..Default::default()
            },
            at,
        )
        .unwrap()
        .record;
    sync_once(&phone.store, net, || at + Duration::minutes(10))
        .await
        .unwrap();
    let report = upload_photos(&phone.store, net, || at + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(report.photos_sent, 2, "the photo and its thumbnail");
    obs.photos[0].hash.clone()
}

/// Whether the phone still holds the bytes of image `hash`.
fn holds(phone: &Phone, hash: &PhotoHash) -> bool {
    let photo = phone.store.borrow().photo(hash).unwrap().unwrap();
    photo.data.is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ward_sets_how_long_its_phones_keep_full_size_photos() {
    let server = common::start().await;
    let net = Net::new(&server.url);
    let member = phone(&server, "demo-m2", &net).await;
    let at = evening();
    member
        .store
        .borrow_mut()
        .start_shift("ca1", &["demo-m2".into()], at)
        .unwrap();

    // The ward keeps photos 3 days on its phones: kept after 2 days, dropped after 3 days + 1 h.
    set_photo_keep_days(&server, &member, &net, 3).await;
    let uploaded = at + Duration::minutes(15);
    let full = observe_and_upload(&member, &net, 1, at + Duration::minutes(5)).await;
    let thumb = PhotoHash::of(&prepared(1).thumb);
    upload_photos(&member.store, &net, || uploaded + Duration::days(2))
        .await
        .unwrap();
    assert!(holds(&member, &full), "kept after 2 days");
    upload_photos(&member.store, &net, || {
        uploaded + Duration::days(3) + Duration::hours(1)
    })
    .await
    .unwrap();
    assert!(!holds(&member, &full), "dropped after 3 days and 1 hour");
    assert!(holds(&member, &thumb), "the thumbnail stays");

    // 0 days: the full-size photo goes as soon as the server has it, in the same round.
    set_photo_keep_days(&server, &member, &net, 0).await;
    let full = observe_and_upload(&member, &net, 2, at + Duration::minutes(20)).await;
    assert!(!holds(&member, &full), "dropped once uploaded");
    assert!(holds(&member, &PhotoHash::of(&prepared(2).thumb)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_photos_are_refused_on_the_phone_and_nothing_is_half_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open_file(&dir.path().join("phone.db")).unwrap();
    s.load_setup(
        patrol::domain::ward::WardSetup::from_json(patrol::domain::ward::DEMO_WARD).unwrap(),
    )
    .unwrap();
    let at = evening();
    s.start_shift("ca1", &["demo-m1".into()], at).unwrap();
    let events = |s: &Store| count(s, "SELECT COUNT(*) FROM outbox");
    let before = events(&s);
    let observe = |s: &mut Store, photos: Vec<PreparedPhoto>| {
        let input = ObservationInput {
            category: Some(Category::FireHazard),
            photos,
            ..Default::default()
        };
        s.observe(&input, at + Duration::minutes(1))
    };
    fn refused<T: std::fmt::Debug>(r: Result<T, StoreError>) -> PhotoError {
        match r {
            Err(StoreError::Photo(e)) => e,
            other => panic!("not refused: {other:?}"),
        }
    }
    // A fifth photo.
    let five: Vec<PreparedPhoto> = (1..=5).map(|i| prepared(10 + i)).collect();
    assert_eq!(
        refused(observe(&mut s, five)),
        PhotoError::TooMany { max: 4 }
    );
    // Not an image, whatever it is called.
    let pdf = PreparedPhoto {
        full: b"%PDF-1.7 a report, not a photo".to_vec(),
        thumb: prepared(1).thumb,
    };
    assert_eq!(refused(observe(&mut s, vec![pdf])), PhotoError::NotImage);
    // Larger than a prepared photo may be: the phone must make it small first.
    let big = PreparedPhoto {
        full: jpeg(2400, 1800, 3, 1),
        thumb: prepared(1).thumb,
    };
    assert!(matches!(
        refused(observe(&mut s, vec![big])),
        PhotoError::TooManyPixels { .. } | PhotoError::TooLarge { .. }
    ));
    // The same photo twice.
    assert_eq!(
        refused(observe(&mut s, vec![prepared(4), prepared(4)])),
        PhotoError::Twice
    );
    assert_eq!(events(&s), before);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM photo"), 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM observation"), 0);

    // Four photos are fine; a correction takes one off and adds another, and no more than four.
    let o = observe(&mut s, (1..=4).map(prepared).collect())
        .unwrap()
        .record;
    let off = o.photos[0].hash.clone();
    let c = s
        .correct(
            &o.id,
            "ảnh 1 chụp nhầm",
            None,
            &PhotoChange {
                add: vec![prepared(9)],
                remove: vec![off.clone()],
            },
            at + Duration::minutes(2),
        )
        .unwrap()
        .record;
    assert_eq!(c.photos_removed, vec![off.clone()]);
    // Taken off before it was sent: it never leaves the phone (photo and thumbnail deleted).
    assert_eq!(s.photo(&off).unwrap(), None);
    assert_eq!(s.photo(&o.photos[0].thumb).unwrap(), None);
    assert!(s.photo(&o.photos[1].hash).unwrap().is_some());
    assert_eq!(c.photos_added[0].hash, PhotoHash::of(&prepared(9).full));
    let one_more = PhotoChange {
        add: vec![prepared(20)],
        remove: vec![],
    };
    let r = s.correct(&o.id, "thêm", None, &one_more, at + Duration::minutes(3));
    assert_eq!(refused(r), PhotoError::TooMany { max: 4 });
    // Taking off a photo the observation does not show is an error naming it.
    let not_shown = PhotoChange {
        add: vec![],
        remove: vec![off.clone()],
    };
    let r = s.correct(&o.id, "bỏ", None, &not_shown, at + Duration::minutes(4));
    assert!(
        matches!(r, Err(StoreError::Unknown { what: "photo", .. })),
        "{r:?}"
    );
    // What the log shows: photos 2-4 and the added one.
    let log = s.shift_log(s.active_shift().unwrap().unwrap()).unwrap();
    let corrections: Vec<_> = log
        .entries
        .iter()
        .filter_map(|e| match e {
            LogEntry::Correction(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let shown = patrol::domain::photo::shown(
        &o.photos,
        corrections
            .iter()
            .map(|c| (c.photos_added.as_slice(), c.photos_removed.as_slice())),
    );
    let mut want: Vec<PhotoHash> = o.photos[1..].iter().map(|p| p.hash.clone()).collect();
    want.push(PhotoHash::of(&prepared(9).full));
    assert_eq!(
        shown.iter().map(|p| p.hash.clone()).collect::<Vec<_>>(),
        want
    );

    // The server refuses the observation's record (its event parked on the phone): its photos
    // will never go, so they count as refused, not as waiting; the correction's photo still waits.
    assert_eq!(s.photo_usage().unwrap().waiting, 4);
    s.conn()
        .execute(
            "UPDATE outbox SET refused_code = 'forbidden' WHERE entity_id = ?1",
            [&o.id],
        )
        .unwrap();
    let usage = s.photo_usage().unwrap();
    assert_eq!((usage.waiting, usage.refused), (1, 3));
}
