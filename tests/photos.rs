//! Photos on observations against a real ward server on 127.0.0.1 (issue 13): a phone pushes the
//! observation, then uploads each file (thumbnail, then photo) in pieces; a cut upload resumes
//! from what the server holds; a file is kept once whoever uploads it; what is not the named
//! image (another hash, not an image, EXIF left in) is refused and dropped; pieces too large or
//! at the wrong place are refused; only the devices of the observation's readers read it; a
//! fifth photo refuses the event; a full ward refuses new files; a backup keeps the photos.
//! Every JPEG is made here with the `image` crate.

mod common;

use chrono::{TimeZone, Utc};
use common::client::Device;
use common::{Server, TEAM2};
use patrol::domain::observation::Category;
use patrol::domain::photo::{PhotoHash, PhotoRef};
use patrol::domain::records::Observation;
use patrol::domain::ward::Role;
use patrol::wire::api::{ErrorBody, RefusalCode};
use patrol::wire::event::{Event, EventKind};
use patrol::wire::photo::{
    photo_path, upload_path, UploadState, CHUNK_BYTES, RECEIVED_HEADER, SIZE_HEADER,
};
use patrol_server::db::backup;
use patrol_server::error::ServerError;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The seeded server (the demo ward's first team: demo-m1 leads it, demo-m2..m4 are members) plus team 2 of the demo ward (a leader, an officer) and a leader in ward 2.
async fn world(tune: impl FnOnce(&mut patrol_server::app::ServerConfig)) -> Server {
    common::start_with_people(
        &[
            (TEAM2, "b-l1", Role::Leader),
            (TEAM2, "demo-o1", Role::Officer),
            ("t2", "w2-l1", Role::Leader),
        ],
        tune,
    )
    .await
}

/// A JPEG of about a byte per pixel (grain of 64 levels at quality 85).
fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    common::jpeg::jpeg(width, height, seed, 64, 85)
}

/// `jpeg` with an EXIF APP1 segment (a GPS IFD pointer, as a camera writes) right after SOI.
fn with_exif(jpeg: &[u8]) -> Vec<u8> {
    let tiff: &[u8] = b"II*\0\x08\0\0\0\x01\0\x25\x88\x04\0\x01\0\0\0\x1a\0\0\0\0\0\0\0";
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend(b"Exif\0\0");
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

fn hash(bytes: &[u8]) -> PhotoHash {
    PhotoHash::from_digest(&Sha256::digest(bytes).into())
}

/// A photo and its thumbnail, as files and as the record names them.
struct Photo {
    full: Vec<u8>,
    thumb: Vec<u8>,
    r: PhotoRef,
}

fn photo(seed: u32) -> Photo {
    let (full, thumb) = (jpeg(640, 480, seed), jpeg(160, 120, seed + 1000));
    photo_of(full, thumb, 640, 480)
}

fn photo_of(full: Vec<u8>, thumb: Vec<u8>, width: u32, height: u32) -> Photo {
    let r = PhotoRef {
        hash: hash(&full),
        bytes: full.len() as u64,
        width,
        height,
        thumb: hash(&thumb),
        thumb_bytes: thumb.len() as u64,
    };
    Photo { full, thumb, r }
}

/// An observation `id` of `device` naming `photos`.
fn observation(device: &mut Device, id: &str, photos: &[&PhotoRef]) -> Event {
    let record = Observation {
        id: id.into(),
        shift_id: format!("shift-{}", device.member),
        category: Category::SuspiciousVehicle,
        description: Some("Xe máy đỗ lâu trước cổng".into()),
        plate: None,
        people: None,
        action: None,
        urgent: false,
        fix: None,
        at: Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).unwrap(),
        photos: photos.iter().map(|r| (*r).clone()).collect(),
    };
    device.event(
        EventKind::Observed,
        id,
        serde_json::to_value(record).unwrap(),
    )
}

/// Pushes the observation `id` of `device` naming `photos`, and gives its refusal code, if any.
async fn push_observation(
    device: &mut Device,
    id: &str,
    photos: &[&PhotoRef],
) -> Option<RefusalCode> {
    let e = observation(device, id, photos);
    push_one(device, e).await
}

/// Pushes one event and gives its refusal code, if any.
async fn push_one(device: &Device, e: Event) -> Option<RefusalCode> {
    let r = device.push_ok(std::slice::from_ref(&e)).await;
    r.refused.first().map(|x| x.code)
}

