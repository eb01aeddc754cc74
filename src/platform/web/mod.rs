//! The web target: the store in a dedicated Web Worker on OPFS, the UI on the main thread.

pub mod client;
pub mod sensors;
pub mod worker;

use wasm_bindgen::prelude::*;

/// Entry point of the page: mounts the app on `<div id="main">`.
#[wasm_bindgen]
pub fn start_ui() {
    dioxus::LaunchBuilder::web()
        .with_cfg(dioxus::web::Config::new().rootname("main"))
        .launch(crate::ui::App);
}

/// Benchmark hook for bench.html: opens the store, then saves `n` observations one by one through
/// the worker, as the Observe screen does. Returns each save's milliseconds, reply included.
#[wasm_bindgen]
pub async fn bench_save(n: u32) -> Result<Vec<f64>, JsValue> {
    use crate::domain::observation::{Action, Category};
    use crate::domain::records::ObservationInput;
    use crate::service::Command;
    let core = client::Core::start()
        .await
        .map_err(|e| JsValue::from_str(&format!("{e:?}")))?;
    let state = core
        .call(Command::LoadDemo)
        .await
        .result
        .map_err(|e| JsValue::from_str(&e.key))?;
    if state.active.is_none() {
        let cmd = Command::StartShift {
            slot_code: "ca1".into(),
            members: vec!["demo-m1".into()],
        };
        core.call(cmd)
            .await
            .result
            .map_err(|e| JsValue::from_str(&e.key))?;
    }
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
    let mut times = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t0 = perf.now();
        core.call(Command::Observe {
            input: input.clone(),
        })
        .await
        .result
        .map_err(|e| JsValue::from_str(&e.key))?;
        times.push(perf.now() - t0);
    }
    Ok(times)
}
