//! The worker side: installs the OPFS VFS, opens the database, then answers commands and runs the
//! sync loop beside the store. It answers "ready" only after the database is open, so no message
//! is sent before it listens.

use super::fetch::FetchTransport;
use crate::platform::protocol::{Request, Response, StartError};
use crate::service::door;
use crate::service::{ApiError, Command, Local, Service};
use crate::store::sync_state::SyncKey;
use crate::store::{Durability, Store, StoreError};
use crate::sync::engine::Shared as _;
use crate::sync::schedule::{Next, Outcome, Schedule, Trigger};
use sqlite_wasm_rs::WasmOsCallback;
use sqlite_wasm_vfs::sahpool::{install, OpfsSAHError, OpfsSAHPoolCfgBuilder};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The database file's name inside the OPFS pool.
const DB_NAME: &str = "patrol.db";

fn post(scope: &DedicatedWorkerGlobalScope, msg: &Response) {
    let text = serde_json::to_string(msg).expect("responses serialise");
    // Posting a string to our own page cannot fail short of the page being gone.
    let _ = scope.post_message(&JsValue::from_str(&text));
}

async fn open(faults: &Faults) -> Result<Service, StartError> {
    let cfg = OpfsSAHPoolCfgBuilder::new()
        // index.html's head script looks for this folder to tell a new phone (web/mod.rs).
        .directory(".patrol-db")
        .initial_capacity(6)
        .build();
    install::<WasmOsCallback>(&cfg, true)
        .await
        .map_err(|e| match e {
            OpfsSAHError::NotSupported => StartError::Unsupported {
                detail: e.to_string(),
            },
            OpfsSAHError::Opfs { ref message, .. } if message.contains("NoModificationAllowed") => {
                StartError::OtherTab
            }
            other => StartError::Unsupported {
                detail: other.to_string(),
            },
        })?;
    let store = connect(faults).map_err(|e| StartError::Store {
        error: ApiError::from(e),
    })?;
    Ok(Service::new(store))
}

/// Opens the database in the installed pool (at start, and again after its storage failed).
fn connect(faults: &Faults) -> Result<Store, StoreError> {
    let conn = rusqlite::Connection::open(DB_NAME).map_err(crate::store::map_open_error)?;
    let store = Store::from_connection(conn, Durability::OpfsJournal)?;
    faults.apply(&store)?;
    Ok(store)
}

/// A knob for the browser tests: the first `n` connections the worker opens refuse writes as a
/// storage that failed would (SQLite answers "readonly"), so the tests can watch the worker
/// reopen the database and save what was typed without a reload. The page sends `n`, from
/// `PATROL_STORE_FAULTS`, in the worker's start message; it is 0 for everyone else.
struct Faults(Cell<u32>);

impl Faults {
    fn apply(&self, store: &Store) -> Result<(), StoreError> {
        let left = self.0.get();
        if left > 0 {
            self.0.set(left - 1);
            store.conn().pragma_update(None, "query_only", true)?;
        }
        Ok(())
    }
}

/// The sync loop: one round at a time, planned by the shared [`Schedule`] after writes, when the
/// connection comes back, and after each round.
struct SyncLoop {
    scope: DedicatedWorkerGlobalScope,
    service: Rc<RefCell<Service>>,
    running: Cell<bool>,
    again: Cell<bool>,
    schedule: Cell<Schedule>,
    timer: Cell<Option<i32>>,
    /// The ward server's announcements are being listened to (leaders, officers, admins).
    announcing: Cell<bool>,
}

impl SyncLoop {
    /// Plans the next round after `trigger`, replacing any round already planned.
    fn on(self: &Rc<Self>, trigger: Trigger) {
        let mut schedule = self.schedule.get();
        let next = schedule.next(trigger, js_sys::Math::random());
        self.schedule.set(schedule);
        if let Next::In(delay_ms) = next {
            self.after(delay_ms.min(i32::MAX as u64) as i32);
        }
    }