/// The photo API as one device calls it.
struct Api<'a> {
    url: &'a str,
    device: &'a Device,
    http: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(server: &'a Server, device: &'a Device) -> Self {
        Self::at(&server.url, device)
    }

    fn at(url: &'a str, device: &'a Device) -> Self {
        Api {
            url,
            device,
            http: reqwest::Client::new(),
        }
    }

    async fn state(&self, hash: &PhotoHash) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.url, upload_path(hash)))
            .bearer_auth(&self.device.token)
            .send()
            .await
            .unwrap()
    }

    async fn state_ok(&self, hash: &PhotoHash) -> UploadState {
        let resp = self.state(hash).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    async fn put(&self, hash: &PhotoHash, offset: u64, piece: &[u8]) -> reqwest::Response {
        self.http
            .put(format!("{}{}?offset={offset}", self.url, upload_path(hash)))
            .bearer_auth(&self.device.token)
            .header("content-type", "application/octet-stream")
            .body(piece.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Uploads `bytes` from `from` on, in pieces of [`CHUNK_BYTES`], at most `pieces` of them;
    /// gives the last answer's state.
    async fn upload(
        &self,
        hash: &PhotoHash,
        bytes: &[u8],
        from: u64,
        pieces: usize,
    ) -> UploadState {
        let mut state = None;
        for (i, piece) in bytes[from as usize..].chunks(CHUNK_BYTES).enumerate() {
            if i == pieces {
                break;
            }
            let offset = from + (i * CHUNK_BYTES) as u64;
            let resp = self.put(hash, offset, piece).await;
            assert_eq!(resp.status(), StatusCode::OK, "piece at {offset}");
            state = Some(resp.json::<UploadState>().await.unwrap());
        }
        state.expect("at least one piece")
    }

    /// Uploads a photo's thumbnail, then the photo, whole.
    async fn upload_photo(&self, p: &Photo) {
        for (h, bytes) in [(&p.r.thumb, &p.thumb), (&p.r.hash, &p.full)] {
            let s = self.upload(h, bytes, 0, usize::MAX).await;
            assert!(s.stored, "{s:?}");
        }
    }

    async fn read(&self, hash: &PhotoHash) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.url, photo_path(hash)))
            .bearer_auth(&self.device.token)
            .send()
            .await
            .unwrap()
    }
}

/// The status and error code of a refused answer.
async fn refused(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: ErrorBody = resp.json().await.unwrap();
    (status, body.error)
}

