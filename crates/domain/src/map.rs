//! A shift's or a night's points on a map, without a map library: the Web Mercator projection
//! (the one OpenStreetMap's tiles use), fitting the points into a viewport at a whole zoom level,
//! the tiles that cover it, and a scale bar. Pure arithmetic, so the same points are drawn to
//! scale whether the tiles load or not.
//!
//! Longitudes are not wrapped across the antimeridian: a ward never straddles it.

use super::geofence::LatLon;
use super::records::{LogEntry, ShiftLog};
use super::ward::Checkpoint;
use std::f64::consts::PI;

/// A tile's side in pixels.
pub const TILE_PX: f64 = 256.0;
/// The widest view: about 40 km across a phone's screen. Points spread wider (a GPS fix gone
/// astray) leave the bulk centred and fall off the edge; [`MapFit::fits`] says so.
pub const MIN_ZOOM: u8 = 10;
/// The closest view, street level; the OpenStreetMap tile servers go to 19.
pub const MAX_ZOOM: u8 = 18;
/// Web Mercator stops here; the square map has no poles.
const MAX_LAT: f64 = 85.051_128_779_806_59;
/// WGS84 equatorial radius, as Web Mercator uses it.
const EARTH_RADIUS_M: f64 = 6_378_137.0;
/// Where the OpenStreetMap standard tiles come from (their tile usage policy asks for the
/// attribution "© OpenStreetMap" on the map, and for no bulk downloading).
pub const OSM_TILE_HOST: &str = "https://tile.openstreetmap.org";
/// Where the attribution links to.
pub const OSM_COPYRIGHT_URL: &str = "https://www.openstreetmap.org/copyright";

/// A point's place on the Web Mercator square, both 0..1, x eastwards, y southwards.
fn unit(p: LatLon) -> (f64, f64) {
    let lat = p.lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    let x = (p.lon + 180.0) / 360.0;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0;
    (x, y)
}

/// The latitude at `y` on the Web Mercator square.
fn lat_at(y: f64) -> f64 {
    (PI * (1.0 - 2.0 * y)).sinh().atan().to_degrees()
}

/// The world's side in pixels at `zoom`.
fn world_px(zoom: u8) -> f64 {
    TILE_PX * f64::from(1u32 << zoom)
}

fn usable(p: &LatLon) -> bool {
    p.lat.is_finite() && p.lon.is_finite()
}

/// The drawing area in pixels, and the room kept free along its edges (so markers drawn around
/// a point stay whole).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// Width, pixels.
    pub width: f64,
    /// Height, pixels.
    pub height: f64,
    /// Free room along each edge, pixels.
    pub margin: f64,
}

/// Points fitted into a viewport: a zoom level and where the viewport's top left corner lies in
/// the world's pixels at that zoom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapFit {
    /// The whole zoom level, [`MIN_ZOOM`]..=[`MAX_ZOOM`].
    pub zoom: u8,
    /// World pixel of the viewport's left edge (whole pixels, so tiles meet without seams).
    pub left: f64,
    /// World pixel of the viewport's top edge.
    pub top: f64,
    /// The viewport.
    pub view: Viewport,
    /// Every point lies inside the margins; false only when they spread wider than the widest
    /// view, and then the middle of them is shown.
    pub fits: bool,
}

/// One map tile over the viewport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Zoom level.
    pub z: u8,
    /// Column, 0..2^z.
    pub x: u32,
    /// Row, 0..2^z.
    pub y: u32,
    /// Left edge in viewport pixels (may be negative: tiles overhang the edges).
    pub px: i64,
    /// Top edge in viewport pixels.
    pub py: i64,
}

impl Tile {
    /// The OpenStreetMap standard tile's address.
    pub fn url(&self) -> String {
        format!("{OSM_TILE_HOST}/{}/{}/{}.png", self.z, self.x, self.y)
    }
}

/// A round length and how wide it is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleBar {
    /// 1, 2 or 5 times a power of ten, metres.
    pub metres: u32,
    /// Its width on the map at the viewport's middle latitude, pixels.
    pub px: f64,
}

impl ScaleBar {
    /// The length to print: whole kilometres from 1 km up, else metres.
    pub fn length(&self) -> ScaleLength {
        if self.metres >= 1000 {
            ScaleLength::Km(self.metres / 1000)
        } else {
            ScaleLength::M(self.metres)
        }
    }
}

/// A scale bar's length in the unit it is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleLength {
    /// Metres.
    M(u32),
    /// Kilometres.
    Km(u32),
}

