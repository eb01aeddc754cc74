//! "Bản đồ": a shift's or a night's checkpoints, check-in fixes and observations drawn as an SVG.
//! The plain background and the points are always drawn, to scale; OpenStreetMap tiles go
//! underneath only while online, so offline (or when the tiles fail) the map is never a blank
//! box. Nothing here runs, and no tile is fetched, until a leader opens the map.

use super::ctx::Ui;
use crate::domain::map::palette::{GRID, LIGHT, OUTLINE, PLAIN, RING};
use crate::domain::map::{
    drawn_at, grid_lines, marks, Counts, MapFit, Mark, MarkKind, ScaleLength, Viewport,
    OSM_COPYRIGHT_URL,
};
use crate::domain::records::ShiftLog;
use crate::domain::ward::Checkpoint;
use dioxus::prelude::*;

/// Room kept along the map's edges so markers stay whole.
const MARGIN: f64 = 28.0;
/// The width drawn before the map's box has been measured (a phone's card).
const DEFAULT_WIDTH: f64 = 320.0;

/// The legend's text for marks of `kind`.
fn legend_key(kind: MarkKind) -> &'static str {
    match kind {
        MarkKind::Verified => "map.legend_verified",
        MarkKind::Unverified => "map.legend_unverified",
        MarkKind::NotVisited => "map.legend_not_visited",
        MarkKind::Observation => "map.legend_observation",
        MarkKind::Urgent => "map.legend_urgent",
        MarkKind::Fix => "map.legend_fix",
    }
}

/// The shape of `g` centred on 0,0, with `label` (a checkpoint's number) inside.
fn glyph(g: MarkKind, label: Option<String>) -> Element {
    let (fill, stroke) = g.paint();
    let ink = g.ink();
    let text = label.map(|l| {
        rsx! {
            text { "text-anchor": "middle", "dominant-baseline": "central", "font-size": "11", "font-weight": "700", fill: "{ink}", "{l}" }
        }
    });
    match g {
        MarkKind::Verified => rsx! {
            circle { r: "10", fill: "{fill}", stroke: "{stroke}", "stroke-width": "2" }
            {text}
        },
        MarkKind::Unverified => rsx! {
            rect { x: "-9", y: "-9", width: "18", height: "18", rx: "2", fill: "{fill}", stroke: "{stroke}", "stroke-width": "2" }
            {text}
        },
        MarkKind::NotVisited => rsx! {
            circle { r: "9.5", fill: "{fill}", stroke: "{stroke}", "stroke-width": "2.5" }
            {text}
        },
        MarkKind::Observation => rsx! {
            polygon { points: "0,-9 9,0 0,9 -9,0", fill: "{fill}", stroke: "{stroke}", "stroke-width": "2" }
        },
        MarkKind::Urgent => rsx! {
            polygon { points: "0,-12 11,8 -11,8", fill: "{fill}", stroke: "{stroke}", "stroke-width": "2", "stroke-linejoin": "round" }
            text { y: "2", "text-anchor": "middle", "dominant-baseline": "central", "font-size": "12", "font-weight": "800", fill: "{ink}", "!" }
        },
        MarkKind::Fix => rsx! {
            circle { r: "4", fill: "{fill}", stroke: "{stroke}", "stroke-width": "1.5" }
        },
    }
}

/// A button that opens the map of `logs` over the route `checkpoints` (empty when the route is
/// not held here). The map, and its tiles, exist only while it is open.
#[component]
pub fn MapToggle(
    testid: String,
    label_key: &'static str,
    logs: Vec<ShiftLog>,
    checkpoints: Vec<Checkpoint>,
) -> Element {
    let ui = Ui::get();
    let mut open = use_signal(|| false);
    let shown = open();
    rsx! {
        button { class: if shown { "map-toggle on" } else { "map-toggle" }, "data-testid": "{testid}", "aria-expanded": "{shown}",
            onclick: move |_| open.set(!shown),
            if shown { {ui.t("map.close")} } else { {ui.t(label_key)} }
        }
        if shown {
            {
                let m = marks(&logs, &checkpoints);
                rsx! { MapView { marks: m.marks, without_position: m.without_position } }
            }
        }
    }
}

