//! The route editor: the team's checkpoints on a map, each renamed, given a radius, moved (pick it,
//! then tap its new place on the map), removed, or added with a tap; saved whole on the ward server
//! as GeoJSON (the same file format as an import). The map is drawn to scale on a plain background,
//! with OpenStreetMap tiles under it when online, as the leader's review map.

use super::ctx::Ui;
use crate::domain::geofence::LatLon;
use crate::domain::map::palette::{GRID, LIGHT, OUTLINE, PLAIN, RING};
use crate::domain::map::{grid_lines, MapFit, Viewport};
use crate::domain::route_file::checkpoints_to_geojson;
use crate::domain::ward::{Checkpoint, DEFAULT_RADIUS_M};
use crate::service::Command;
use crate::wire::api::{RouteFormat, RouteRequest};
use crate::wire::team::TeamCall;
use dioxus::prelude::*;

/// Room kept free along the map's edges, pixels.
const MARGIN: f64 = 36.0;

/// What a tap on the map does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tap {
    /// Nothing (no checkpoint picked).
    Nothing,
    /// Moves the checkpoint at this index there.
    Move(usize),
    /// Adds a checkpoint there.
    Add,
}

/// A fresh checkpoint id not used in `route`.
fn fresh_id(route: &[Checkpoint]) -> String {
    (route.len() + 1..)
        .map(|n| format!("cp-{n}"))
        .find(|id| route.iter().all(|c| &c.id != id && &c.qr_code != id))
        .expect("some number is free")
}