impl MapFit {
    /// The closest whole zoom at which all `points` fit inside `view`'s margins, centred; `None`
    /// when there is no usable point. One point, or many at the same place, shows at
    /// [`MAX_ZOOM`].
    pub fn fit(points: &[LatLon], view: Viewport) -> Option<MapFit> {
        let us: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| usable(p))
            .map(|p| unit(*p))
            .collect();
        if us.is_empty() {
            return None;
        }
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in &us {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        let inner_w = (view.width - 2.0 * view.margin).max(0.0);
        let inner_h = (view.height - 2.0 * view.margin).max(0.0);
        let found = (MIN_ZOOM..=MAX_ZOOM).rev().find(|&z| {
            let s = world_px(z);
            (x1 - x0) * s <= inner_w && (y1 - y0) * s <= inner_h
        });
        let (zoom, cx, cy) = match found {
            Some(z) => (z, (x0 + x1) / 2.0, (y0 + y1) / 2.0),
            // Too wide even at the widest view: the median keeps the bulk of them in sight.
            None => (
                MIN_ZOOM,
                median(us.iter().map(|u| u.0)),
                median(us.iter().map(|u| u.1)),
            ),
        };
        let s = world_px(zoom);
        Some(MapFit {
            zoom,
            left: (cx * s - view.width / 2.0).round(),
            top: (cy * s - view.height / 2.0).round(),
            view,
            fits: found.is_some(),
        })
    }

    /// Where `p` is drawn, in viewport pixels from the top left corner.
    pub fn project(&self, p: LatLon) -> (f64, f64) {
        let (x, y) = unit(p);
        let s = world_px(self.zoom);
        (x * s - self.left, y * s - self.top)
    }

    /// The place drawn at viewport pixel (`x`, `y`): the inverse of [`MapFit::project`], for a tap
    /// on the route editor's map.
    pub fn unproject(&self, x: f64, y: f64) -> LatLon {
        let s = world_px(self.zoom);
        let (ux, uy) = ((x + self.left) / s, (y + self.top) / s);
        LatLon {
            lat: lat_at(uy),
            lon: ux * 360.0 - 180.0,
        }
    }

    /// Whether `p` is drawn inside the viewport.
    pub fn shows(&self, p: LatLon) -> bool {
        let (x, y) = self.project(p);
        (0.0..=self.view.width).contains(&x) && (0.0..=self.view.height).contains(&y)
    }

    /// The tiles covering the viewport, row by row; none beyond the square's top or bottom.
    pub fn tiles(&self) -> Vec<Tile> {
        let n = 1i64 << self.zoom;
        let first = |from: f64| (from / TILE_PX).floor() as i64;
        let last = |to: f64| (to / TILE_PX).ceil() as i64 - 1;
        let (cx0, cx1) = (first(self.left), last(self.left + self.view.width));
        let (ry0, ry1) = (
            first(self.top).max(0),
            last(self.top + self.view.height).min(n - 1),
        );
        let mut tiles = Vec::new();
        for row in ry0..=ry1 {
            for col in cx0..=cx1 {
                tiles.push(Tile {
                    z: self.zoom,
                    x: col.rem_euclid(n) as u32,
                    y: row as u32,
                    px: col * TILE_PX as i64 - self.left as i64,
                    py: row * TILE_PX as i64 - self.top as i64,
                });
            }
        }
        tiles
    }

    /// Ground metres per pixel at the viewport's middle latitude.
    pub fn metres_per_px(&self) -> f64 {
        let s = world_px(self.zoom);
        let lat = lat_at((self.top + self.view.height / 2.0) / s);
        lat.to_radians().cos() * 2.0 * PI * EARTH_RADIUS_M / s
    }

    /// The longest round length (1, 2 or 5 × 10ⁿ m) drawn no wider than `max_px`; `None` when
    /// not even a metre fits.
    pub fn scale_bar(&self, max_px: f64) -> Option<ScaleBar> {
        let per_px = self.metres_per_px();
        let mut best = None;
        let mut decade = 1u32;
        while decade <= 10_000_000 {
            for k in [1, 2, 5] {
                let metres = k * decade;
                let px = f64::from(metres) / per_px;
                if px > max_px {
                    return best;
                }
                best = Some(ScaleBar { metres, px });
            }
            decade *= 10;
        }
        best
    }
}

/// Grid lines every `step` pixels across `size` (the plain background's squares, one scale bar
/// wide); none when they would be too dense to help.
pub fn grid_lines(step: f64, size: f64) -> Vec<f64> {
    if step.is_nan() || step < 16.0 {
        return Vec::new();
    }
    (1..)
        .map(|k| (f64::from(k) * step).round())
        .take_while(|x| *x < size)
        .collect()
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Whether a checkpoint was checked in at, the best of its check-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Visit {
    /// No check-in.
    NotVisited,
    /// Checked in, none verified (a manual check-in, a GPS fix outside or too vague).
    Unverified,
    /// At least one verified check-in.
    Verified,
}

/// One thing drawn on the map.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A checkpoint of the route plan.
    Checkpoint {
        /// Its place.
        pos: LatLon,
        /// Its place on the route, 1-based, drawn inside the marker.
        seq: u32,
        /// Its name.
        name: String,
        /// Visited or not.
        visit: Visit,
    },
    /// Where the phone was at a check-in made with a GPS fix.
    Fix {
        /// The fix's position.
        pos: LatLon,
        /// The checkpoint it was for, when it is on the map (a line joins them).
        checkpoint: Option<LatLon>,
    },
    /// An observation with a position.
    Observation {
        /// Its place.
        pos: LatLon,
        /// Marked urgent.
        urgent: bool,
    },
}