/// Rows of the photo tables: (photo, photo_blob, stored blobs).
async fn rows(server: &Server) -> (i64, i64, i64) {
    server
        .shared
        .write(|db| {
            Ok(db.conn().query_row(
                "SELECT (SELECT COUNT(*) FROM photo), (SELECT COUNT(*) FROM photo_blob),
                        (SELECT COUNT(*) FROM photo_blob WHERE stored_at IS NOT NULL)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap()
}

/// Every file under the server's photos' folder (partial uploads included), as relative paths.
fn files(server: &Server, any: &PhotoHash) -> Vec<String> {
    let root = server
        .shared
        .photos()
        .path(any)
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Sends a piece whose body is cut off: the headers promise `CHUNK_BYTES`, a part arrives, and
/// the connection closes.
async fn cut_piece(server: &Server, device: &Device, hash: &PhotoHash, offset: u64, part: &[u8]) {
    let addr = server.url.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT {}?offset={offset} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {CHUNK_BYTES}\r\n\r\n",
        upload_path(hash),
        device.token
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(part).await.unwrap();
    conn.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest).await;
}

#[tokio::test]
async fn a_cut_upload_resumes_from_what_the_server_holds_and_each_file_is_kept_once() {
    let server = world(|_| {}).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let p = photo(1);
    assert!(
        p.full.len() > 3 * CHUNK_BYTES && p.full.len() as u64 <= 1024 * 1024,
        "the test photo spans several pieces: {} bytes",
        p.full.len()
    );
    assert_eq!(push_observation(&mut member, "o1", &[&p.r]).await, None);
    let api = Api::new(&server, &member);
    assert_eq!(
        api.state_ok(&p.r.thumb).await,
        UploadState {
            received: 0,
            size: p.r.thumb_bytes,
            stored: false
        }
    );
    api.upload(&p.r.thumb, &p.thumb, 0, usize::MAX).await;

    // Two pieces, then a piece cut off mid-body: it keeps nothing.
    let two = api.upload(&p.r.hash, &p.full, 0, 2).await;
    assert_eq!(two.received, 2 * CHUNK_BYTES as u64);
    let at = 2 * CHUNK_BYTES;
    cut_piece(
        &server,
        &member,
        &p.r.hash,
        at as u64,
        &p.full[at..at + 1000],
    )
    .await;
    let state = api.state_ok(&p.r.hash).await;
    assert_eq!(
        state,
        UploadState {
            received: 2 * CHUNK_BYTES as u64,
            size: p.r.bytes,
            stored: false
        }
    );
    // Starting again from zero is refused, and the answer says where to go on.
    let resp = api.put(&p.r.hash, 0, &p.full[..CHUNK_BYTES]).await;
    assert_eq!(
        resp.headers()[RECEIVED_HEADER].to_str().unwrap(),
        (2 * CHUNK_BYTES).to_string()
    );
    assert_eq!(
        resp.headers()[SIZE_HEADER].to_str().unwrap(),
        p.r.bytes.to_string()
    );
    assert_eq!(
        refused(resp).await,
        (StatusCode::CONFLICT, "offset_mismatch".into())
    );
    // Resumed from `received`, never from zero.
    let done = api
        .upload(&p.r.hash, &p.full, state.received, usize::MAX)
        .await;
    assert_eq!(
        done,
        UploadState {
            received: p.r.bytes,
            size: p.r.bytes,
            stored: true
        }
    );
    let kept = std::fs::read(server.shared.photos().path(&p.r.hash)).unwrap();
    assert_eq!(hash(&kept), p.r.hash);
    assert_eq!(kept, p.full);

    // Another device of the team names the same photo: already stored, nothing stored twice.
    let mut other = Device::enroll(&server, "demo-m3").await;
    assert_eq!(push_observation(&mut other, "o2", &[&p.r]).await, None);
    let again = Api::new(&server, &other);
    for (h, size) in [(&p.r.hash, p.r.bytes), (&p.r.thumb, p.r.thumb_bytes)] {
        let stored = UploadState {
            received: size,
            size,
            stored: true,
        };
        assert_eq!(again.state_ok(h).await, stored);
        let resp = again.put(h, 0, &p.full[..100]).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.json::<UploadState>().await.unwrap(), stored);
    }
    let want: Vec<String> = [&p.r.hash, &p.r.thumb]
        .iter()
        .map(|h| format!("{}/{}", &h.as_str()[..2], h))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(files(&server, &p.r.hash), want, "one file each, no partial");
    assert_eq!(rows(&server).await, (4, 2, 2));

    // Reads: the member who took it, the team's leader, the ward's officer: the same bytes.
    let leader = Device::enroll(&server, "demo-m1").await;
    let officer = Device::enroll(&server, "demo-o1").await;
    for reader in [&member, &leader, &officer] {
        let resp = Api::new(&server, reader).read(&p.r.hash).await;
        assert_eq!(resp.status(), StatusCode::OK, "{}", reader.member);
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        assert_eq!(resp.headers()["cache-control"], "private, no-cache");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert!(resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox"));
        assert_eq!(resp.bytes().await.unwrap().as_ref(), p.full.as_slice());
    }
    let thumb = Api::new(&server, &leader).read(&p.r.thumb).await;
    assert_eq!(thumb.bytes().await.unwrap().as_ref(), p.thumb.as_slice());
    // Not: a member who did not take it, another team's leader, a device of another ward.
    let bystander = Device::enroll(&server, "demo-m4").await;
    let other_team = Device::enroll(&server, "b-l1").await;
    let other_ward = Device::enroll(&server, "w2-l1").await;
    for reader in [&bystander, &other_team, &other_ward] {
        assert_eq!(
            refused(Api::new(&server, reader).read(&p.r.hash).await).await,
            (StatusCode::NOT_FOUND, "unknown_photo".into()),
            "{}",
            reader.member
        );
    }
    // Nor may they upload it: no record of theirs names it.
    assert_eq!(
        refused(Api::new(&server, &other_ward).state(&p.r.hash).await).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into())
    );
}

#[tokio::test]
async fn what_is_not_the_named_photo_is_refused_and_dropped() {
    let server = world(|_| {}).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let good = photo(2);
    // Named as one photo, uploaded as another of the same size.
    let impostor = {
        let mut bytes = good.full.clone();
        let n = bytes.len();
        bytes[n - 10] ^= 0x55;
        bytes
    };
    let pdf = {
        let mut b = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec();
        b.resize(3000, b' ');
        b
    };
    let not_image = photo_of(pdf.clone(), good.thumb.clone(), 640, 480);
    let exif = photo_of(with_exif(&good.full), good.thumb.clone(), 640, 480);
    assert_eq!(
        push_observation(&mut member, "o1", &[&good.r, &not_image.r, &exif.r]).await,
        None
    );
    let api = Api::new(&server, &member);

    // Hash mismatch: the last piece is checked and the partial copy dropped.
    let mut resp = None;
    for (i, piece) in impostor.chunks(CHUNK_BYTES).enumerate() {
        resp = Some(api.put(&good.r.hash, (i * CHUNK_BYTES) as u64, piece).await);
    }
    assert_eq!(
        refused(resp.unwrap()).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "hash_mismatch".into())
    );
    assert_eq!(api.state_ok(&good.r.hash).await.received, 0);

    // Not an image (a PDF under its own true hash).
    assert_eq!(
        refused(api.put(&not_image.r.hash, 0, &pdf).await).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "not_image".into())
    );
    assert_eq!(api.state_ok(&not_image.r.hash).await.received, 0);

    // EXIF left in.
    let mut resp = None;
    for (i, piece) in exif.full.chunks(CHUNK_BYTES).enumerate() {
        resp = Some(api.put(&exif.r.hash, (i * CHUNK_BYTES) as u64, piece).await);
    }
    assert_eq!(
        refused(resp.unwrap()).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "metadata".into())
    );
    assert_eq!(api.state_ok(&exif.r.hash).await.received, 0);

    // A piece over CHUNK_BYTES; a piece past the declared size; a piece at the wrong place.
    let big = vec![0u8; CHUNK_BYTES + 1];
    assert_eq!(
        refused(api.put(&good.r.hash, 0, &big).await).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".into())
    );
    assert_eq!(
        refused(
            api.put(&good.r.thumb, 0, &good.full[..good.thumb.len() + 1])
                .await
        )
        .await,
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large".into())
    );
    let resp = api.put(&good.r.hash, 5, &good.full[5..100]).await;
    assert_eq!(resp.headers()[RECEIVED_HEADER], "0");
    assert_eq!(
        refused(resp).await,
        (StatusCode::CONFLICT, "offset_mismatch".into())
    );
    // After all that, the true bytes go in.
    api.upload_photo(&good).await;
    assert_eq!(
        api.read(&good.r.hash).await.bytes().await.unwrap().as_ref(),
        good.full.as_slice()
    );
    // Nothing refused was kept, and no partial copy is left.
    let mut want: Vec<String> = [&good.r.hash, &good.r.thumb]
        .iter()
        .map(|h| format!("{}/{}", &h.as_str()[..2], h))
        .collect();
    want.sort();
    assert_eq!(files(&server, &good.r.hash), want);

    // Another device's observation: its photos are unknown to this one, and a hash that is
    // not a hash names nothing.
    let mut other = Device::enroll(&server, "demo-m3").await;
    let theirs = photo(3);
    assert_eq!(push_observation(&mut other, "o2", &[&theirs.r]).await, None);
    assert_eq!(
        refused(api.state(&theirs.r.hash).await).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into())
    );
    assert_eq!(
        refused(api.put(&theirs.r.hash, 0, &theirs.full[..100]).await).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into())
    );
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/photos/..%2Fward.db/upload", server.url))
        .bearer_auth(&member.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused(resp).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into())
    );
    // Before its upload, the one who may read it hears 404 too.
    let resp = Api::new(&server, &other).read(&theirs.r.hash).await;
    let (status, body) = (resp.status(), resp.json::<ErrorBody>().await.unwrap());
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::NOT_FOUND, "unknown_photo")
    );
    assert!(
        body.message.contains("not uploaded yet"),
        "{}",
        body.message
    );
}

