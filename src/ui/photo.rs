//! Photos on the screen: the picker (the phone's camera or the gallery, previews before saving),
//! the thumbnails of a record (tap for the full photo) and the full-screen viewer.

use super::ctx::{Shown, Ui};
use crate::domain::photo::{PhotoRef, PreparedPhoto, MAX_PHOTOS};
use dioxus::prelude::*;

/// An image's bytes as a data URL.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Adds photos to `photos` (at most `room` in all): one tap opens the phone's camera app, the
/// other the gallery; each photo is made small at once and shown with a button to take it off.
#[component]
pub fn PhotoPicker(scope: String, photos: Signal<Vec<PreparedPhoto>>, room: usize) -> Element {
    let ui = Ui::get();
    let mut preparing = use_signal(|| false);
    let count = photos.read().len();
    let full = count >= room;
    let pick = move |input_id: String, evt: FormEvent| async move {
        preparing.set(true);
        let prepared = crate::platform::prepare_photos(&input_id, evt.files()).await;
        preparing.set(false);
        match prepared {
            Ok(list) => {
                let had = photos.read().len();
                let take = room.saturating_sub(had);
                if list.len() > take {
                    ui.fail(ui.tf("photo.too_many", &[("max", MAX_PHOTOS.to_string())]));
                }
                photos.write().extend(list.into_iter().take(take));
            }
            Err(e) => ui.fail_with(&e),
        }
    };
    let camera_id = format!("photo-camera-{scope}");
    let gallery_id = format!("photo-gallery-{scope}");
    rsx! {
        div { class: "photo-picker",
            if count > 0 {
                ul { class: "photo-strip", "data-testid": "photo-previews",
                    for (i, p) in photos.read().iter().enumerate() {
                        li { key: "{i}",
                            img { src: data_url("image/jpeg", &p.thumb), alt: ui.tf("photo.preview", &[("n", (i + 1).to_string())]) }
                            button { class: "photo-remove", "data-testid": "photo-remove-{i}",
                                "aria-label": ui.tf("photo.remove", &[("n", (i + 1).to_string())]),
                                onclick: move |_| { photos.write().remove(i); },
                                "×"
                            }
                        }
                    }
                }
            }
            if *preparing.read() {
                p { class: "muted", role: "status", {ui.t("photo.preparing")} }
            } else if !full {
                div { class: "choice",
                    label { class: "pick file", "data-testid": "photo-camera-{scope}",
                        {ui.t("photo.camera")}
                        input { r#type: "file", accept: "image/*", "capture": "environment", id: "{camera_id}",
                            onchange: { let id = camera_id.clone(); move |e| pick(id.clone(), e) } }
                    }
                    label { class: "pick file", "data-testid": "photo-gallery-{scope}",
                        {ui.t("photo.gallery")}
                        input { r#type: "file", accept: "image/*", multiple: true, id: "{gallery_id}",
                            "data-testid": "photo-input-{scope}",
                            onchange: { let id = gallery_id.clone(); move |e| pick(id.clone(), e) } }
                    }
                }
            }
        }
    }
}

/// A record's photos as thumbnails; a tap shows the full photo.
#[component]
pub fn PhotoStrip(photos: Vec<PhotoRef>) -> Element {
    let ui = Ui::get();
    if photos.is_empty() {
        return rsx! {};
    }
    for p in &photos {
        ui.load_photo(p.thumb.clone());
    }
    let shown = ui.photos.read();
    rsx! {
        ul { class: "photo-strip", "data-testid": "photo-strip",
            for (i, p) in photos.iter().enumerate() {
                li { key: "{p.hash}",
                    button { class: "photo-thumb", "data-testid": "photo-thumb", "data-hash": "{p.hash}",
                        "aria-label": ui.tf("photo.open", &[("n", (i + 1).to_string())]),
                        onclick: {
                            let (full, thumb) = (p.hash.clone(), p.thumb.clone());
                            move |_| {
                                // A thumbnail that could not be read is asked for again.
                                let mut shown = ui.photos;
                                if matches!(shown.peek().get(&thumb), Some(Shown::Failed(_))) {
                                    shown.write().remove(&thumb);
                                }
                                let mut v = ui.viewing;
                                v.set(Some(full.clone()));
                            }
                        },
                        match shown.get(&p.thumb) {
                            Some(Shown::Ready(url)) => rsx! { img { src: "{url}", alt: "" } },
                            Some(Shown::Failed(why)) => rsx! { span { class: "photo-retry", title: "{why}", "data-testid": "photo-retry", {ui.t("photo.missing")} } },
                            _ => rsx! { span { class: "muted", "…" } },
                        }
                    }
                }
            }
        }
    }
}

/// The photo being viewed, full screen, loaded on demand; a tap closes it.
#[component]
pub fn PhotoViewer() -> Element {
    let ui = Ui::get();
    let Some(hash) = ui.viewing.read().clone() else {
        return rsx! {};
    };
    ui.load_photo(hash.clone());
    let shown = ui.photos.read().get(&hash).cloned();
    rsx! {
        div { class: "photo-viewer", role: "dialog", "aria-modal": "true", "data-testid": "photo-viewer",
            "aria-label": ui.t("photo.viewer"),
            // Closing lets the full-size image go (memory), and a failure be asked again next time.
            onclick: { let hash = hash.clone(); move |_| {
                let mut v = ui.viewing;
                v.set(None);
                let mut shown = ui.photos;
                shown.write().remove(&hash);
            } },
            match shown {
                Some(Shown::Ready(url)) => rsx! { img { src: "{url}", alt: ui.t("photo.viewer"), "data-testid": "photo-full" } },
                Some(Shown::Failed(why)) => rsx! { p { class: "card", role: "alert", "{why}" } },
                _ => rsx! { p { class: "card muted", role: "status", {ui.t("photo.loading")} } },
            }
            button { class: "big ghost", {ui.t("common.close")} }
        }
    }
}