impl Mark {
    /// What it is drawn as.
    pub fn kind(&self) -> MarkKind {
        match self {
            Mark::Checkpoint { visit, .. } => match visit {
                Visit::Verified => MarkKind::Verified,
                Visit::Unverified => MarkKind::Unverified,
                Visit::NotVisited => MarkKind::NotVisited,
            },
            Mark::Fix { .. } => MarkKind::Fix,
            Mark::Observation { urgent: true, .. } => MarkKind::Urgent,
            Mark::Observation { urgent: false, .. } => MarkKind::Observation,
        }
    }

    /// Where it is drawn.
    pub fn pos(&self) -> LatLon {
        match self {
            Mark::Checkpoint { pos, .. }
            | Mark::Fix { pos, .. }
            | Mark::Observation { pos, .. } => *pos,
        }
    }
}

/// What a map shows, in drawing order (later on top), and what it cannot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Marks {
    /// Fixes, then checkpoints in route order, then observations, urgent ones last.
    pub marks: Vec<Mark>,
    /// Observations recorded without a position, so not drawn.
    pub without_position: usize,
}

/// The marks for the shifts in `logs` over the route `checkpoints` (empty when the route is not
/// known here): each checkpoint with the best of its check-ins in any of the shifts, the GPS
/// fixes of the check-ins, and the observations that have a position.
pub fn marks(logs: &[ShiftLog], checkpoints: &[Checkpoint]) -> Marks {
    let entries = || logs.iter().flat_map(|l| l.entries.iter());
    let mut fixes = Vec::new();
    let mut observations = Vec::new();
    let mut without_position = 0;
    for e in entries() {
        match e {
            LogEntry::CheckIn(c) => {
                if let Some(fix) = c.fix.filter(|f| usable(&f.pos)) {
                    fixes.push(Mark::Fix {
                        pos: fix.pos,
                        checkpoint: checkpoints
                            .iter()
                            .find(|cp| cp.id == c.checkpoint_id)
                            .map(|cp| cp.pos)
                            .filter(usable),
                    });
                }
            }
            LogEntry::Observation(o) => match o.fix.filter(|f| usable(&f.pos)) {
                Some(fix) => observations.push(Mark::Observation {
                    pos: fix.pos,
                    urgent: o.urgent,
                }),
                None => without_position += 1,
            },
            LogEntry::Correction(_) => {}
        }
    }
    let mut route: Vec<&Checkpoint> = checkpoints.iter().filter(|c| usable(&c.pos)).collect();
    route.sort_by_key(|c| c.seq);
    let route = route.into_iter().map(|cp| Mark::Checkpoint {
        pos: cp.pos,
        seq: cp.seq,
        name: cp.name.clone(),
        visit: entries()
            .filter_map(|e| match e {
                LogEntry::CheckIn(c) if c.checkpoint_id == cp.id => Some(if c.verified {
                    Visit::Verified
                } else {
                    Visit::Unverified
                }),
                _ => None,
            })
            .max()
            .unwrap_or(Visit::NotVisited),
    });
    // Urgent observations drawn last, on top of everything.
    observations.sort_by_key(|m| matches!(m, Mark::Observation { urgent: true, .. }));
    let mut all = fixes;
    all.extend(route);
    all.extend(observations);
    Marks {
        marks: all,
        without_position,
    }
}

/// What a mark is drawn as: one shape and colour each, on the map and in its legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// A checkpoint with a verified check-in: a green circle.
    Verified,
    /// A checkpoint checked in at, none verified: an amber square.
    Unverified,
    /// A checkpoint not checked in at: a dark circle with a light ring.
    NotVisited,
    /// An observation: a blue diamond.
    Observation,
    /// An urgent observation: a red triangle with "!".
    Urgent,
    /// A check-in's GPS fix: a small light dot.
    Fix,
}

impl MarkKind {
    /// Every kind, in the legend's order.
    pub const ALL: [MarkKind; 6] = [
        MarkKind::Verified,
        MarkKind::Unverified,
        MarkKind::NotVisited,
        MarkKind::Observation,
        MarkKind::Urgent,
        MarkKind::Fix,
    ];

