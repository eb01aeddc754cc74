//! The worker side: installs the OPFS VFS, opens the database, then answers commands one by one.
//! It answers "ready" only after the database is open, so no message is sent before it listens.

use crate::platform::protocol::{Request, Response, StartError};
use crate::service::{ApiError, Service};
use crate::store::{Durability, Store};
use chrono::Utc;
use sqlite_wasm_rs::WasmOsCallback;
use sqlite_wasm_vfs::sahpool::{install, OpfsSAHError, OpfsSAHPoolCfgBuilder};
use std::cell::RefCell;
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

/// Entry point of the worker script: opens the store and starts answering.
#[wasm_bindgen]
pub async fn start_worker() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let service = match open().await {
        Ok(s) => Rc::new(RefCell::new(s)),
        Err(error) => {
            post(&scope, &Response::Fatal { error });
            return;
        }
    };
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let Some(text) = ev.data().as_string() else {
            return;
        };
        let Ok(req) = serde_json::from_str::<Request>(&text) else {
            return;
        };
        let reply = service.borrow_mut().handle(req.cmd, Utc::now());
        post(&reply_scope, &Response::Reply { id: req.id, reply });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page: the handler must too.
    on_message.forget();
    post(&scope, &Response::Ready);
}
