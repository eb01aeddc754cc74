//! The UI side of the worker: starts it, waits for "ready", and matches replies to calls. "Ready"
//! carries the store's state, so the UI's first `Local::State` needs no round trip to the worker.
//! A call made before "ready" waits for it, so a new phone's first screen can be shown, and
//! tapped, while the worker is still making the database (see [`Core::early`]).

use crate::platform::protocol::{Request, Response, StartError};
use crate::service::{ApiError, Change, Command, Local, Reply};
use futures_channel::oneshot;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// The store worker's script: `PATROL_BUILD.running.store` (set by index.html and bench.html)
/// names the folder of the store's module this page pairs with.
fn worker_script() -> Result<String, JsValue> {
    let build = js_sys::Reflect::get(&js_sys::global(), &"PATROL_BUILD".into())?;
    let running = js_sys::Reflect::get(&build, &"running".into())?;
    let folder = js_sys::Reflect::get(&running, &"store".into())?
        .as_string()
        .ok_or_else(|| JsValue::from_str("PATROL_BUILD.running.store is not set"))?;
    Ok(format!("{folder}/worker.js"))
}

/// The store's worker as the page takes it, sent its start message (or sure to be), and what it
/// answered before this page listened, oldest first.
struct TakenWorker {
    worker: Worker,
    answers: Vec<JsValue>,
}

/// The store's worker: the one index.html started with the page (so its script is loaded while
/// the wasm downloads), with what it kept of the worker's answers, else a new one. Either way its
/// start message goes from here or is on its way; the caller listens to it in this same task, so
/// no answer falls between index.html's listener and the caller's, which replaces it.
fn store_worker() -> Result<TakenWorker, JsValue> {
    let global = js_sys::global();
    let early = js_sys::Reflect::get(&global, &"PATROL_WORKER".into())?;
    let field = |name: &str| js_sys::Reflect::get(&early, &name.into());
    if let Ok(worker) = field("worker").and_then(|w| w.dyn_into::<Worker>()) {
        // Taken once: a second Core (there is none today) would start its own.
        js_sys::Reflect::delete_property(
            global.unchecked_ref::<js_sys::Object>(),
            &"PATROL_WORKER".into(),
        )?;
        // index.html sends the start message; this makes sure it goes even if what it waits for
        // never says so.
        field("start")?
            .dyn_into::<js_sys::Function>()?
            .call0(&JsValue::NULL)?;
        // Taken out of the array, which index.html's listeners keep alive with the page.
        let kept: js_sys::Array = field("answers")?.dyn_into()?;
        let answers = kept.to_vec();
        kept.set_length(0);
        return Ok(TakenWorker { worker, answers });
    }
    let opts = WorkerOptions::new();
    opts.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(&worker_script()?, &opts)?;
    worker.post_message(&start_message(crate::clock::offset_ms())?)?;
    Ok(TakenWorker {
        worker,
        answers: Vec::new(),
    })
}

/// The first message of a worker this page started itself (see assets/web/worker.js; index.html
/// writes the same message for the one it starts): the clock offset (see [`crate::clock`]) and the
/// browser tests' storage faults (`PATROL_STORE_FAULTS`).
fn start_message(offset_ms: i64) -> Result<JsValue, JsValue> {
    let faults = js_sys::Reflect::get(&js_sys::global(), &"PATROL_STORE_FAULTS".into())
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(0, |n| n as u32);
    let msg = js_sys::Object::new();
    js_sys::Reflect::set(&msg, &"clock_offset_ms".into(), &(offset_ms as f64).into())?;
    js_sys::Reflect::set(&msg, &"store_faults".into(), &faults.into())?;
    Ok(msg.into())
}

/// Where the worker is in opening the database.
enum Opening {
    /// Not open yet: the calls waiting for it.
    Waiting(Vec<oneshot::Sender<()>>),
    /// Open: calls go to the worker at once.
    Open,
    /// It could not open: why.
    Failed(StartError),
}

struct Inner {
    worker: Worker,
    next_id: Cell<u64>,
    pending: RefCell<HashMap<u64, oneshot::Sender<Reply>>>,
    opening: RefCell<Opening>,
    on_update: RefCell<Option<Box<dyn Fn(Change)>>>,
    /// The state "ready" carried, until the first call: the answer to it if that call is
    /// `Local::State`; dropped by any other call or by an update, after which it may be stale.
    first: RefCell<Option<Reply>>,
}

/// A handle on the store, wherever it runs; cheap to clone.
#[derive(Clone)]
pub struct Core {
    inner: Rc<Inner>,
}

impl PartialEq for Core {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

fn lost(detail: &str) -> Reply {
    Reply {
        result: Err(ApiError::new("err.worker").detail(detail)),
        notice: None,
    }
}

impl Inner {
    /// The worker answered its start: `now` (open or failed) wakes whoever waits for it.
    fn opened(&self, now: Opening) {
        let was = std::mem::replace(&mut *self.opening.borrow_mut(), now);
        if let Opening::Waiting(calls) = was {
            for call in calls {
                let _ = call.send(());
            }
        }
    }

