//! Browser sensors: GPS position, network status, and persistent-storage permission.

use crate::domain::geofence::{Fix, LatLon};
use crate::platform::{Gps, NoGps};
use wasm_bindgen::prelude::*;
use web_sys::{Position, PositionError, PositionOptions};

/// Watches the GPS and calls `on_change` with every fix or error.
pub fn watch_gps(on_change: impl Fn(Gps) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let geo = match window.navigator().geolocation() {
        Ok(g) => g,
        Err(_) => return on_change(Gps::Unavailable(NoGps::Missing)),
    };
    let on_change = std::rc::Rc::new(on_change);
    let ok_cb = on_change.clone();
    let ok = Closure::<dyn FnMut(Position)>::new(move |p: Position| {
        let c = p.coords();
        match LatLon::new(c.latitude(), c.longitude()) {
            Ok(pos) => ok_cb(Gps::Fix(Fix {
                pos,
                accuracy_m: c.accuracy(),
            })),
            // A position out of range is no position.
            Err(_) => ok_cb(Gps::Unavailable(NoGps::NotFound)),
        }
    });
    let err = Closure::<dyn FnMut(PositionError)>::new(move |e: PositionError| {
        crate::platform::log_detail("gps", &e.message());
        on_change(Gps::Unavailable(match e.code() {
            PositionError::PERMISSION_DENIED => NoGps::Denied,
            PositionError::TIMEOUT => NoGps::Timeout,
            _ => NoGps::NotFound,
        }));
    });
    let opts = PositionOptions::new();
    opts.set_enable_high_accuracy(true);
    opts.set_maximum_age(5_000);
    let _ = geo.watch_position_with_error_callback_and_options(
        ok.as_ref().unchecked_ref(),
        Some(err.as_ref().unchecked_ref()),
        &opts,
    );
    ok.forget();
    err.forget();
}

/// Whether the browser says it is online, and a callback on every change.
pub fn watch_online(on_change: impl Fn(bool) + 'static) -> bool {
    let Some(window) = web_sys::window() else {
        return true;
    };
    let on_change = std::rc::Rc::new(on_change);
    for (name, value) in [("online", true), ("offline", false)] {
        let cb = on_change.clone();
        let c = Closure::<dyn FnMut()>::new(move || cb(value));
        let _ = window.add_event_listener_with_callback(name, c.as_ref().unchecked_ref());
        c.forget();
    }
    window.navigator().on_line()
}

/// Calls `on_shown` each time the page becomes visible again (the phone unlocked, the app
/// brought back), a moment when a connection may have returned unseen.
pub fn on_shown(on_shown: impl Fn() + 'static) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let doc = document.clone();
    let c = Closure::<dyn FnMut()>::new(move || {
        if doc.visibility_state() == web_sys::VisibilityState::Visible {
            on_shown();
        }
    });
    let _ =
        document.add_event_listener_with_callback("visibilitychange", c.as_ref().unchecked_ref());
    c.forget();
}