#[tokio::test]
async fn a_fifth_photo_refuses_the_observation_and_nothing_is_recorded() {
    let server = world(|_| {}).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let photos: Vec<Photo> = (10..15)
        .map(|s| photo_of(vec![s as u8; 10], vec![s as u8 + 100; 10], 640, 480))
        .collect();
    let refs: Vec<&PhotoRef> = photos.iter().map(|p| &p.r).collect();
    let e = observation(&mut member, "o1", &refs);
    let r = member.push_ok(std::slice::from_ref(&e)).await;
    assert_eq!(r.refused.len(), 1, "{r:?}");
    assert_eq!(r.refused[0].code, RefusalCode::BadPayload);
    assert!(
        r.refused[0].message.contains("photo"),
        "{}",
        r.refused[0].message
    );
    assert_eq!(r.stored_through, e.seq, "the refusal settles its sequence");
    assert_eq!(rows(&server).await, (0, 0, 0));
    assert_eq!(
        refused(Api::new(&server, &member).state(&photos[0].r.hash).await).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into())
    );
    // Four are fine.
    let e = observation(&mut member, "o2", &refs[..4]);
    assert_eq!(push_one(&member, e).await, None);
    assert_eq!(rows(&server).await, (8, 8, 0));
}

#[tokio::test]
async fn a_ward_past_its_photo_quota_refuses_new_files() {
    let p = photo(4);
    let quota = p.thumb.len() as u64 + 100;
    let server = world(move |c| c.photo_quota = quota).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    assert_eq!(push_observation(&mut member, "o1", &[&p.r]).await, None);
    let api = Api::new(&server, &member);
    let thumb = api.upload(&p.r.thumb, &p.thumb, 0, usize::MAX).await;
    assert!(thumb.stored);
    assert_eq!(
        refused(api.put(&p.r.hash, 0, &p.full[..CHUNK_BYTES]).await).await,
        (StatusCode::INSUFFICIENT_STORAGE, "ward_quota".into())
    );
    assert_eq!(api.state_ok(&p.r.hash).await.received, 0);
}

