//! The web target: the store in a dedicated Web Worker on OPFS, the UI on the main thread.

#[cfg(feature = "web-store")]
pub mod announce;
#[cfg(feature = "web")]
pub mod build;
#[cfg(feature = "web")]
pub mod camera;
#[cfg(feature = "web")]
pub mod client;
#[cfg(feature = "web-store")]
pub mod fetch;
#[cfg(feature = "web")]
pub mod sensors;
#[cfg(feature = "web-store")]
pub mod worker;

use wasm_bindgen::prelude::*;

/// A JavaScript error in words: its `message` (an Error, a DOMException, an ErrorEvent), else
/// the value itself.
pub fn js_error_text(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

#[cfg(feature = "web")]
/// True when index.html found no store in this browser (see its head script): a phone's first
/// visit, whose store opens empty. False when it found one, or could not tell.
pub fn new_store() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"PATROL_NEW_STORE".into())
        .ok()
        .and_then(|v| v.as_bool())
        == Some(true)
}

#[cfg(feature = "web")]
/// Entry point of the page: mounts the app on `<div id="main">`.
#[wasm_bindgen]
pub fn start_ui() {
    // Tests set `globalThis.PATROL_CLOCK_OFFSET_MS` to run the app on a fixed night.
    let offset = js_sys::Reflect::get(&js_sys::global(), &"PATROL_CLOCK_OFFSET_MS".into())
        .ok()
        .and_then(|v| v.as_f64());
    if let Some(ms) = offset {
        crate::clock::set_offset_ms(ms as i64);
    }
    // The store's worker opens the database while Dioxus draws the first screen.
    client::begin();
    // index.html shows a spinner inside #main until the app mounts; Dioxus appends, so clear it.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("main"))
    {
        root.set_inner_html("");
    }
    dioxus::LaunchBuilder::web()
        .with_cfg(dioxus::web::Config::new().rootname("main"))
        .launch(crate::ui::App);
}

#[cfg(feature = "web")]
/// Benchmark hook for bench.html: opens the store, then saves `n` observations one by one through
/// the worker, as the Observe screen does, starting a new shift every `per_shift` saves. Returns
/// each save's milliseconds, from the call to the reply with the fresh state, then as many
/// read-only round trips (`Local::State`) for comparison.
#[wasm_bindgen]
pub async fn bench_save(n: u32, per_shift: u32) -> Result<Vec<f64>, JsValue> {
    use crate::domain::observation::{Action, Category};
    use crate::domain::records::ObservationInput;
    use crate::service::{AppState, Change, Local};
    let core = client::Core::start()
        .await
        .map_err(|e| JsValue::from_str(&format!("{e:?}")))?;
    let call = |cmd: Local| {
        let core = core.clone();
        async move {
            core.call(cmd.into())
                .await
                .result
                .map_err(|e| JsValue::from_str(&e.key))
        }
    };
    let full = |change: Change| match change {
        Change::Full { state } => Ok(*state),
        _ => Err(JsValue::from_str("expected the whole state")),
    };
    let fresh_shift = |running: bool| async move {
        if running {
            call(Local::EndShift {
                handover_note: String::new(),
            })
            .await?;
        }
        full(
            call(Local::StartShift {
                slot_code: "ca1".into(),
                members: vec!["demo-m1".into()],
            })
            .await?,
        )
    };
    let loaded: AppState = full(call(Local::LoadDemo).await?)?;
    let mut state = fresh_shift(loaded.active.is_some()).await?;
    let perf = web_sys::window()
        .and_then(|w| w.performance())
        .ok_or_else(|| JsValue::from_str("no performance clock"))?;
    let input = ObservationInput {
        category: Some(Category::SuspiciousVehicle),
        description: "Hai người đi xe máy không biển số, chạy chậm quanh chợ".into(),
        plate: "29A-123.45".into(),
        action: Some(Action::Watched),
        ..Default::default()
    };
    let mut times = Vec::with_capacity(2 * n as usize);
    for i in 0..n {
        if i > 0 && i % per_shift.max(1) == 0 {
            state = fresh_shift(true).await?;
        }
        let t0 = perf.now();
        let change = call(Local::Observe {
            input: input.clone(),
        })
        .await?;
        // Up to the updated screen state: the UI applies the change the same way.
        state.apply(change);
        times.push(perf.now() - t0);
    }
    // The same round trip with no write: what the commit itself costs is the difference.
    for _ in 0..n {
        let t0 = perf.now();
        call(Local::State).await?;
        times.push(perf.now() - t0);
    }
    Ok(times)
}
