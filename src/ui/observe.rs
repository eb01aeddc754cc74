//! "Ghi nhận": a big category grid, optional details, save. Tap, (type), tap.

use super::ctx::Ui;
use super::photo::PhotoPicker;
use crate::domain::observation::{Action, Category};
use crate::domain::photo::{PreparedPhoto, MAX_PHOTOS};
use crate::domain::records::ObservationInput;
use crate::service::Local;
use dioxus::prelude::*;

/// The Observe screen.
#[component]
pub fn Observe() -> Element {
    let ui = Ui::get();
    // An observation carries the place it was made: the browser asks for it now.
    use_hook(move || ui.use_location());
    let mut input = use_signal(ObservationInput::default);
    let mut photos = use_signal(Vec::<PreparedPhoto>::new);
    // A memo: saving an observation changes the log, not whether a shift runs, so no re-render.
    let running = use_memo(move || ui.active.read().is_some());
    let running = running();
    if !running {
        return rsx! { p { class: "card muted", "data-testid": "observe-no-shift", {ui.t("observe.no_shift")} } };
    }
    let chosen = input.read().category;
    let action = input.read().action;
    rsx! {
        h1 { class: "screen-title", {ui.t("observe.title")} }
        div { class: "grid", "data-testid": "category-grid",
            for cat in Category::ALL.iter().copied() {
                button { key: "{cat.code()}", class: if chosen == Some(cat) { "cat on" } else { "cat" }, "data-testid": "cat-{cat.code()}",
                    onclick: move |_| input.write().category = Some(cat),
                    {ui.t(&cat.key())}
                }
            }
        }
        if chosen.is_some() {
            details { class: "card details", open: chosen == Some(Category::Other),
                summary { {ui.t("observe.details")} }
                label { class: "field", {ui.t("field.description")}
                    textarea { "data-testid": "obs-description", rows: 3, value: "{input.read().description}",
                        oninput: move |e| input.write().description = e.value() }
                }
                label { class: "field", {ui.t("field.plate")}
                    input { "data-testid": "obs-plate", autocapitalize: "characters", value: "{input.read().plate}",
                        oninput: move |e| input.write().plate = e.value() }
                }
                label { class: "field", {ui.t("field.people")}
                    input { "data-testid": "obs-people", value: "{input.read().people}", oninput: move |e| input.write().people = e.value() }
                }
                p { class: "field-label", {ui.t("field.action")} }
                div { class: "choice wrap",
                    button { class: if action.is_none() { "pick on" } else { "pick" }, onclick: move |_| input.write().action = None,
                        {ui.t("observe.none_action")} }
                    for a in Action::ALL.iter().copied() {
                        button { key: "{a.code()}", class: if action == Some(a) { "pick on" } else { "pick" }, "data-testid": "act-{a.code()}",
                            onclick: move |_| input.write().action = Some(a), {ui.t(&a.key())} }
                    }
                }
                label { class: "check urgent",
                    input { r#type: "checkbox", "data-testid": "obs-urgent", checked: input.read().urgent,
                        onchange: move |e: FormEvent| input.write().urgent = e.checked() }
                    span { {ui.t("field.urgent")} }
                }
            }
            // The photo buttons ride with the save button: one tap away whatever is scrolled.
            div { class: "sticky-save",
                PhotoPicker { scope: "obs", photos, room: MAX_PHOTOS }
                button { class: "big primary", "data-testid": "obs-save", disabled: *ui.busy.read(),
                    onclick: move |_| async move {
                        let mut data = input.read().clone();
                        data.fix = ui.gps.read().fix();
                        data.photos = photos.read().clone();
                        if ui.send(Local::Observe { input: data }).await {
                            input.set(ObservationInput::default());
                            photos.set(Vec::new());
                        }
                    },
                    {ui.t("observe.save")}
                }
            }
        }
    }
}