    fn after(self: &Rc<Self>, delay_ms: i32) {
        if let Some(t) = self.timer.take() {
            self.scope.clear_timeout_with_handle(t);
        }
        let me = self.clone();
        let cb = Closure::once_into_js(move || {
            wasm_bindgen_futures::spawn_local(async move { me.run().await })
        });
        self.timer.set(
            self.scope
                .set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), delay_ms)
                .ok(),
        );
    }

    /// Opens the ward server's announcements for a reviewer, unless already open: its opening and
    /// each announcement start a round at once (see [`super::announce`]).
    fn listen(self: &Rc<Self>) {
        if self.announcing.get() {
            return;
        }
        let found = self.service.with(|s| {
            let store = s.store();
            let reviewer = crate::store::team::reviews(store.role().ok().flatten());
            let url = store.sync_value(SyncKey::ServerUrl).ok().flatten();
            let token = store.sync_value(SyncKey::Token).ok().flatten();
            reviewer.then_some(()).and(url.zip(token))
        });
        let Some((url, token)) = found else {
            return;
        };
        self.announcing.set(true);
        let (on_open, on_feed, on_end) = (self.clone(), self.clone(), self.clone());
        super::announce::start(
            &url,
            &token,
            // What was committed since this round's pull was not announced to this stream.
            move || on_open.on(Trigger::Connected),
            move || on_feed.on(Trigger::Connected),
            move || on_end.announcing.set(false),
        );
    }

    async fn run(self: &Rc<Self>) {
        self.timer.set(None);
        if self.running.replace(true) {
            self.again.set(true);
            return;
        }
        let mut outcome = door::background_sync(&*self.service, &FetchTransport::new).await;
        let scope: web_sys::WorkerGlobalScope = self.scope.clone().unchecked_into();
        if outcome == Outcome::Retryable && !scope.navigator().on_line() {
            outcome = Outcome::Offline;
        }
        self.running.set(false);
        // Not enrolled: nothing was synced and the page's state is already current.
        if outcome != Outcome::NotEnrolled {
            if let Ok(change) = door::refreshed(&*self.service) {
                post(&self.scope, &Response::Update { change });
            }
        }
        if outcome == Outcome::Synced {
            self.listen();
        }
        if self.again.replace(false) && outcome == Outcome::Synced {
            self.after(0);
        } else {
            self.on(Trigger::Ended(outcome));
        }
    }
}

/// Entry point of the worker script: opens the store and starts answering.
#[wasm_bindgen]
pub async fn start_worker(clock_offset_ms: f64, store_faults: u32) {
    crate::clock::set_offset_ms(clock_offset_ms as i64);
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let faults = Rc::new(Faults(Cell::new(store_faults)));
    let service = match open(&faults).await {
        Ok(s) => Rc::new(RefCell::new(s)),
        Err(error) => {
            post(&scope, &Response::Fatal { error });
            return;
        }
    };
    // The state the page asks for first, read now rather than after a round trip.
    let first = door::handle(
        &*service,
        Command::Local(Local::State),
        FetchTransport::new,
        || connect(&faults),
    )
    .await;
    let sync = Rc::new(SyncLoop {
        scope: scope.clone(),
        service: service.clone(),
        running: Cell::new(false),
        again: Cell::new(false),
        schedule: Cell::new(Schedule::default()),
        timer: Cell::new(None),
        announcing: Cell::new(false),
    });
    let (reply_scope, loop_) = (scope.clone(), sync.clone());
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let Some(text) = ev.data().as_string() else {
            return;
        };
        let Ok(req) = serde_json::from_str::<Request>(&text) else {
            return;
        };
        let (service, scope, loop_) = (service.clone(), reply_scope.clone(), loop_.clone());
        let faults = faults.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let trigger = req.cmd.sync_trigger();
            let reply =
                door::handle(&*service, req.cmd, FetchTransport::new, || connect(&faults)).await;
            let ok = reply.result.is_ok();
            post(&scope, &Response::Reply { id: req.id, reply });
            if let (true, Some(trigger)) = (ok, trigger) {
                loop_.on(trigger);
            }
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page: the handlers must too.
    on_message.forget();
    let online_loop = sync.clone();
    let on_online = Closure::<dyn FnMut()>::new(move || online_loop.on(Trigger::Connected));
    let _ = scope.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    on_online.forget();
    post(&scope, &Response::Ready { first });
    sync.on(Trigger::Started);
}