    /// Waits until the database is open, or why it never will be.
    async fn open(&self) -> Result<(), StartError> {
        loop {
            let rx = match &mut *self.opening.borrow_mut() {
                Opening::Open => return Ok(()),
                Opening::Failed(e) => return Err(e.clone()),
                Opening::Waiting(calls) => {
                    let (tx, rx) = oneshot::channel();
                    calls.push(tx);
                    rx
                }
            };
            // Woken when the worker answered its start, however it did.
            let _ = rx.await;
        }
    }
}

/// A store whose worker has been (or is about to be) told to open the database, and the answer it
/// will give.
struct Starting {
    inner: Rc<Inner>,
}

thread_local! {
    /// The store [`begin`] started, until [`Core::start`] takes it.
    static STARTING: RefCell<Option<Result<Starting, StartError>>> = const { RefCell::new(None) };
}

/// Starts the store at once, before the UI is built: the worker opens the database while the page
/// draws its first screen. [`Core::start`] then waits for it.
pub fn begin() {
    let starting = Starting::new();
    STARTING.with(|s| *s.borrow_mut() = Some(starting));
}

impl Starting {
    /// Takes (or starts) the store's worker, sure to be sent its start message, and listens to it.
    fn new() -> Result<Starting, StartError> {
        let window = web_sys::window().ok_or_else(|| StartError::Unsupported {
            detail: "no window".into(),
        })?;
        if !window.is_secure_context() {
            return Err(StartError::Insecure {
                origin: window.location().origin().unwrap_or_default(),
            });
        }
        let unsupported = |e: JsValue| StartError::Unsupported {
            detail: super::js_error_text(&e),
        };
        let taken = store_worker().map_err(unsupported)?;
        let inner = Rc::new(Inner {
            worker: taken.worker,
            next_id: Cell::new(1),
            pending: RefCell::new(HashMap::new()),
            opening: RefCell::new(Opening::Waiting(Vec::new())),
            on_update: RefCell::new(None),
            first: RefCell::new(None),
        });
        let weak = Rc::downgrade(&inner);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let (Some(inner), Some(text)) = (weak.upgrade(), ev.data().as_string()) else {
                return;
            };
            match serde_json::from_str::<Response>(&text) {
                Ok(Response::Ready { first }) => {
                    *inner.first.borrow_mut() = Some(first);
                    inner.opened(Opening::Open);
                }
                Ok(Response::Fatal { error }) => inner.opened(Opening::Failed(error)),
                Ok(Response::Update { change }) => {
                    inner.first.borrow_mut().take();
                    if let Some(f) = inner.on_update.borrow().as_ref() {
                        f(change);
                    }
                }
                Ok(Response::Reply { id, reply }) => {
                    if let Some(tx) = inner.pending.borrow_mut().remove(&id) {
                        let _ = tx.send(reply);
                    }
                }
                Err(e) => web_sys::console::error_1(
                    &format!("bad message from the store worker: {e}").into(),
                ),
            }
        });
        inner
            .worker
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let handle: &js_sys::Function = on_message.as_ref().unchecked_ref();
        for answer in &taken.answers {
            handle.call1(&JsValue::NULL, answer).map_err(unsupported)?;
        }
        on_message.forget();
        let weak = Rc::downgrade(&inner);
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Some(inner) = weak.upgrade() else { return };
            let detail = super::js_error_text(&e);
            if matches!(*inner.opening.borrow(), Opening::Waiting(_)) {
                inner.opened(Opening::Failed(StartError::Unsupported {
                    detail: detail.clone(),
                }));
            }
            // Every call in flight learns that its answer is not coming.
            for (_, tx) in inner.pending.borrow_mut().drain() {
                let _ = tx.send(lost(&detail));
            }
        });
        inner
            .worker
            .set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(Starting { inner })
    }
}

impl Core {
    /// The store [`begin`] started, before its database is open, if this browser never made one
    /// (index.html's probe, see [`super::new_store`]): it opens empty, so the first screen need
    /// not wait for it, and calls do. [`Core::start`] still tells when it is open, or why not.
    pub fn early() -> Option<Core> {
        if !super::new_store() {
            return None;
        }
        STARTING.with(|s| match &*s.borrow() {
            Some(Ok(starting)) => Some(Core {
                inner: starting.inner.clone(),
            }),
            _ => None,
        })
    }

    /// Starts the store's worker, unless [`begin`] did, and waits until the database is open.
    pub async fn start() -> Result<Core, StartError> {
        let starting = STARTING
            .with(|s| s.borrow_mut().take())
            .unwrap_or_else(Starting::new)?;
        starting.inner.open().await?;
        Ok(Core {
            inner: starting.inner,
        })
    }

    /// Calls `f` with what changed after every background sync round.
    pub fn on_update(&self, f: impl Fn(Change) + 'static) {
        *self.inner.on_update.borrow_mut() = Some(Box::new(f));
    }

    /// Sends a command to the store (once its database is open) and waits for its reply.
    pub async fn call(&self, cmd: Command) -> Reply {
        match self.inner.open().await {
            Ok(()) => {}
            Err(StartError::Store { error }) => {
                return Reply {
                    result: Err(error),
                    notice: None,
                }
            }
            Err(other) => return lost(&format!("{other:?}")),
        }
        let first = self.inner.first.borrow_mut().take();
        if let (Some(first), Command::Local(Local::State)) = (first, &cmd) {
            return first;
        }
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        let (tx, rx) = oneshot::channel();
        self.inner.pending.borrow_mut().insert(id, tx);
        let text = serde_json::to_string(&Request { id, cmd }).expect("commands serialise");
        if let Err(e) = self.inner.worker.post_message(&JsValue::from_str(&text)) {
            self.inner.pending.borrow_mut().remove(&id);
            return lost(&format!("{e:?}"));
        }
        rx.await.unwrap_or_else(|_| lost("no reply"))
    }
}