/// Uploads count against the quota from their first piece: two photos started at once cannot
/// take a ward past it (a file left half-uploaded holds its place until it is abandoned).
#[tokio::test]
async fn uploads_under_way_count_against_the_quota() {
    let (a, b) = (photo(11), photo(12));
    let quota = a.r.bytes + a.r.thumb_bytes + b.r.thumb_bytes + 10;
    let server = world(move |c| c.photo_quota = quota).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    assert_eq!(
        push_observation(&mut member, "o1", &[&a.r, &b.r]).await,
        None
    );
    let api = Api::new(&server, &member);
    // The thumbnails, then a's first piece: a's whole size is now held for it.
    assert!(api.upload(&a.r.thumb, &a.thumb, 0, usize::MAX).await.stored);
    assert!(api.upload(&b.r.thumb, &b.thumb, 0, usize::MAX).await.stored);
    let first = api.put(&a.r.hash, 0, &a.full[..CHUNK_BYTES]).await;
    assert_eq!(first.status(), StatusCode::OK);
    // b's first piece would pass the quota with a still under way: refused, nothing written.
    assert_eq!(
        refused(api.put(&b.r.hash, 0, &b.full[..CHUNK_BYTES]).await).await,
        (StatusCode::INSUFFICIENT_STORAGE, "ward_quota".into())
    );
    assert_eq!(api.state_ok(&b.r.hash).await.received, 0);
    // a goes on and is stored.
    assert!(
        api.upload(&a.r.hash, &a.full, CHUNK_BYTES as u64, usize::MAX)
            .await
            .stored
    );
}

