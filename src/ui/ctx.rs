//! The state every screen shares, and the one way to change it: [`Ui::send`].

use crate::domain::photo::PhotoHash;
use crate::domain::roster::Assignment;
use crate::domain::ward::WardSetup;
use crate::i18n::{self, Arg, Lang};
use crate::platform::{Core, Gps};
use crate::service::{AppState, Change, Command, Notice, SyncInfo, Tonight};
use crate::store::records::ShiftLog;
use crate::store::team::{TeamView, TipOutcome};
use crate::wire::api::{
    AuditResponse, DevicesResponse, IssueCodeResponse, MembersResponse, RosterResponse,
    RosterStatusResponse,
};
use crate::wire::team::TeamAnswer;
use chrono_tz::Tz;
use dioxus::prelude::*;
use std::collections::HashMap;

/// The bottom tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Đêm nay.
    Tonight,
    /// Lộ trình.
    Route,
    /// Ghi nhận.
    Observe,
    /// Nhật ký.
    Log,
    /// Tổ: the team's night, tips and logs (leaders, officers, admins).
    Team,
}

/// Which part of the team screen is shown (leaders' build).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamPart {
    /// The shifts running now.
    Live,
    /// The tips, waiting first.
    Tips,
    /// The shift logs of a night.
    Logs,
    /// Reports made on the ward server.
    Reports,
    /// Members, roster, phones, route.
    Admin,
}

/// A message shown after a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// The translated text.
    pub text: String,
    /// True for an error.
    pub error: bool,
    /// An error's details (the transport's or the server's words), behind a "details" toggle.
    pub detail: Option<String>,
}

/// The team API's latest answers the leader screens show, one per kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Admin {
    /// The members.
    pub members: Option<MembersResponse>,
    /// The devices.
    pub devices: Option<DevicesResponse>,
    /// The roster's morning view.
    pub status: Option<RosterStatusResponse>,
    /// The last enrollment code issued, shown as a QR.
    pub code: Option<IssueCodeResponse>,
    /// The roster range last read or changed.
    pub roster: Option<RosterResponse>,
    /// The team's audit, as read (officers and admins).
    pub audit: Option<AuditResponse>,
    /// The night-duty sheet last read, marked or closed.
    pub allowance: Option<Box<crate::wire::api::AllowanceResponse>>,
}

impl Admin {
    /// Keeps an answer where its screen reads it. A changed member or device is read again by the
    /// screen that changed it (the server's list is the truth).
    pub fn take(&mut self, answer: TeamAnswer) {
        match answer {
            TeamAnswer::Members(m) => self.members = Some(m),
            TeamAnswer::Devices(d) => self.devices = Some(d),
            TeamAnswer::Status(s) => self.status = Some(s),
            TeamAnswer::Code(c) => self.code = Some(c),
            TeamAnswer::Roster(r) => self.roster = Some(r),
            TeamAnswer::Audit(a) => self.audit = Some(a),
            TeamAnswer::Allowance(a) => self.allowance = Some(a),
            TeamAnswer::Member(_)
            | TeamAnswer::Left(_)
            | TeamAnswer::Device(_)
            | TeamAnswer::Route(_) => {}
        }
    }
}

/// The leaders' screens on a device whose app is the members' build (web): where the move is.
#[derive(Debug, Clone, PartialEq)]
pub enum LeaderBuild {
    /// Not started (a role given while the app runs: the card offers it).
    Idle,
    /// Being downloaded for offline use; the page reloads into it when it is kept.
    Loading,
    /// Kept on the phone, not reloaded into: someone was tapping or typing. The next start runs it.
    Kept,
    /// Could not be downloaded: why, to translate.
    Failed(crate::service::ApiError),
}

/// An image on the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// Asked for.
    Loading,
    /// Its data URL.
    Ready(String),
    /// Why it could not be read, in words.
    Failed(String),
}