/// Asks the browser not to evict the app's storage; true when granted.
pub async fn request_persistence() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(promise) = window.navigator().storage().persist() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Hands `text` (and `photos` as files, where the browser can share files) to the phone's share
/// sheet (the Web Share API), or, where the browser has none, copies the text for pasting.
/// Called from the tap, as browsers require.
pub async fn share(
    title: &str,
    text: &str,
    photos: &[super::super::SharedFile],
) -> Result<super::super::Shared, String> {
    use super::super::Shared;
    use js_sys::{Function, Object, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let nav: JsValue = web_sys::window().ok_or("no window")?.navigator().into();
    let err = |e: JsValue| e.as_string().unwrap_or_else(|| format!("{e:?}"));
    if let Ok(f) = Reflect::get(&nav, &"share".into())
        .map_err(err)?
        .dyn_into::<Function>()
    {
        let data = Object::new();
        Reflect::set(&data, &"title".into(), &title.into()).map_err(err)?;
        Reflect::set(&data, &"text".into(), &text.into()).map_err(err)?;
        if !photos.is_empty() {
            let files = js_sys::Array::new();
            for p in photos {
                let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(p.bytes.as_slice()));
                let opts = web_sys::FilePropertyBag::new();
                opts.set_type(&p.mime);
                let file =
                    web_sys::File::new_with_u8_array_sequence_and_options(&parts, &p.name, &opts)
                        .map_err(err)?;
                files.push(&file);
            }
            let with_files = Object::new();
            Reflect::set(&with_files, &"files".into(), &files).map_err(err)?;
            let can = Reflect::get(&nav, &"canShare".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call1(&nav, &with_files).ok())
                .is_some_and(|v| v.is_truthy());
            if can {
                Reflect::set(&data, &"files".into(), &files).map_err(err)?;
            }
        }
        let promise: js_sys::Promise =
            f.call1(&nav, &data).map_err(err)?.dyn_into().map_err(err)?;
        return match JsFuture::from(promise).await {
            Ok(_) => Ok(Shared::Sheet),
            // The member closed the sheet: nothing to say.
            Err(e)
                if Reflect::get(&e, &"name".into())
                    .ok()
                    .and_then(|n| n.as_string())
                    .as_deref()
                    == Some("AbortError") =>
            {
                Ok(Shared::Cancelled)
            }
            Err(e) => Err(err(e)),
        };
    }
    let clipboard = Reflect::get(&nav, &"clipboard".into()).map_err(err)?;
    let write: Function = Reflect::get(&clipboard, &"writeText".into())
        .map_err(err)?
        .dyn_into()
        .map_err(|_| "no share sheet and no clipboard".to_string())?;
    let promise: js_sys::Promise = write
        .call1(&clipboard, &text.into())
        .map_err(err)?
        .dyn_into()
        .map_err(err)?;
    JsFuture::from(promise).await.map_err(err)?;
    Ok(Shared::Copied)
}

/// Reads a QR code from the photo chosen in the file input with id `input_id`, using the browser's
/// BarcodeDetector (Chrome on Android). `Ok(None)` means the photo holds no QR code;
/// `Err` means this browser cannot read QR codes, and the member types the printed code instead.
pub async fn scan_qr(input_id: &str) -> Result<Option<String>, String> {
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let ctor = js_sys::Reflect::get(&window, &"BarcodeDetector".into())
        .map_err(|_| "no BarcodeDetector")?;
    let ctor: js_sys::Function = ctor
        .dyn_into()
        .map_err(|_| "no BarcodeDetector".to_string())?;
    let input: web_sys::HtmlInputElement = window
        .document()
        .and_then(|d| d.get_element_by_id(input_id))
        .and_then(|e| e.dyn_into().ok())
        .ok_or("no photo input")?;
    let file = input.files().and_then(|f| f.get(0)).ok_or("no photo")?;
    let bitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(&file)
            .map_err(|e| format!("{e:?}"))?,
    )
    .await
    .map_err(|e| format!("{e:?}"))?;
    let opts = js_sys::Object::new();
    let formats = js_sys::Array::of1(&"qr_code".into());
    js_sys::Reflect::set(&opts, &"formats".into(), &formats).map_err(|e| format!("{e:?}"))?;
    let detector = js_sys::Reflect::construct(&ctor, &js_sys::Array::of1(&opts))
        .map_err(|e| format!("{e:?}"))?;
    let detect: js_sys::Function = js_sys::Reflect::get(&detector, &"detect".into())
        .and_then(|f| f.dyn_into())
        .map_err(|e| format!("{e:?}"))?;
    let promise: js_sys::Promise = detect
        .call1(&detector, &bitmap)
        .and_then(|p| p.dyn_into())
        .map_err(|e| format!("{e:?}"))?;
    let found: js_sys::Array = JsFuture::from(promise)
        .await
        .and_then(|a| a.dyn_into())
        .map_err(|e| format!("{e:?}"))?;
    Ok(found.iter().find_map(|code| {
        js_sys::Reflect::get(&code, &"rawValue".into())
            .ok()
            .and_then(|v| v.as_string())
    }))
}

/// The enrollment link the page was opened with, removed from the address bar so a reload does
/// not redeem it twice.
pub fn take_enroll_link() -> Option<(String, String)> {
    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let found = crate::wire::api::parse_enroll_link(&href)?;
    if let Ok(history) = window.history() {
        let clean = href.split('#').next().unwrap_or_default().to_string();
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&clean));
    }
    Some(found)
}