#[tokio::test]
async fn a_backup_restored_into_a_fresh_data_directory_keeps_the_photos() {
    let data = tempfile::tempdir().unwrap();
    common::seed(data.path());
    let running = common::run(data.path()).await;
    let code = running.code("demo-m2").await;
    let mut member = Device::enroll_at(&running.url, "demo-m2", &code).await;
    let p = photo(5);
    assert_eq!(push_observation(&mut member, "o1", &[&p.r]).await, None);
    Api::at(&running.url, &member).upload_photo(&p).await;

    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("ward-backup.db");
    let f = file.clone();
    let report = running
        .shared
        .write(move |db| {
            backup::backup(db.conn(), &f, false).map_err(|e| ServerError::Internal(e.to_string()))
        })
        .await
        .unwrap();
    assert_eq!((report.photos.written, report.photos.missing.len()), (2, 0));
    assert!(out
        .path()
        .join("ward-backup.db.photos")
        .join(&p.r.hash.as_str()[..2])
        .join(p.r.hash.as_str())
        .exists());
    // A photo stored after the backup.
    let q = photo(7);
    let later = observation(&mut member, "o2", &[&q.r]);
    assert_eq!(push_one(&member, later.clone()).await, None);
    Api::at(&running.url, &member).upload_photo(&q).await;
    let addr = running.url.trim_start_matches("http://").to_string();
    running.stop().await;

    let fresh = tempfile::tempdir().unwrap();
    let restored = backup::restore(
        &fresh.path().join("ward.db"),
        &file,
        Utc.with_ymd_and_hms(2026, 12, 6, 1, 0, 0).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (restored.photos.written, restored.photos.missing.len()),
        (2, 0)
    );
    let again = common::run(fresh.path()).await;
    let resp = Api::at(&again.url, &member).read(&p.r.hash).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), p.full.as_slice());
    assert!(
        Api::at(&again.url, &member)
            .state_ok(&p.r.thumb)
            .await
            .stored
    );
    again.stop().await;

    // Restored over the live data directory: the photo stored after the backup stays stored, so
    // once the phone sends its observation again there is nothing left to upload.
    let restored = backup::restore(
        &data.path().join("ward.db"),
        &file,
        Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            restored.photos.written,
            restored.photos.present,
            restored.photos.missing.len()
        ),
        (0, 4, 0),
        "the backup's two files and the two stored after it, all in place"
    );
    // On the same address: the phone pushes where it enrolled.
    let again = common::run_on(data.path(), &addr).await;
    let api = Api::at(&again.url, &member);
    assert_eq!(
        refused(api.state(&q.r.hash).await).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into()),
        "its observation is not on the server until the phone sends it again"
    );
    assert_eq!(push_one(&member, later).await, None);
    assert!(api.state_ok(&q.r.hash).await.stored);
    let resp = api.read(&q.r.hash).await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), q.full.as_slice());
    again.stop().await;
}

#[tokio::test]
async fn a_whole_copy_left_unchecked_is_finished_by_an_empty_piece() {
    let server = world(|_| {}).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let p = photo(6);
    assert_eq!(push_observation(&mut member, "o1", &[&p.r]).await, None);
    // As if the server stopped after the last piece was written, before its check.
    let stored_path = server.shared.photos().path(&p.r.thumb);
    let partial = server.shared.photos().partial("demo-ward", &p.r.thumb);
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &p.thumb).unwrap();
    let api = Api::new(&server, &member);
    let size = p.r.thumb_bytes;
    assert_eq!(
        api.state_ok(&p.r.thumb).await,
        UploadState {
            received: size,
            size,
            stored: false
        }
    );
    let resp = api.put(&p.r.thumb, size, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.json::<UploadState>().await.unwrap().stored);
    assert_eq!(std::fs::read(stored_path).unwrap(), p.thumb);
}