/// Shared UI state: copies are cheap (signals). The store's state is kept in pieces, each its own
/// signal, so a save re-renders only the screens that read what it changed.
#[derive(Clone, Copy)]
pub struct Ui {
    core: Signal<Core>,
    /// The first state has arrived from the store.
    pub loaded: Signal<bool>,
    /// The ward setup, if loaded.
    pub setup: Signal<Option<WardSetup>>,
    /// Tonight's shifts.
    pub tonight: Signal<Option<Tonight>>,
    /// The running shift and its log.
    pub active: Signal<Option<ShiftLog>>,
    /// The last ended shift, while none runs.
    pub last_ended: Signal<Option<ShiftLog>>,
    /// Events waiting for the ward server.
    pub pending_sync: Signal<u64>,
    /// The UI language.
    pub lang: Signal<Lang>,
    /// Sync with the ward server.
    pub sync: Signal<SyncInfo>,
    /// The team's shifts and tips (reviewers only).
    pub team: Signal<Option<TeamView>>,
    /// What became of the tips this device knows steps for.
    pub tips: Signal<Vec<TipOutcome>>,
    /// The coming assignments held from tonight on (own, or a leader's team's).
    pub duties: Signal<Vec<Assignment>>,
    /// What the team API last answered, by kind (leader screens).
    pub admin: Signal<Admin>,
    /// The member's own nights on this month's night-duty sheet, once read from the ward server.
    pub my_allowance: Signal<Option<crate::wire::api::MyAllowanceResponse>>,
    /// The last report made on the ward server.
    pub report: Signal<Option<Box<crate::wire::api::ReportResponse>>>,
    /// The last message.
    pub toast: Signal<Option<Toast>>,
    /// The GPS.
    pub gps: Signal<Gps>,
    /// Browser online status.
    pub online: Signal<bool>,
    /// Persistent storage granted (None: not asked yet).
    pub persisted: Signal<Option<bool>>,
    /// The GPS is being watched (location was asked for).
    gps_on: Signal<bool>,
    /// The visible tab.
    pub tab: Signal<Tab>,
    /// The part of the team screen shown.
    pub team_part: Signal<TeamPart>,
    /// The tip the urgent alert opened, to bring into view (its observation id).
    pub focus_tip: Signal<Option<String>>,
    /// The urgent panel is open.
    pub sos_open: Signal<bool>,
    /// A command is in flight.
    pub busy: Signal<bool>,
    /// An enrollment link is being redeemed.
    pub enrolling: Signal<bool>,
    /// Images shown so far, as data URLs (or why one could not be read), by hash.
    pub photos: Signal<HashMap<PhotoHash, Shown>>,
    /// The photo shown full screen.
    pub viewing: Signal<Option<PhotoHash>>,
    /// The switch to the leaders' build, on a members' build whose device became a reviewer.
    pub leader_build: Signal<LeaderBuild>,
}

impl Ui {
    /// Creates the shared state under the current component, loads the state, starts the sensors.
    /// `empty`: the store is still being made, and opens empty; the screens are drawn from
    /// [`AppState::empty`] meanwhile, and a command waits for the store.
    pub fn provide(core: Core, empty: bool) -> Ui {
        use_context_provider(|| {
            let ui = Ui {
                core: Signal::new(core),
                loaded: Signal::new(false),
                setup: Signal::new(None),
                tonight: Signal::new(None),
                active: Signal::new(None),
                last_ended: Signal::new(None),
                pending_sync: Signal::new(0),
                lang: Signal::new(Lang::default()),
                sync: Signal::new(SyncInfo::default()),
                team: Signal::new(None),
                tips: Signal::new(Vec::new()),
                duties: Signal::new(Vec::new()),
                admin: Signal::new(Admin::default()),
                report: Signal::new(None),
                my_allowance: Signal::new(None),
                toast: Signal::new(None),
                gps: Signal::new(Gps::Waiting),
                online: Signal::new(true),
                persisted: Signal::new(None),
                gps_on: Signal::new(false),
                tab: Signal::new(Tab::Tonight),
                team_part: Signal::new(TeamPart::Live),
                focus_tip: Signal::new(None),
                sos_open: Signal::new(false),
                busy: Signal::new(false),
                enrolling: Signal::new(false),
                photos: Signal::new(HashMap::new()),
                viewing: Signal::new(None),
                leader_build: Signal::new(LeaderBuild::Idle),
            };
            if empty {
                ui.apply(Change::Full {
                    state: Box::new(AppState::empty()),
                });
            }
            ui.start_sensors();
            ui.core.read().on_update(move |change| ui.apply(change));
            spawn(async move {
                let link = crate::platform::take_enroll_link();
                let mut enrolling = ui.enrolling;
                if link.is_some() {
                    enrolling.set(true);
                }
                let loaded = ui
                    .exchange(crate::service::Local::State.into(), false)
                    .await;
                if let Some((server_url, code)) = link {
                    ui.send(Command::Enroll { server_url, code }).await;
                    enrolling.set(false);
                }
                // Only from a role read from the store: a failed read says nothing about it.
                if loaded {
                    ui.match_build();
                }
            });
            ui
        })
    }