/// The route editor.
#[component]
pub fn RouteEditor() -> Element {
    let ui = Ui::get();
    let saved = ui.checkpoints();
    let mut route = use_signal(|| saved.clone());
    let mut tap = use_signal(|| Tap::Nothing);
    let width = use_signal(|| 320.0_f64);
    let w = width();
    let h = (w * 0.8).clamp(240.0, 480.0).round();
    let view = Viewport {
        width: w,
        height: h,
        margin: MARGIN,
    };
    let points: Vec<LatLon> = route.read().iter().map(|c| c.pos).collect();
    let changed = *route.read() != saved;
    let fit = MapFit::fit(&points, view);
    let online = *ui.online.read();
    let current = tap();
    let hint = match current {
        Tap::Nothing => ui.t("route_edit.hint_pick"),
        Tap::Move(i) => ui.tf(
            "route_edit.hint_move",
            &[(
                "name",
                route
                    .read()
                    .get(i)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
            )],
        ),
        Tap::Add => ui.t("route_edit.hint_add"),
    };
    let on_tap = move |e: MouseEvent| {
        let Some(fit) = fit else { return };
        let at = e.element_coordinates();
        let pos = fit.unproject(at.x, at.y);
        match tap() {
            Tap::Move(i) => {
                if let Some(c) = route.write().get_mut(i) {
                    c.pos = pos;
                }
                tap.set(Tap::Nothing);
            }
            Tap::Add => {
                let mut r = route.write();
                let id = fresh_id(&r);
                let seq = r.len() as u32 + 1;
                r.push(Checkpoint {
                    name: ui.tf("route_edit.new_name", &[("n", seq.to_string())]),
                    id: id.clone(),
                    seq,
                    pos,
                    radius_m: DEFAULT_RADIUS_M,
                    qr_code: id,
                });
                drop(r);
                tap.set(Tap::Nothing);
            }
            Tap::Nothing => {}
        }
    };
    let grid_x = grid_lines(40.0, w);
    let grid_y = grid_lines(40.0, h);
    rsx! {
        section { class: "card route-edit", "data-testid": "route-edit",
            h2 { {ui.t("route_edit.title")} }
            p { class: "muted", "data-testid": "route-edit-hint", "{hint}" }
            div { class: "map",
                onresize: super::map::follow_width(width),
                svg { "data-testid": "route-map", role: "img", "aria-label": ui.t("route_edit.map_label"),
                    "viewBox": "0 0 {w} {h}", width: "{w}", height: "{h}",
                    rect { width: "{w}", height: "{h}", fill: "{PLAIN}" }
                    g { stroke: "{GRID}", "stroke-width": "1",
                        for x in grid_x { line { key: "x{x}", x1: "{x}", y1: "0", x2: "{x}", y2: "{h}" } }
                        for y in grid_y { line { key: "y{y}", x1: "0", y1: "{y}", x2: "{w}", y2: "{y}" } }
                    }
                    if let (Some(fit), true) = (fit, online) {
                        for t in fit.tiles() {
                            image { key: "{t.url()}", href: "{t.url()}", x: "{t.px}", y: "{t.py}", width: "256", height: "256" }
                        }
                    }
                    if let Some(fit) = fit {
                        for (i, c) in route.read().iter().enumerate() {
                            {
                                let (x, y) = fit.project(c.pos);
                                let r = (c.radius_m / fit.metres_per_px()).max(3.0);
                                let picked = current == Tap::Move(i);
                                rsx! {
                                    g { key: "{c.id}", "data-testid": "route-point-{c.seq}", transform: "translate({x:.1} {y:.1})",
                                        circle { r: "{r:.1}", fill: "none", stroke: "{RING}", "stroke-width": "1.5", "stroke-dasharray": "4 3" }
                                        circle { r: "11", fill: if picked { "{RING}" } else { "{LIGHT}" }, stroke: "{OUTLINE}", "stroke-width": "3" }
                                        text { y: "4", "text-anchor": "middle", "font-size": "12", "font-weight": "700", fill: "{OUTLINE}", "{c.seq}" }
                                    }
                                }
                            }
                        }
                    }
                    // The one target of taps, on top: its coordinates are the map's.
                    rect { "data-testid": "route-map-tap", width: "{w}", height: "{h}", fill: "transparent", onclick: on_tap }
                }
            }
            if fit.is_none() {
                p { class: "muted", {ui.t("route_edit.empty")} }
            }
            ol { class: "plain route-rows",
                for (i, c) in route.read().iter().enumerate() {
                    li { key: "{c.id}", class: "route-row", "data-testid": "route-row-{c.seq}",
                        label { class: "field", {ui.tf("route_edit.name", &[("n", c.seq.to_string())])}
                            input { r#type: "text", maxlength: "100", value: "{c.name}", "data-testid": "route-name-{c.seq}",
                                oninput: move |e| if let Some(c) = route.write().get_mut(i) { c.name = e.value() } }
                        }
                        label { class: "field", {ui.t("route_edit.radius")}
                            input { r#type: "number", min: "5", max: "500", step: "1", value: "{c.radius_m}", "data-testid": "route-radius-{c.seq}",
                                oninput: move |e| if let (Ok(r), Some(c)) = (e.value().parse::<f64>(), route.write().get_mut(i)) { c.radius_m = r } }
                        }
                        p { class: "muted", "data-testid": "route-pos-{c.seq}", "{c.pos.lat:.5}, {c.pos.lon:.5}" }
                        div { class: "row",
                            button { class: if current == Tap::Move(i) { "pick on" } else { "pick" }, "data-testid": "route-move-{c.seq}",
                                onclick: move |_| tap.set(if tap() == Tap::Move(i) { Tap::Nothing } else { Tap::Move(i) }),
                                {ui.t("route_edit.move")}
                            }
                            button { class: "pick", "data-testid": "route-remove-{c.seq}",
                                onclick: move |_| {
                                    let mut r = route.write();
                                    if i < r.len() { r.remove(i); }
                                    for (n, c) in r.iter_mut().enumerate() { c.seq = n as u32 + 1; }
                                    drop(r);
                                    tap.set(Tap::Nothing);
                                },
                                {ui.t("route_edit.remove")}
                            }
                        }
                    }
                }
            }
            div { class: "row",
                button { class: if current == Tap::Add { "pick on" } else { "pick" }, "data-testid": "route-add",
                    onclick: move |_| tap.set(if tap() == Tap::Add { Tap::Nothing } else { Tap::Add }),
                    {ui.t("route_edit.add")}
                }
                button { class: "pick", "data-testid": "route-undo", disabled: !changed,
                    onclick: { let saved = saved.clone(); move |_| { route.set(saved.clone()); tap.set(Tap::Nothing); } },
                    {ui.t("route_edit.undo")}
                }
            }
            button { class: "big primary", "data-testid": "route-save", disabled: !changed || *ui.busy.read(),
                onclick: move |_| async move {
                    let text = checkpoints_to_geojson(&route.read());
                    let call = TeamCall::Route(RouteRequest { format: RouteFormat::Geojson, text });
                    if ui.send(Command::Team { call }).await {
                        ui.confirm(ui.t("admin.route_saved"));
                    }
                },
                {ui.t("route_edit.save")}
            }
        }
    }
}
