//! A bare device for API tests: enrolled over HTTP for one member, it builds its events by hand
//! (numbered gap-free like a phone's outbox), pushes, pulls and listens to announcements.

use super::Server;
use chrono::{Duration, Utc};
use patrol::wire::api::{EnrollResponse, PullResponse, PushRequest, PushResponse};
use patrol::wire::event::{Event, EventKind};
use patrol::wire::feed::FeedItem;
use reqwest::StatusCode;
use serde_json::json;

/// An enrolled device.
pub struct Device {
    /// The device's id.
    pub id: String,
    /// Its member.
    pub member: String,
    /// Its bearer token.
    pub token: String,
    url: String,
    next_seq: i64,
    http: reqwest::Client,
}

impl Device {
    /// Enrolls a new device for `member` with a fresh code.
    pub async fn enroll(server: &Server, member: &str) -> Device {
        let code = server.code(member, Duration::hours(1)).await;
        Device::enroll_at(&server.url, member, &code).await
    }

    /// Enrolls a new device for `member` with `code` on the server at `url`.
    pub async fn enroll_at(url: &str, member: &str, code: &str) -> Device {
        let id = format!("dev-{member}-{}", uuid::Uuid::now_v7().simple());
        let http = reqwest::Client::new();
        let resp = http
            .post(format!("{url}/api/v1/enroll"))
            .json(&json!({ "code": code, "device_id": id }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "enrolling {member}");
        let e: EnrollResponse = resp.json().await.unwrap();
        Device {
            id,
            member: member.into(),
            token: e.token,
            url: url.to_string(),
            next_seq: 1,
            http,
        }
    }

    /// The device's next event: `kind` about `entity_id`, with `payload` as its record.
    pub fn event(&mut self, kind: EventKind, entity_id: &str, payload: serde_json::Value) -> Event {
        let seq = self.next_seq;
        self.next_seq += 1;
        Event {
            seq,
            event_id: uuid::Uuid::now_v7().to_string(),
            device_id: self.id.clone(),
            kind,
            entity_id: entity_id.into(),
            payload,
            client_time: chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 5, 15, 0, 0).unwrap(),
        }
    }

    /// POST /api/v1/push with `events`.
    pub async fn push(&self, events: &[Event]) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/push", self.url))
            .bearer_auth(&self.token)
            .json(&PushRequest {
                sent_at: patrol::clock::now(),
                events: events.to_vec(),
            })
            .send()
            .await
            .unwrap()
    }

    /// Pushes `events`, which must be answered 200, and gives the answer.
    pub async fn push_ok(&self, events: &[Event]) -> PushResponse {
        let resp = self.push(events).await;
        assert_eq!(resp.status(), StatusCode::OK, "push by {}", self.member);
        resp.json().await.unwrap()
    }

    /// Every feed item after `after`, paging through the feed.
    pub async fn pull_after(&self, mut after: i64) -> Vec<FeedItem> {
        let mut items = Vec::new();
        loop {
            let resp = self
                .http
                .get(format!("{}/api/v1/pull?after={after}&limit=5", self.url))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "pull by {}", self.member);
            let page: PullResponse = resp.json().await.unwrap();
            assert!(page.items.iter().all(|i| i.cursor > after));
            items.extend(page.items);
            after = page.cursor;
            if !page.more {
                return items;
            }
        }
    }

    /// GET /api/v1/announce.
    pub async fn announce(&self) -> reqwest::Response {
        self.http
            .get(format!("{}/api/v1/announce", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Opens an announcement stream, which must be answered 200 as `text/event-stream`.
    pub async fn listen(&self) -> Announcements {
        let resp = self.announce().await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "announce for {}",
            self.member
        );
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Announcements {
            resp,
            buf: String::new(),
        }
    }
}

/// One message of an announcement stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A comment (keep-alive).
    Comment(String),
    /// `event: feed` with its cursor.
    Feed(i64),
}

/// An open announcement stream, read message by message.
pub struct Announcements {
    resp: reqwest::Response,
    buf: String,
}

impl Announcements {
    /// The next message; `None` when the stream has ended.
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                return Some(parse(block.trim_end()));
            }
            match self.resp.chunk().await {
                Ok(Some(bytes)) => self.buf.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The cursor of the next `feed` event, skipping comments, within `secs` seconds.
    pub async fn next_feed(&mut self, secs: u64) -> i64 {
        tokio::time::timeout(std::time::Duration::from_secs(secs), async {
            loop {
                match self.next().await {
                    Some(Message::Feed(c)) => return c,
                    Some(Message::Comment(_)) => continue,
                    None => panic!("the stream ended before a feed event"),
                }
            }
        })
        .await
        .expect("a feed event in time")
    }
}

/// A message block of `text/event-stream`.
fn parse(block: &str) -> Message {
    let mut event = None;
    let mut data = None;
    for line in block.lines() {
        if let Some(c) = line.strip_prefix(':') {
            return Message::Comment(c.trim().to_string());
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        match field {
            "event" => event = Some(value.trim().to_string()),
            "data" => data = Some(value.trim().to_string()),
            other => panic!("unexpected field {other:?} in {block:?}"),
        }
    }
    assert_eq!(event.as_deref(), Some("feed"), "{block:?}");
    Message::Feed(data.expect("data").parse().expect("a cursor"))
}
