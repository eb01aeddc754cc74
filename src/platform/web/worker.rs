//! The worker side: installs the OPFS VFS, opens the database, then answers commands and runs the
//! sync loop beside the store. It answers "ready" only after the database is open, so no message
//! is sent before it listens.

use super::fetch::FetchTransport;
use crate::platform::protocol::{Request, Response, StartError};
use crate::service::shared::{self, SharedService};
use crate::service::{ApiError, Command, Service};
use crate::store::{Durability, Store};
use crate::sync::engine::backoff_ms;
use chrono::Utc;
use sqlite_wasm_rs::WasmOsCallback;
use sqlite_wasm_vfs::sahpool::{install, OpfsSAHError, OpfsSAHPoolCfgBuilder};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The database file's name inside the OPFS pool.
const DB_NAME: &str = "patrol.db";
/// After a write, wait this long for more before syncing (debounce).
const AFTER_WRITE_MS: i32 = 1_500;
/// Between successful syncs.
const PERIOD_MS: i32 = 60_000;

fn post(scope: &DedicatedWorkerGlobalScope, msg: &Response) {
    let text = serde_json::to_string(msg).expect("responses serialise");
    // Posting a string to our own page cannot fail short of the page being gone.
    let _ = scope.post_message(&JsValue::from_str(&text));
}

async fn open() -> Result<Service, StartError> {
    let cfg = OpfsSAHPoolCfgBuilder::new()
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
    let conn = rusqlite::Connection::open(DB_NAME).map_err(|e| StartError::Store {
        error: ApiError::from(crate::store::map_open_error(e)),
    })?;
    let store =
        Store::from_connection(conn, Durability::OpfsJournal).map_err(|e| StartError::Store {
            error: ApiError::from(e),
        })?;
    Ok(Service::new(store))
}

/// The sync loop: one round at a time, re-armed after writes, on `online`, and on a timer with
/// exponential backoff and jitter after failures.
struct SyncLoop {
    scope: DedicatedWorkerGlobalScope,
    service: Rc<RefCell<Service>>,
    running: Cell<bool>,
    again: Cell<bool>,
    failures: Cell<u32>,
    timer: Cell<Option<i32>>,
}

impl SyncLoop {
    /// Runs a round after `delay_ms`, replacing any round already planned.
    fn poke(self: &Rc<Self>, delay_ms: i32) {
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

    async fn run(self: &Rc<Self>) {
        self.timer.set(None);
        if self.running.replace(true) {
            self.again.set(true);
            return;
        }
        let result = shared::sync(&*self.service, &FetchTransport::new).await;
        self.running.set(false);
        // Not enrolled: nothing was synced and the page's state is already current.
        if !matches!(result, Ok(false)) {
            if let Ok(state) = self.service.with(|s| s.state(Utc::now())) {
                post(
                    &self.scope,
                    &Response::Update {
                        state: Box::new(state),
                    },
                );
            }
        }
        match result {
            Ok(false) => {}
            Ok(true) => {
                self.failures.set(0);
                self.poke(if self.again.replace(false) {
                    0
                } else {
                    PERIOD_MS
                });
            }
            Err(e) if e.retryable() => {
                let n = self.failures.get();
                self.failures.set(n + 1);
                self.poke(backoff_ms(n, js_sys::Math::random()) as i32);
            }
            // Revoked or refused as a whole: wait for the member (a write, or coming back online).
            Err(_) => {}
        }
    }
}

/// Entry point of the worker script: opens the store and starts answering.
#[wasm_bindgen]
pub async fn start_worker() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let service = match open().await {
        Ok(s) => Rc::new(RefCell::new(s)),
        Err(error) => {
            post(&scope, &Response::Fatal { error });
            return;
        }
    };
    let sync = Rc::new(SyncLoop {
        scope: scope.clone(),
        service: service.clone(),
        running: Cell::new(false),
        again: Cell::new(false),
        failures: Cell::new(0),
        timer: Cell::new(None),
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
        wasm_bindgen_futures::spawn_local(async move {
            let writes = req.cmd.writes_event();
            let enrolled = matches!(req.cmd, Command::Enroll { .. });
            let reply = shared::handle(&*service, req.cmd, FetchTransport::new).await;
            let ok = reply.result.is_ok();
            post(&scope, &Response::Reply { id: req.id, reply });
            if ok && (writes || enrolled) {
                loop_.poke(if enrolled { 0 } else { AFTER_WRITE_MS });
            }
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page: the handlers must too.
    on_message.forget();
    let online_loop = sync.clone();
    let on_online = Closure::<dyn FnMut()>::new(move || online_loop.poke(0));
    let _ = scope.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    on_online.forget();
    post(&scope, &Response::Ready);
    sync.poke(1_000);
}