/// The map itself: plain background, tiles while online, the marks, the scale bar, the legend.
/// The handler that keeps `width` at a map box's measured width (240–1200 px), so the drawing is
/// made for the room it has.
pub fn follow_width(mut width: Signal<f64>) -> impl FnMut(Event<ResizeData>) {
    move |e: Event<ResizeData>| {
        if let Ok(size) = e.get_content_box_size() {
            let measured = size.width.round().clamp(240.0, 1200.0);
            if (measured - *width.peek()).abs() >= 1.0 {
                width.set(measured);
            }
        }
    }
}

#[component]
pub fn MapView(marks: Vec<Mark>, without_position: usize) -> Element {
    let ui = Ui::get();
    let width = use_signal(|| DEFAULT_WIDTH);
    let mut tile_loaded = use_signal(|| false);
    let mut tile_failed = use_signal(|| false);
    let online = *ui.online.read();
    let counts = Counts::of(&marks);
    let points: Vec<_> = marks.iter().map(Mark::pos).collect();
    let w = width();
    let h = (w * 0.7).clamp(220.0, 480.0).round();
    let view = Viewport {
        width: w,
        height: h,
        margin: MARGIN,
    };
    let without = (without_position > 0).then(|| {
        ui.tf(
            "map.without_position",
            &[("n", without_position.to_string())],
        )
    });
    let Some(fit) = MapFit::fit(&points, view) else {
        return rsx! {
            p { class: "muted map-empty", "data-testid": "map-empty", {ui.t("map.empty")} }
            if let Some(text) = without { p { class: "muted", "{text}" } }
        };
    };
    // Only when they spread wider than the widest view (a GPS fix gone astray).
    let off_map = points.iter().filter(|p| !fit.shows(**p)).count();
    let tiles = if online { fit.tiles() } else { Vec::new() };
    let bar = fit.scale_bar(w * 0.35);
    let label = ui.tf(
        "map.label",
        &[
            ("checkpoints", counts.checkpoints().to_string()),
            ("verified", counts.verified.to_string()),
            ("unverified", counts.unverified.to_string()),
            ("not_visited", counts.not_visited.to_string()),
            (
                "observations",
                (counts.observations + counts.urgent).to_string(),
            ),
            ("urgent", counts.urgent.to_string()),
            ("fixes", counts.fixes.to_string()),
        ],
    );
    // Grid squares one scale bar wide: the plain background shows distances too.
    let step = bar.map_or(0.0, |b| b.px);
    let grid_x = grid_lines(step, w);
    let grid_y = grid_lines(step, h);
    let at: Vec<(f64, f64)> = points.iter().map(|p| fit.project(*p)).collect();
    let drawn = drawn_at(&marks, &at);
    // A fix joined to its checkpoint, and a mark moved aside joined to its place.
    let joins: Vec<((f64, f64), (f64, f64))> = marks
        .iter()
        .zip(at.iter().zip(&drawn))
        .filter_map(|(m, (a, d))| match m {
            Mark::Fix {
                checkpoint: Some(cp),
                ..
            } => Some((*a, fit.project(*cp))),
            _ if a != d => Some((*a, *d)),
            _ => None,
        })
        .collect();
    let legend_label = ui.t("map.legend");
    let no_tiles = !online || (*tile_failed.read() && !*tile_loaded.read());
    let legend: Vec<MarkKind> = MarkKind::ALL
        .into_iter()
        .filter(|g| counts.of_kind(*g) > 0)
        .collect();
    rsx! {
        div { class: "map",
            onresize: follow_width(width),
            svg { "data-testid": "map", role: "img", "aria-label": "{label}",
                "viewBox": "0 0 {w} {h}", width: "{w}", height: "{h}",
                rect { width: "{w}", height: "{h}", fill: "{PLAIN}" }
                g { stroke: "{GRID}", "stroke-width": "1",
                    for x in grid_x { line { key: "x{x}", x1: "{x}", y1: "0", x2: "{x}", y2: "{h}" } }
                    for y in grid_y { line { key: "y{y}", x1: "0", y1: "{y}", x2: "{w}", y2: "{y}" } }
                }
                for t in tiles {
                    image { key: "{t.url()}", "data-testid": "map-tile", href: "{t.url()}",
                        x: "{t.px}", y: "{t.py}", width: "256", height: "256",
                        onload: move |_| tile_loaded.set(true),
                        onerror: move |_| tile_failed.set(true),
                    }
                }
                for (i, ((x1, y1), (x2, y2))) in joins.into_iter().enumerate() {
                    g { key: "j{i}",
                        line { x1: "{x1:.1}", y1: "{y1:.1}", x2: "{x2:.1}", y2: "{y2:.1}", stroke: "{OUTLINE}", "stroke-width": "3" }
                        line { x1: "{x1:.1}", y1: "{y1:.1}", x2: "{x2:.1}", y2: "{y2:.1}", stroke: "{RING}", "stroke-width": "1.5", "stroke-dasharray": "3 3" }
                    }
                }
                for (i, m) in marks.iter().enumerate() {
                    {
                        let (x, y) = drawn[i];
                        let g = m.kind();
                        let seq = match m {
                            Mark::Checkpoint { seq, .. } => Some(seq.to_string()),
                            _ => None,
                        };
                        rsx! {
                            g { key: "m{i}", "data-testid": "map-point", "data-kind": g.code(),
                                transform: "translate({x:.1} {y:.1})",
                                {glyph(g, seq)}
                            }
                        }
                    }
                }
                if let Some(bar) = bar {
                    {
                        let text = match bar.length() {
                            ScaleLength::M(n) => ui.tf("map.scale_m", &[("n", n.to_string())]),
                            ScaleLength::Km(n) => ui.tf("map.scale_km", &[("n", n.to_string())]),
                        };
                        let px = bar.px;
                        let ends = format!("0,-6 0,0 {px:.1},0 {px:.1},-6");
                        rsx! {
                            g { "data-testid": "map-scale", "data-metres": "{bar.metres}", transform: "translate(12 {h - 10.0})", fill: "none",
                                polyline { points: "{ends}", stroke: "{OUTLINE}", "stroke-width": "5", "stroke-linejoin": "round" }
                                polyline { points: "{ends}", stroke: "{LIGHT}", "stroke-width": "2" }
                                text { x: "2", y: "-11", "font-size": "12", "font-weight": "700", fill: "{LIGHT}",
                                    stroke: "{OUTLINE}", "stroke-width": "3", "paint-order": "stroke", "{text}" }
                            }
                        }
                    }
                }
            }
            if online {
                a { class: "map-attribution", "data-testid": "map-attribution", href: OSM_COPYRIGHT_URL,
                    target: "_blank", rel: "noopener", {ui.t("map.attribution")} }
            }
        }
        if no_tiles {
            p { class: "muted", "data-testid": "map-no-tiles", {ui.t("map.no_tiles")} }
        }
        if let Some(text) = without { p { class: "muted", "data-testid": "map-without-position", "{text}" } }
        if off_map > 0 {
            p { class: "muted", "data-testid": "map-off", {ui.tf("map.off_map", &[("n", off_map.to_string())])} }
        }
        ul { class: "map-legend", "aria-label": "{legend_label}",
            for g in legend {
                li { key: "{g.code()}",
                    svg { width: "24", height: "24", "viewBox": "-13 -13 26 26", "aria-hidden": "true", {glyph(g, None)} }
                    span { {ui.t(legend_key(g))} }
                }
            }
        }
    }
}
