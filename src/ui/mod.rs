//! The Dioxus screens. Components read [`ctx::Ui`] state and send commands; no SQL, no HTTP here.

#[cfg(feature = "leader")]
pub mod admin;
#[cfg(feature = "leader")]
pub mod allowance;
pub mod chrome;
pub mod ctx;
pub mod fmt;
pub mod log;
#[cfg(feature = "leader")]
pub mod map;
pub mod observe;
pub mod photo;
#[cfg(feature = "leader")]
pub mod qr;
#[cfg(feature = "leader")]
pub mod report;
pub mod route;
#[cfg(feature = "leader")]
pub mod route_edit;
pub mod sos;
#[cfg(feature = "leader")]
pub mod team;
pub mod tonight;

use crate::i18n::{self, Arg, Lang};
use crate::platform::protocol::StartError;
use crate::platform::Core;
use ctx::{Tab, Ui};
use dioxus::prelude::*;

/// The app's stylesheet, shared by web (linked) and desktop (inlined).
pub const STYLE: &str = include_str!("../../assets/style.css");

enum Boot {
    Opening,
    /// The store, and whether it is still being made (the screens are drawn without waiting).
    Ready(Core, bool),
    Failed(StartError),
}

/// Root component: opens the store, then shows the patrol screens or why it cannot. On a new
/// phone, whose store opens empty, the screens come at once and a tap waits for the store.
#[component]
pub fn App() -> Element {
    let mut boot = use_signal(|| match Core::early() {
        Some(core) => Boot::Ready(core, true),
        None => Boot::Opening,
    });
    use_hook(|| {
        spawn(async move {
            match Core::start().await {
                Ok(core) if matches!(*boot.peek(), Boot::Opening) => {
                    boot.set(Boot::Ready(core, false))
                }
                Ok(_) => {}
                Err(e) => boot.set(Boot::Failed(e)),
            }
        })
    });
    // Before the store answers, the language is not known yet: Vietnamese first.
    let lang = Lang::Vi;
    let boot = boot.read();
    match &*boot {
        Boot::Opening => rsx! {
            div { class: "boot", "data-testid": "booting", div { class: "spinner" } p { {i18n::t(lang, "storage.loading")} } }
        },
        Boot::Failed(e) => {
            let testid = match e {
                StartError::Insecure { .. } => "needs-https",
                _ => "fatal",
            };
            rsx! {
                div { class: "boot fatal", "data-testid": "{testid}",
                    p { {start_error_text(lang, e)} }
                    p { class: "en", {start_error_text(Lang::En, e)} }
                }
            }
        }
        Boot::Ready(core, empty) => rsx! { Main { core: core.clone(), empty: *empty } },
    }
}

/// Why the store could not start, in `lang`.
fn start_error_text(lang: Lang, e: &StartError) -> String {
    match e {
        StartError::Unsupported { detail } => i18n::tf(
            lang,
            "storage.unavailable",
            &[("detail".into(), Arg::Text(detail.clone()))],
        ),
        StartError::Insecure { origin } => i18n::tf(
            lang,
            "storage.insecure",
            &[("origin".into(), Arg::Text(origin.clone()))],
        ),
        StartError::OtherTab => i18n::t(lang, "storage.other_tab"),
        StartError::Download { detail } => i18n::tf(
            lang,
            "storage.download",
            &[("detail".into(), Arg::Text(detail.clone()))],
        ),
        StartError::Store { error } => i18n::tf(lang, &error.key, &error.args),
    }
}

/// The patrol screens once the store is open, or while a new one is made (`empty`).
#[component]
fn Main(core: Core, empty: bool) -> Element {
    let ui = Ui::provide(core, empty);
    let tab = *ui.tab.read();
    if !*ui.loaded.read() {
        return rsx! { div { class: "boot", div { class: "spinner" } } };
    }
    rsx! {
        div { class: "app", lang: "{ui.lang().code()}",
            chrome::TopBar {}
            chrome::Banners {}
            main { class: "screen",
                match tab {
                    Tab::Tonight => rsx! { tonight::Tonight {} },
                    Tab::Route => rsx! { route::Route {} },
                    Tab::Observe => rsx! { observe::Observe {} },
                    Tab::Log => rsx! { log::Log {} },
                    #[cfg(feature = "leader")]
                    Tab::Team => rsx! { team::Team {} },
                    // The members' build has no Team tab (a reviewer there sees the download card).
                    #[cfg(not(feature = "leader"))]
                    Tab::Team => rsx! { tonight::Tonight {} },
                }
            }
            chrome::Toast {}
            photo::PhotoViewer {}
            sos::Sos {}
            chrome::Tabs {}
        }
    }
}