    /// A stable name (the map's `data-kind`, for tests).
    pub fn code(self) -> &'static str {
        match self {
            MarkKind::Verified => "checkpoint-verified",
            MarkKind::Unverified => "checkpoint-unverified",
            MarkKind::NotVisited => "checkpoint-not-visited",
            MarkKind::Observation => "observation",
            MarkKind::Urgent => "observation-urgent",
            MarkKind::Fix => "fix",
        }
    }

    /// Fill and outline. One of the two is at least 3:1 against the plain background, the
    /// cards and the light colours of the tiles (the test `marks_stand_out_at_3_to_1`).
    pub fn paint(self) -> (&'static str, &'static str) {
        use palette::*;
        match self {
            MarkKind::Verified => (VERIFIED, OUTLINE),
            MarkKind::Unverified => (UNVERIFIED, OUTLINE),
            MarkKind::NotVisited => (OUTLINE, RING),
            MarkKind::Observation => (OBSERVATION, OUTLINE),
            MarkKind::Urgent => (URGENT, OUTLINE),
            MarkKind::Fix => (LIGHT, OUTLINE),
        }
    }

    /// The colour of a number or sign drawn inside the shape.
    pub fn ink(self) -> &'static str {
        match self {
            MarkKind::NotVisited => palette::RING,
            _ => palette::OUTLINE,
        }
    }
}

/// The map's colours. They live beside the marks rather than in the UI so that their contrast
/// test runs with the domain's tests (the UI compiles only with a platform feature).
pub mod palette {
    /// The plain background, a shade lighter than the cards so the map reads as a map.
    pub const PLAIN: &str = "#1d2935";
    /// Grid lines on the plain background, one scale bar apart (decoration).
    pub const GRID: &str = "#2c3b4a";
    /// The dark outline around every mark: it carries the contrast over light tiles.
    pub const OUTLINE: &str = "#0b0f14";
    /// A checkpoint with a verified check-in (the theme's --ok).
    pub const VERIFIED: &str = "#3ccf7a";
    /// A checkpoint checked in at, none verified (the theme's --warn).
    pub const UNVERIFIED: &str = "#f5b82e";
    /// The ring of a checkpoint not visited, and the line from a fix to its checkpoint.
    pub const RING: &str = "#c9d3dd";
    /// An observation.
    pub const OBSERVATION: &str = "#7cc4ff";
    /// An urgent observation (the theme's --danger).
    pub const URGENT: &str = "#ff5a52";
    /// A check-in's GPS fix, and the scale bar.
    pub const LIGHT: &str = "#e8edf2";
    /// The theme's card (the legend's background).
    pub const CARD: &str = "#141b23";
}

/// How many of each kind of mark, for the map's spoken label and its legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Checkpoints with at least one verified check-in.
    pub verified: usize,
    /// Checkpoints checked in at, none verified.
    pub unverified: usize,
    /// Checkpoints not checked in at.
    pub not_visited: usize,
    /// Observations that are not urgent.
    pub observations: usize,
    /// Urgent observations.
    pub urgent: usize,
    /// GPS fixes of check-ins.
    pub fixes: usize,
}

impl Counts {
    /// Counts `marks`.
    pub fn of(marks: &[Mark]) -> Counts {
        let mut c = Counts::default();
        for m in marks {
            *match m.kind() {
                MarkKind::Verified => &mut c.verified,
                MarkKind::Unverified => &mut c.unverified,
                MarkKind::NotVisited => &mut c.not_visited,
                MarkKind::Observation => &mut c.observations,
                MarkKind::Urgent => &mut c.urgent,
                MarkKind::Fix => &mut c.fixes,
            } += 1;
        }
        c
    }

    /// How many marks of `kind`.
    pub fn of_kind(&self, kind: MarkKind) -> usize {
        match kind {
            MarkKind::Verified => self.verified,
            MarkKind::Unverified => self.unverified,
            MarkKind::NotVisited => self.not_visited,
            MarkKind::Observation => self.observations,
            MarkKind::Urgent => self.urgent,
            MarkKind::Fix => self.fixes,
        }
    }

    /// All checkpoints.
    pub fn checkpoints(&self) -> usize {
        self.verified + self.unverified + self.not_visited
    }
}

/// Closest two drawn marks may be, centre to centre, in pixels (a marker is about 20 px across).
pub const MARK_SPACING: f64 = 22.0;