    /// Whether the Team tab's screens are here: on the web, only in the leaders' build.
    pub const LEADER_SCREENS: bool = cfg!(feature = "leader");

    /// True when this device's role reviews a team (leader, officer, admin).
    pub fn reviews(self) -> bool {
        crate::store::team::reviews(self.sync.read().role)
    }

    /// True when the Team tab shows: a reviewer's device running the app that has its screens.
    pub fn team_tab(self) -> bool {
        Self::LEADER_SCREENS && self.reviews()
    }

    /// At start (and after an enrollment): a reviewer on the members' build moves to the leaders'
    /// build by itself (reloading only if nothing was tapped or typed yet); anyone else starts on
    /// the members' build next time. A role given later shows a card offering the move.
    fn match_build(self) {
        #[cfg(all(feature = "web", target_arch = "wasm32"))]
        {
            use crate::platform::web::build;
            if !crate::store::team::reviews(self.sync.peek().role) {
                build::forget_leader_app();
            } else if Self::LEADER_SCREENS {
                build::leader_app_arrived();
            } else {
                self.move_to_leader_build(false);
            }
        }
    }

    /// Downloads the leaders' build for offline use, then reloads into it (web): at once when the
    /// person `asked`, else as [`Ui::match_build`] says. Once kept, asking again reloads.
    pub fn move_to_leader_build(self, asked: bool) {
        #[cfg(all(feature = "web", target_arch = "wasm32"))]
        {
            use crate::platform::web::build::{self, Moved};
            let mut state = self.leader_build;
            if asked && *state.peek() == LeaderBuild::Kept {
                build::reload_page();
                return;
            }
            state.set(LeaderBuild::Loading);
            spawn(async move {
                match build::keep_leader_app(asked).await {
                    Ok(Moved::Reloading) => {}
                    Ok(Moved::Kept) => state.set(LeaderBuild::Kept),
                    Err(why) => state.set(LeaderBuild::Failed(why)),
                }
            });
        }
        #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
        let _ = asked;
    }

    /// The shared state of the enclosing app.
    pub fn get() -> Ui {
        use_context::<Ui>()
    }

    /// Watches the network, and tells the store's worker at every sign of a connection (back
    /// online, the app shown again) so records waiting go at once. Asks for nothing: location and
    /// persistent storage are asked for when the member taps what needs them.
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    fn start_sensors(self) {
        use crate::platform::web::sensors;
        let mut online = self.online;
        // Called from the browser's events, outside Dioxus: a plain browser task.
        let poke = move || {
            let core = self.core.peek().clone();
            wasm_bindgen_futures::spawn_local(async move {
                core.call(Command::ConnectionSeen).await;
            });
        };
        online.set(sensors::watch_online(move |o| {
            let mut online = online;
            online.set(o);
            if o {
                poke();
            }
        }));
        sensors::on_shown(move || {
            if *online.peek() {
                poke();
            }
        });
    }