/// A correction taking a photo off an observation: the observation's readers no longer read it
/// (photo nor thumbnail) through that observation.
#[tokio::test]
async fn a_photo_taken_off_by_a_correction_is_no_longer_read_through_its_observation() {
    let server = world(|_| {}).await;
    let mut member = Device::enroll(&server, "demo-m2").await;
    let (p, q) = (photo(21), photo(22));
    assert_eq!(
        push_observation(&mut member, "o1", &[&p.r, &q.r]).await,
        None
    );
    let api = Api::new(&server, &member);
    api.upload_photo(&p).await;
    api.upload_photo(&q).await;
    let leader = Device::enroll(&server, "demo-m1").await;
    let reads = Api::new(&server, &leader);
    assert_eq!(reads.read(&p.r.hash).await.status(), StatusCode::OK);

    let taking_off =
        |device: &Device, id: &str, hash: &PhotoHash| patrol::domain::records::Correction {
            id: id.into(),
            shift_id: format!("shift-{}", device.member),
            target_id: "o1".into(),
            text: "ảnh 1 chụp nhầm người đi đường".into(),
            new_category: None,
            at: Utc.with_ymd_and_hms(2026, 12, 5, 15, 5, 0).unwrap(),
            photos_added: Vec::new(),
            photos_removed: vec![hash.clone()],
        };
    // Another member's device naming o1 in its own correction cannot take o1's photo off.
    let mut other = Device::enroll(&server, "demo-m3").await;
    let c = taking_off(&other, "c-other", &q.r.hash);
    let e = other.event(
        EventKind::Corrected,
        "c-other",
        serde_json::to_value(c).unwrap(),
    );
    push_one(&other, e).await;
    assert_eq!(reads.read(&q.r.hash).await.status(), StatusCode::OK);

    let c = taking_off(&member, "c1", &p.r.hash);
    let e = member.event(EventKind::Corrected, "c1", serde_json::to_value(c).unwrap());
    assert_eq!(push_one(&member, e).await, None);
    for hash in [&p.r.hash, &p.r.thumb] {
        assert_eq!(
            refused(reads.read(hash).await).await,
            (StatusCode::NOT_FOUND, "unknown_photo".into())
        );
    }
    // The other photo is untouched.
    assert_eq!(reads.read(&q.r.hash).await.status(), StatusCode::OK);
    assert_eq!(reads.read(&q.r.thumb).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_photo_of_another_ward_gives_that_ward_nothing_until_it_sends_its_own_copy() {
    let server = world(|_| {}).await;
    let mut a = Device::enroll(&server, "demo-m2").await;
    let p = photo(31);
    assert_eq!(push_observation(&mut a, "o-a", &[&p.r]).await, None);
    let a_api = Api::new(&server, &a);
    a_api.upload(&p.r.thumb, &p.thumb, 0, usize::MAX).await;
    let part = a_api.upload(&p.r.hash, &p.full, 0, 3).await;
    assert_eq!(part.received, 3 * CHUNK_BYTES as u64);

    // Ward 2's member names ward 1's hashes, the photo's with another size.
    let mut b = Device::enroll(&server, "w2-m1").await;
    let mut named = p.r.clone();
    named.bytes += 1;
    assert_eq!(push_observation(&mut b, "o-b", &[&named]).await, None);
    let b_leader = Device::enroll(&server, "w2-l1").await;
    let (b_api, b_reads) = (Api::new(&server, &b), Api::new(&server, &b_leader));
    for api in [&b_api, &b_reads] {
        assert_eq!(
            refused(api.read(&p.r.thumb).await).await,
            (StatusCode::NOT_FOUND, "unknown_photo".into()),
            "ward 2 reads nothing of ward 1's stored thumbnail"
        );
    }
    // Its upload state tells nothing of ward 1's copies, and changes nothing of ward 1's upload.
    assert_eq!(
        b_api.state_ok(&p.r.thumb).await,
        UploadState {
            received: 0,
            size: p.r.thumb_bytes,
            stored: false
        }
    );
    assert_eq!(
        b_api.state_ok(&p.r.hash).await,
        UploadState {
            received: 0,
            size: p.r.bytes + 1,
            stored: false
        }
    );
    assert_eq!(a_api.state_ok(&p.r.hash).await.received, part.received);
    let resumed = a_api
        .upload(&p.r.hash, &p.full, part.received, usize::MAX)
        .await;
    assert!(resumed.stored, "{resumed:?}");
    assert_eq!(
        refused(b_reads.read(&p.r.hash).await).await,
        (StatusCode::NOT_FOUND, "unknown_photo".into())
    );
    assert!(!b_api.state_ok(&p.r.hash).await.stored);

    // Ward 2 sends the thumbnail's bytes itself: its own copy, read by its own devices only
    // through its own records; the file stays one on disk.
    let own = b_api.upload(&p.r.thumb, &p.thumb, 0, usize::MAX).await;
    assert!(own.stored, "{own:?}");
    assert_eq!(
        b_reads.read(&p.r.thumb).await.bytes().await.unwrap(),
        p.thumb
    );
    assert_eq!(
        files(&server, &p.r.hash)
            .iter()
            .filter(|f| f.ends_with(p.r.thumb.as_str()))
            .count(),
        1,
        "{:?}",
        files(&server, &p.r.hash)
    );
    // Ward 1's leader still reads ward 1's copy.
    let a_leader = Device::enroll(&server, "demo-m1").await;
    assert_eq!(
        Api::new(&server, &a_leader).read(&p.r.hash).await.status(),
        StatusCode::OK
    );
}