/// Where each mark is drawn, in pixels, given where it is (`at`, projected, one per mark, in
/// drawing order). Fixes and checkpoints stand where they are. An observation that would cover a
/// checkpoint's marker or an observation drawn before it is moved aside, to the first free place
/// on rings of [`MARK_SPACING`] around its own (the screen joins it to its place with a line), so
/// a patrol's urgent mark never hides the checkpoint it was made at.
pub fn drawn_at(marks: &[Mark], at: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut placed: Vec<(f64, f64)> = Vec::new();
    let mut out = Vec::with_capacity(at.len());
    let free = |p: (f64, f64), placed: &[(f64, f64)]| {
        placed
            .iter()
            .all(|q| (p.0 - q.0).hypot(p.1 - q.1) >= MARK_SPACING - 1e-9)
    };
    for (m, &p) in marks.iter().zip(at) {
        let drawn = match m {
            Mark::Observation { .. } if !free(p, &placed) => (1..=4)
                .flat_map(|ring| {
                    let r = ring as f64 * MARK_SPACING;
                    // Up and to the right first, then round the ring.
                    (0..8 * ring).map(move |k| {
                        let a = -std::f64::consts::FRAC_PI_4
                            + k as f64 * std::f64::consts::TAU / (8 * ring) as f64;
                        (p.0 + r * a.cos(), p.1 + r * a.sin())
                    })
                })
                .find(|c| free(*c, &placed))
                .unwrap_or(p),
            _ => p,
        };
        if !matches!(m, Mark::Fix { .. }) {
            placed.push(drawn);
        }
        out.push(drawn);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geofence::Fix;
    use crate::observation::Category;
    use crate::records::{CheckIn, CheckInMethod, Observation, Shift};
    use chrono::{NaiveDate, TimeZone, Utc};
    use proptest::prelude::*;

    /// Hoàn Kiếm, Hà Nội.
    const HANOI: LatLon = LatLon {
        lat: 21.0285,
        lon: 105.8542,
    };
    const PHONE: Viewport = Viewport {
        width: 320.0,
        height: 240.0,
        margin: 24.0,
    };

    /// `p` moved `north_m` metres north and `east_m` metres east (flat earth, close enough here).
    fn offset(p: LatLon, north_m: f64, east_m: f64) -> LatLon {
        let m_per_deg = 2.0 * PI * EARTH_RADIUS_M / 360.0;
        LatLon {
            lat: p.lat + north_m / m_per_deg,
            lon: p.lon + east_m / (m_per_deg * p.lat.to_radians().cos()),
        }
    }

    fn assert_inside(fit: &MapFit, points: &[LatLon]) {
        let v = fit.view;
        for p in points {
            let (x, y) = fit.project(*p);
            assert!(
                x >= v.margin - 0.5 && x <= v.width - v.margin + 0.5,
                "x {x} outside {v:?} at z{}",
                fit.zoom
            );
            assert!(
                y >= v.margin - 0.5 && y <= v.height - v.margin + 0.5,
                "y {y} outside {v:?} at z{}",
                fit.zoom
            );
            assert!(fit.shows(*p));
        }
    }

    #[test]
    fn known_tile_of_a_place() {
        // Zoom 0: one tile, the world; the point (0, 0) is its middle.
        let (x, y) = unit(LatLon { lat: 0.0, lon: 0.0 });
        assert!((x - 0.5).abs() < 1e-12 && (y - 0.5).abs() < 1e-12);
        // Hoàn Kiếm at zoom 16 is tile 52038/28850 (as the OSM slippy map names it).
        let (x, y) = unit(HANOI);
        let n = f64::from(1u32 << 16);
        assert_eq!(((x * n) as u32, (y * n) as u32), (52038, 28850));
        // And back: the latitude of a y on the square.
        assert!((lat_at(y) - HANOI.lat).abs() < 1e-9);
    }

    #[test]
    fn nothing_to_fit_is_none() {
        assert_eq!(MapFit::fit(&[], PHONE), None);
        let nan = LatLon {
            lat: f64::NAN,
            lon: 105.0,
        };
        assert_eq!(MapFit::fit(&[nan], PHONE), None);
    }

    #[test]
    fn one_point_is_centred_at_the_closest_zoom() {
        let fit = MapFit::fit(&[HANOI], PHONE).unwrap();
        assert_eq!(fit.zoom, MAX_ZOOM);
        assert!(fit.fits);
        let (x, y) = fit.project(HANOI);
        assert!((x - 160.0).abs() <= 0.5 && (y - 120.0).abs() <= 0.5);
        // The same point many times is one point.
        assert_eq!(MapFit::fit(&[HANOI; 5], PHONE), Some(fit));
    }

    #[test]
    fn a_ward_a_few_km_across_fits_at_a_city_zoom() {
        let points = [
            HANOI,
            offset(HANOI, 1500.0, -2000.0),
            offset(HANOI, -1500.0, 2000.0),
        ];
        let fit = MapFit::fit(&points, PHONE).unwrap();
        assert!(fit.fits);
        // 4 km across 272 px is ~15 m a pixel: zoom 13 (18.2 m/px at 21°N) fits, 14 does not.
        assert_eq!(fit.zoom, 13);
        assert_inside(&fit, &points);
    }

    #[test]
    fn a_route_of_a_few_hundred_metres_is_street_level() {
        let points = [
            HANOI,
            offset(HANOI, 200.0, 150.0),
            offset(HANOI, -100.0, 250.0),
        ];
        let fit = MapFit::fit(&points, PHONE).unwrap();
        // 300 m in 192 px: 1.56 m/px; zoom 16 is 2.23 m/px, zoom 17 is 1.11.
        assert_eq!(fit.zoom, 16);
        assert_inside(&fit, &points);
    }

    #[test]
    fn a_stray_fix_far_away_keeps_the_route_in_sight() {
        let route = [
            HANOI,
            offset(HANOI, 300.0, 300.0),
            offset(HANOI, 200.0, -100.0),
        ];
        let mut points = route.to_vec();
        // A fix 600 km away (Đà Nẵng-ish).
        points.push(LatLon {
            lat: 16.05,
            lon: 108.2,
        });
        let fit = MapFit::fit(&points, PHONE).unwrap();
        assert!(!fit.fits);
        assert_eq!(fit.zoom, MIN_ZOOM);
        for p in route {
            assert!(fit.shows(p), "{p:?} is off the map");
        }
        assert!(!fit.shows(points[3]));
    }

    #[test]
    fn tiles_cover_the_viewport_and_name_the_right_tile() {
        let fit = MapFit::fit(&[HANOI], PHONE).unwrap();
        let tiles = fit.tiles();
        assert!(!tiles.is_empty());
        // Every viewport pixel is under exactly one tile.
        for (x, y) in [(0, 0), (319, 0), (0, 239), (319, 239), (160, 120)] {
            let under = tiles
                .iter()
                .filter(|t| (t.px..t.px + 256).contains(&x) && (t.py..t.py + 256).contains(&y))
                .count();
            assert_eq!(under, 1, "pixel {x},{y}");
        }
        // None lies wholly outside.
        for t in &tiles {
            assert!(t.px < 320 && t.px + 256 > 0 && t.py < 240 && t.py + 256 > 0);
        }
        // The point's own tile is among them, by the slippy map formula.
        let (x, y) = unit(HANOI);
        let n = f64::from(1u32 << MAX_ZOOM);
        let own = ((x * n) as u32, (y * n) as u32);
        assert!(tiles.iter().any(|t| (t.x, t.y) == own));
        assert_eq!(
            Tile {
                z: 16,
                x: 52038,
                y: 28850,
                px: 0,
                py: 0
            }
            .url(),
            "https://tile.openstreetmap.org/16/52038/28850.png"
        );
    }

    #[test]
    fn scale_bar_is_round_and_true() {
        let fit = MapFit::fit(&[HANOI], PHONE).unwrap();
        // Zoom 18 at 21°N: 0.597 m a pixel × cos(21°) ≈ 0.557.
        assert!(
            (fit.metres_per_px() - 0.5574).abs() < 0.001,
            "{}",
            fit.metres_per_px()
        );
        let bar = fit.scale_bar(100.0).unwrap();
        assert_eq!(bar.metres, 50);
        assert!((bar.px - 50.0 / fit.metres_per_px()).abs() < 1e-9);
        assert_eq!(bar.length(), ScaleLength::M(50));
        // Across a ward, kilometres.
        let wide = MapFit::fit(
            &[offset(HANOI, 0.0, -3000.0), offset(HANOI, 0.0, 3000.0)],
            Viewport {
                width: 1000.0,
                height: 600.0,
                margin: 20.0,
            },
        )
        .unwrap();
        let bar = wide.scale_bar(300.0).unwrap();
        assert_eq!(bar.length(), ScaleLength::Km(bar.metres / 1000));
        assert!(bar.metres >= 1000, "{bar:?}");
        // Not even a metre in half a pixel.
        assert_eq!(fit.scale_bar(0.5), None);
    }

    #[test]
    fn grid_lines_are_one_scale_bar_apart_and_never_dense() {
        assert_eq!(grid_lines(100.0, 320.0), vec![100.0, 200.0, 300.0]);
        assert!(grid_lines(8.0, 320.0).is_empty());
        assert!(grid_lines(f64::NAN, 320.0).is_empty());
        assert!(grid_lines(400.0, 320.0).is_empty());
    }

    fn shift(id: &str) -> Shift {
        Shift {
            id: id.into(),
            team_id: "t1".into(),
            slot_code: "A".into(),
            night: NaiveDate::from_ymd_opt(2025, 5, 1).unwrap(),
            started_at: Utc.with_ymd_and_hms(2025, 5, 1, 15, 0, 0).unwrap(),
            members_present: vec![],
            ended_at: None,
            handover_note: None,
        }
    }

    fn check_in(id: &str, cp: &str, verified: bool, fix: Option<LatLon>) -> LogEntry {
        LogEntry::CheckIn(CheckIn {
            id: id.into(),
            shift_id: "s".into(),
            checkpoint_id: cp.into(),
            method: if fix.is_some() {
                CheckInMethod::Gps
            } else {
                CheckInMethod::Manual
            },
            verified,
            fix: fix.map(|pos| Fix {
                pos,
                accuracy_m: 10.0,
            }),
            distance_m: None,
            reason: None,
            at: Utc.with_ymd_and_hms(2025, 5, 1, 15, 10, 0).unwrap(),
        })
    }

    fn observation(id: &str, urgent: bool, at: Option<LatLon>) -> LogEntry {
        LogEntry::Observation(Observation {
            id: id.into(),
            shift_id: "s".into(),
            category: Category::SuspiciousPerson,
            description: None,
            plate: None,
            people: None,
            action: None,
            urgent,
            fix: at.map(|pos| Fix {
                pos,
                accuracy_m: 20.0,
            }),
            at: Utc.with_ymd_and_hms(2025, 5, 1, 15, 20, 0).unwrap(),
            photos: Vec::new(),
        })
    }

    fn checkpoint(id: &str, seq: u32, pos: LatLon) -> Checkpoint {
        Checkpoint {
            id: id.into(),
            name: format!("Chốt {seq}"),
            seq,
            pos,
            radius_m: 30.0,
            qr_code: id.into(),
        }
    }

    #[test]
    fn marks_of_a_night_take_the_best_visit_and_skip_what_has_no_place() {
        let a = HANOI;
        let b = offset(HANOI, 100.0, 0.0);
        let c = offset(HANOI, 0.0, 100.0);
        let route = [
            checkpoint("b", 2, b),
            checkpoint("a", 1, a),
            checkpoint("c", 3, c),
        ];
        let first = ShiftLog::new(
            shift("s1"),
            vec![
                check_in("k1", "a", false, None),
                observation("o1", true, Some(offset(a, 10.0, 10.0))),
                observation("o2", false, None),
            ],
            3,
        );
        let second = ShiftLog::new(
            shift("s2"),
            vec![
                check_in("k2", "a", true, Some(offset(a, 5.0, 0.0))),
                check_in("k3", "b", false, Some(offset(b, 80.0, 0.0))),
                observation("o3", false, Some(offset(c, 10.0, 10.0))),
            ],
            3,
        );
        let m = marks(&[first, second], &route);
        assert_eq!(m.without_position, 1);
        let visits: Vec<(u32, Visit)> = m
            .marks
            .iter()
            .filter_map(|m| match m {
                Mark::Checkpoint { seq, visit, .. } => Some((*seq, *visit)),
                _ => None,
            })
            .collect();
        assert_eq!(
            visits,
            vec![
                (1, Visit::Verified),
                (2, Visit::Unverified),
                (3, Visit::NotVisited)
            ]
        );
        // Fixes first and joined to their checkpoint; the urgent observation last, on top.
        assert!(matches!(m.marks[0], Mark::Fix { checkpoint: Some(p), .. } if p == a));
        assert!(matches!(
            m.marks.last(),
            Some(Mark::Observation { urgent: true, .. })
        ));
        let counts = Counts::of(&m.marks);
        assert_eq!(
            counts,
            Counts {
                verified: 1,
                unverified: 1,
                not_visited: 1,
                observations: 1,
                urgent: 1,
                fixes: 2
            }
        );
        assert_eq!(counts.checkpoints(), 3);
    }

    #[test]
    fn without_a_route_the_records_are_still_drawn() {
        // An officer looking at another team's shift holds no route plan for it.
        let log = ShiftLog::new(
            shift("s1"),
            vec![
                check_in("k1", "x", true, Some(HANOI)),
                observation("o1", false, Some(HANOI)),
            ],
            0,
        );
        let m = marks(&[log], &[]);
        assert_eq!(m.marks.len(), 2);
        assert!(matches!(
            m.marks[0],
            Mark::Fix {
                checkpoint: None,
                ..
            }
        ));
        assert_eq!(marks(&[], &[]), Marks::default());
    }

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    /// WCAG contrast ratio.
    fn contrast(a: &str, b: &str) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// WCAG 1.4.11 (graphics at 3:1): every mark has a part at 3:1 or more on the plain
    /// background, on the card (the legend), and on the light colours of OpenStreetMap's
    /// standard tiles (land #f2efe9, water #aad3df, white roads); so has the scale bar.
    #[test]
    fn marks_stand_out_at_3_to_1() {
        use palette::*;
        assert!((contrast("#ffffff", "#000000") - 21.0).abs() < 1e-9);
        for bg in [PLAIN, CARD, "#f2efe9", "#aad3df", "#ffffff"] {
            for kind in MarkKind::ALL {
                let (fill, outline) = kind.paint();
                let best = contrast(fill, bg).max(contrast(outline, bg));
                assert!(best >= 3.0, "{kind:?} on {bg}: {best:.2}");
            }
            assert!(contrast(LIGHT, bg).max(contrast(OUTLINE, bg)) >= 3.0);
        }
        // The colours tell the kinds apart on the dark background by themselves, too.
        for kind in MarkKind::ALL {
            let (fill, outline) = kind.paint();
            assert!(
                contrast(fill, PLAIN).max(contrast(outline, PLAIN)) >= 4.5,
                "{kind:?}"
            );
        }
        // Numbers and the "!" inside the shapes, against their fill.
        for kind in [
            MarkKind::Verified,
            MarkKind::Unverified,
            MarkKind::NotVisited,
            MarkKind::Urgent,
        ] {
            let c = contrast(kind.ink(), kind.paint().0);
            assert!(c >= 4.5, "{kind:?}: {c:.2}");
        }
    }

    fn viewport() -> impl Strategy<Value = Viewport> {
        (200.0..1400.0f64, 160.0..900.0f64, 1.0..40.0f64).prop_map(|(width, height, margin)| {
            Viewport {
                width,
                height,
                margin,
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Points anywhere in Vietnam, spread up to 10 km (a ward is a few): all drawn inside the
        /// margins, and the zoom is the closest one that fits.
        #[test]
        fn points_always_land_inside_the_viewport(
            lat in 8.5..23.4f64,
            lon in 102.1..109.5f64,
            spread in prop::collection::vec((-5000.0..5000.0f64, -5000.0..5000.0f64), 1..40),
            view in viewport(),
        ) {
            let base = LatLon { lat, lon };
            let points: Vec<LatLon> = spread.iter().map(|(n, e)| offset(base, *n, *e)).collect();
            let fit = MapFit::fit(&points, view).unwrap();
            prop_assert!(fit.fits);
            prop_assert!((MIN_ZOOM..=MAX_ZOOM).contains(&fit.zoom));
            assert_inside(&fit, &points);
            if fit.zoom < MAX_ZOOM {
                let closer = MapFit { zoom: fit.zoom + 1, ..fit };
                let (us, s) = (points.iter().map(|p| unit(*p)), world_px(closer.zoom));
                let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
                for (x, y) in us {
                    x0 = x0.min(x); x1 = x1.max(x); y0 = y0.min(y); y1 = y1.max(y);
                }
                prop_assert!(
                    (x1 - x0) * s > view.width - 2.0 * view.margin
                        || (y1 - y0) * s > view.height - 2.0 * view.margin
                );
            }
            // The tiles cover the corners and the middle.
            let tiles = fit.tiles();
            for (x, y) in [(0.0, 0.0), (view.width - 1.0, view.height - 1.0), (view.width / 2.0, view.height / 2.0)] {
                let (x, y) = (x as i64, y as i64);
                prop_assert!(tiles.iter().any(|t| (t.px..t.px + 256).contains(&x) && (t.py..t.py + 256).contains(&y)));
            }
        }

        /// A tap on the drawing gives back the place drawn there, to well under a metre.
        #[test]
        fn unproject_inverts_project(
            lat in 8.5..23.4f64,
            lon in 102.1..109.5f64,
            spread in prop::collection::vec((-3000.0..3000.0f64, -3000.0..3000.0f64), 1..20),
            view in viewport(),
        ) {
            let base = LatLon { lat, lon };
            let points: Vec<LatLon> = spread.iter().map(|(n, e)| offset(base, *n, *e)).collect();
            let fit = MapFit::fit(&points, view).unwrap();
            for p in &points {
                let (x, y) = fit.project(*p);
                let back = fit.unproject(x, y);
                prop_assert!(p.distance_m(back) < 0.01, "{p:?} -> {back:?}");
            }
        }

        /// The scale bar is a round length, no wider than asked, and not under 40% of that.
        #[test]
        fn scale_bar_stays_within_bounds(
            lat in 8.5..23.4f64,
            lon in 102.1..109.5f64,
            spread in prop::collection::vec((-7500.0..7500.0f64, -7500.0..7500.0f64), 1..10),
            view in viewport(),
            share in 0.2..0.5f64,
        ) {
            let base = LatLon { lat, lon };
            let points: Vec<LatLon> = spread.iter().map(|(n, e)| offset(base, *n, *e)).collect();
            let fit = MapFit::fit(&points, view).unwrap();
            let max_px = view.width * share;
            let bar = fit.scale_bar(max_px).unwrap();
            prop_assert!(bar.px > 0.0 && bar.px <= max_px);
            prop_assert!(bar.px > max_px / 2.5, "{bar:?} for {max_px}");
            let mut m = bar.metres;
            while m.is_multiple_of(10) { m /= 10; }
            prop_assert!([1, 2, 5].contains(&m));
            prop_assert!((bar.px * fit.metres_per_px() - f64::from(bar.metres)).abs() < 1e-6);
        }
    }

    #[test]
    fn an_observation_never_hides_the_checkpoint_it_was_made_at() {
        let pos = LatLon {
            lat: 21.0,
            lon: 105.8,
        };
        let cp = Mark::Checkpoint {
            pos,
            seq: 1,
            name: "Chợ".into(),
            visit: Visit::NotVisited,
        };
        let obs = |urgent| Mark::Observation { pos, urgent };
        let marks = [
            cp,
            obs(false),
            obs(true),
            Mark::Observation { pos, urgent: false },
        ];
        let at = [
            (100.0, 100.0),
            (100.0, 100.0),
            (104.0, 98.0),
            (300.0, 300.0),
        ];
        let drawn = drawn_at(&marks, &at);
        assert_eq!(drawn[0], (100.0, 100.0), "the checkpoint stays");
        assert_eq!(drawn[3], (300.0, 300.0), "a mark alone stays");
        for i in 0..3 {
            for j in i + 1..3 {
                let d = (drawn[i].0 - drawn[j].0).hypot(drawn[i].1 - drawn[j].1);
                assert!(d >= MARK_SPACING - 1e-6, "{i} and {j} are {d:.1} px apart");
            }
        }
        assert!(
            (drawn[1].0 - 100.0).hypot(drawn[1].1 - 100.0) <= MARK_SPACING + 1e-6,
            "moved just aside"
        );
    }
}