    #[cfg(not(all(feature = "web", target_arch = "wasm32")))]
    fn start_sensors(mut self) {
        // A desktop has no GPS: check-ins there go by QR code or by hand.
        self.gps
            .set(Gps::Unavailable(crate::platform::NoGps::Missing));
        self.gps_on.set(true);
        self.persisted.set(Some(true));
    }

    /// Starts watching the GPS, the first time something the member tapped needs the location
    /// (the route, an observation, the urgent sheet); the browser asks then, not at load.
    pub fn use_location(self) {
        if *self.gps_on.peek() {
            return;
        }
        let mut on = self.gps_on;
        on.set(true);
        #[cfg(all(feature = "web", target_arch = "wasm32"))]
        crate::platform::web::sensors::watch_gps(move |g| {
            let mut gps = self.gps;
            gps.set(g)
        });
    }

    /// Asks the browser to keep the app's data (when a shift starts: records are coming).
    pub fn keep_storage(self) {
        #[cfg(all(feature = "web", target_arch = "wasm32"))]
        if self.persisted.peek().is_none() {
            let mut persisted = self.persisted;
            spawn(async move {
                persisted.set(Some(
                    crate::platform::web::sensors::request_persistence().await,
                ))
            });
        }
    }

    /// Applies what a command changed, setting only the pieces that differ.
    pub fn apply(self, change: Change) {
        fn put<T: PartialEq + 'static>(mut sig: Signal<T>, value: T) {
            if *sig.peek() != value {
                sig.set(value);
            }
        }
        match change {
            Change::Full { state } => {
                let AppState {
                    setup,
                    tonight,
                    active,
                    last_ended,
                    pending_sync,
                    lang,
                    device_id: _,
                    sync,
                    #[cfg(team_api)]
                    team,
                    tips,
                    duties,
                } = *state;
                put(self.setup, setup);
                put(self.tonight, tonight);
                put(self.active, active);
                put(self.last_ended, last_ended);
                put(self.pending_sync, pending_sync);
                put(self.lang, lang);
                // A round that reached the server (back online, or a later round) may make
                // fetchable what could not be fetched before.
                let synced = self.sync.peek().last_success != sync.last_success;
                put(self.sync, sync);
                #[cfg(team_api)]
                put(self.team, team);
                put(self.tips, tips);
                put(self.duties, duties);
                put(self.loaded, true);
                if synced {
                    self.retry_photos();
                }
            }
            Change::Entry {
                entry,
                pending_sync,
            } => {
                let mut active = self.active;
                if let Some(log) = active.write().as_mut() {
                    log.push(entry);
                }
                put(self.pending_sync, pending_sync);
            }
            Change::Lang { lang } => put(self.lang, lang),
            #[cfg(team_api)]
            Change::Team { answer } => {
                let mut admin = self.admin;
                admin.write().take(*answer);
            }
            #[cfg(team_api)]
            Change::Report { report } => {
                let mut shown = self.report;
                shown.set(Some(report));
            }
            Change::MyAllowance { mine } => {
                let mut shown = self.my_allowance;
                shown.set(Some(mine));
            }
            Change::Photo { hash, mime, data } => {
                let url = super::photo::data_url(&mime, &data);
                let mut photos = self.photos;
                photos.write().insert(hash, Shown::Ready(url));
            }
            Change::Nothing => {}
        }
    }

    /// The photos as files to share (those this phone or the ward server can give now), named
    /// "photo-1.jpg", "photo-2.jpg"...
    pub async fn photo_files(
        self,
        photos: &[crate::domain::photo::PhotoRef],
    ) -> Vec<crate::platform::SharedFile> {
        let core = self.core.peek().clone();
        let mut out = Vec::new();
        for (i, p) in photos.iter().enumerate() {
            let reply = core
                .call(Command::Photo {
                    hash: p.hash.clone(),
                })
                .await;
            if let Ok(Change::Photo { mime, data, .. }) = reply.result {
                let ext = if mime == "image/webp" { "webp" } else { "jpg" };
                out.push(crate::platform::SharedFile {
                    name: format!("photo-{}.{ext}", i + 1),
                    mime,
                    bytes: data,
                });
            }
        }
        out
    }

    /// Loads an image for the screen, once: from this device, else from the ward server. Quiet:
    /// no busy state, no message replaced; a failure is kept for the image's place to say.
    pub fn load_photo(self, hash: PhotoHash) {
        if self.photos.peek().contains_key(&hash) {
            return;
        }
        let mut photos = self.photos;
        photos.write().insert(hash.clone(), Shown::Loading);
        let core = self.core.peek().clone();
        spawn(async move {
            let reply = core.call(Command::Photo { hash: hash.clone() }).await;
            match reply.result {
                Ok(change) => self.apply(change),
                Err(e) => {
                    let text = i18n::tf(self.lang(), &e.key, &e.args);
                    photos.write().insert(hash, Shown::Failed(text));
                }
            }
        });
    }

    /// Forgets the images that could not be read, so the screens showing them ask again (after a
    /// round that reached the server). Nothing is asked while none failed.
    fn retry_photos(self) {
        let mut photos = self.photos;
        if photos
            .peek()
            .values()
            .any(|s| matches!(s, Shown::Failed(_)))
        {
            photos.write().retain(|_, s| !matches!(s, Shown::Failed(_)));
        }
    }

    /// Shows a confirmation that fades after 3 s whichever screen comes next (the fade belongs to
    /// the app, not to the screen that asked); warnings and errors stay until tapped.
    pub fn confirm(self, text: String) {
        use std::sync::atomic::{AtomicU64, Ordering};
        // Each confirmation fades on its own clock: an earlier one's timer never cuts a later one
        // short, even with the same words ("saved" twice in a row).
        static SHOWN: AtomicU64 = AtomicU64::new(0);
        let mine = SHOWN.fetch_add(1, Ordering::Relaxed) + 1;
        let toast = Toast {
            text,
            error: false,
            detail: None,
        };
        let mut shown = self.toast;
        shown.set(Some(toast.clone()));
        dioxus::core::spawn_forever(async move {
            futures_timer::Delay::new(std::time::Duration::from_secs(3)).await;
            if SHOWN.load(Ordering::Relaxed) == mine && shown.peek().as_ref() == Some(&toast) {
                shown.set(None);
            }
        });
    }

    /// Sends a command; on success applies what changed and returns true, else shows the error.
    pub async fn send(self, cmd: impl Into<Command>) -> bool {
        self.exchange(cmd.into(), true).await
    }

    /// [`Ui::send`], marking the app `busy` (its buttons off) until the reply if asked. The first
    /// read of the store does not: a new phone's first screen stays live while its store is made.
    async fn exchange(mut self, cmd: Command, busy: bool) -> bool {
        let core = self.core.read().clone();
        // A new command replaces the last message, so what is shown is always about this one.
        self.toast.set(None);
        if busy {
            self.busy.set(true);
        }
        let reply = core.call(cmd).await;
        if busy {
            self.busy.set(false);
        }
        match reply.result {
            Ok(change) => {
                self.apply(change);
                let lang = self.lang();
                match reply.notice {
                    Some(Notice::Saved) => self.confirm(i18n::t(lang, "notice.saved")),
                    Some(Notice::Enrolled) => self.confirm(i18n::t(lang, "notice.enrolled")),
                    Some(Notice::Synced) => self.confirm(i18n::t(lang, "notice.synced")),
                    Some(Notice::ClockWentBack) => self.fail(i18n::t(lang, "notice.clock_back")),
                    None => {}
                }
                true
            }
            Err(e) => {
                self.fail_with(&e);
                false
            }
        }
    }

    /// Reads the member's own nights of `month` from the ward server, quietly: offline or
    /// refused, the last count read stays and nothing is shown.
    pub async fn read_my_allowance(self, month: crate::domain::allowance::YearMonth) {
        let core = self.core.peek().clone();
        if let Ok(change) = core.call(Command::MyAllowance { month }).await.result {
            self.apply(change);
        }
    }

    /// Takes the last message away (the part of the screen it was about is left).
    pub fn clear_message(mut self) {
        self.toast.set(None);
    }

    /// Shows a warning or an error; it stays until tapped.
    pub fn fail(mut self, text: String) {
        self.toast.set(Some(Toast {
            text,
            error: true,
            detail: None,
        }));
    }

    /// Shows `e` in the UI language; its details go to the log and behind the "details" toggle.
    pub fn fail_with(mut self, e: &crate::service::ApiError) {
        if let Some(d) = &e.detail {
            crate::platform::log_detail(&e.key, d);
        }
        self.toast.set(Some(Toast {
            text: i18n::tf(self.lang(), &e.key, &e.args),
            error: true,
            detail: e.detail.clone(),
        }));
    }

    /// Opens the tip with observation id `id` on the team screen, its buttons in view (the urgent
    /// alert's one tap).
    pub fn open_tip(mut self, id: String) {
        self.team_part.set(TeamPart::Tips);
        self.focus_tip.set(Some(id));
        self.go(Tab::Team);
    }

    /// Shows `tab` from its top, with no stale message.
    pub fn go(mut self, tab: Tab) {
        self.tab.set(tab);
        self.toast.set(None);
        self.scroll_top();
    }

    /// Scrolls the screen back to its top (after a tab change or the end of a shift).
    pub fn scroll_top(self) {
        #[cfg(all(feature = "web", target_arch = "wasm32"))]
        if let Some(window) = web_sys::window() {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        #[cfg(all(feature = "desktop", not(target_arch = "wasm32")))]
        let _ = document::eval("window.scrollTo(0, 0)");
    }

    /// Brings the element with DOM id `dom_id` into view at the top (below the sticky bar, as its
    /// CSS `scroll-margin-top` says); nothing when it is not drawn.
    pub fn scroll_into_view(self, dom_id: &str) {
        #[cfg(all(feature = "web", target_arch = "wasm32"))]
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(dom_id))
        {
            el.scroll_into_view();
        }
        #[cfg(all(feature = "desktop", not(target_arch = "wasm32")))]
        if let Ok(id) = serde_json::to_string(dom_id) {
            let _ = document::eval(&format!("document.getElementById({id})?.scrollIntoView()"));
        }
    }

    /// The UI language.
    pub fn lang(&self) -> Lang {
        *self.lang.read()
    }

    /// Translates a key.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang(), key)
    }

    /// Translates a key and fills its `{name}` fields with text shown as it is.
    pub fn tf(&self, key: &str, args: &[(&str, String)]) -> String {
        let args: Vec<(String, Arg)> = args
            .iter()
            .map(|(k, v)| (k.to_string(), Arg::Text(v.clone())))
            .collect();
        i18n::tf(self.lang(), key, &args)
    }

    /// A night as a leader plans it: "Thứ Hai 07/12/2026".
    pub fn weekday_date(&self, d: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let day = self.t(&format!("weekday.{}", d.weekday().number_from_monday()));
        format!("{day} {}", super::fmt::date(d))
    }

    /// The ward's time zone.
    pub fn tz(&self) -> Tz {
        self.setup
            .read()
            .as_ref()
            .map_or(crate::domain::shift::DEFAULT_TZ, |s| s.ward.time_zone())
    }

    /// The team's shift slots (none before a ward is set up).
    pub fn slots(&self) -> Vec<crate::domain::shift::ShiftSlot> {
        self.setup
            .read()
            .as_ref()
            .map(|s| s.team.slots.clone())
            .unwrap_or_default()
    }

    /// The team's route (empty before a ward is set up).
    pub fn checkpoints(&self) -> Vec<crate::domain::ward::Checkpoint> {
        self.setup
            .read()
            .as_ref()
            .map(|s| s.checkpoints.clone())
            .unwrap_or_default()
    }
}
