//! Positions, checkpoint geofences, distance and compass bearing ("180 m, NE").

use geo::{Bearing, Distance, Haversine, Point};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A fix worse than this many metres cannot verify a check-in by itself.
pub const MAX_FIX_ACCURACY_M: f64 = 50.0;
/// The largest geofence radius a checkpoint may have.
pub const MAX_RADIUS_M: f64 = 500.0;

/// Why a coordinate or fix is refused.
#[derive(Debug, Error, PartialEq)]
pub enum GeoError {
    /// Latitude outside -90..90 or not a number.
    #[error("latitude {0} is outside -90..90")]
    Latitude(f64),
    /// Longitude outside -180..180 or not a number.
    #[error("longitude {0} is outside -180..180")]
    Longitude(f64),
    /// Accuracy negative or not a number.
    #[error("accuracy {0} m is not a distance")]
    Accuracy(f64),
    /// Radius outside 1..=500 m.
    #[error("radius {0} m must be between 1 and 500 m")]
    Radius(f64),
}

/// A point on the earth in WGS84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude, -90..90.
    pub lat: f64,
    /// Longitude, -180..180.
    pub lon: f64,
}

impl LatLon {
    /// A checked coordinate.
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(GeoError::Latitude(lat));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(GeoError::Longitude(lon));
        }
        Ok(Self { lat, lon })
    }

    /// Re-checks a coordinate that came from outside (JSON, a file).
    pub fn validate(self) -> Result<Self, GeoError> {
        Self::new(self.lat, self.lon)
    }

    fn point(self) -> Point<f64> {
        Point::new(self.lon, self.lat)
    }

    /// Great-circle distance in metres.
    pub fn distance_m(self, other: LatLon) -> f64 {
        Haversine.distance(self.point(), other.point())
    }

    /// Initial bearing towards `other`, degrees clockwise from north, 0..360.
    pub fn bearing_deg(self, other: LatLon) -> f64 {
        Haversine
            .bearing(self.point(), other.point())
            .rem_euclid(360.0)
    }
}

/// A GPS fix: a position and its accuracy radius in metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// Where the phone thinks it is.
    pub pos: LatLon,
    /// The 68% accuracy radius, metres.
    pub accuracy_m: f64,
}

impl Fix {
    /// Checks the coordinate and the accuracy.
    pub fn validate(self) -> Result<Self, GeoError> {
        self.pos.validate()?;
        if !self.accuracy_m.is_finite() || self.accuracy_m < 0.0 {
            return Err(GeoError::Accuracy(self.accuracy_m));
        }
        Ok(self)
    }
}

/// Checks a geofence radius.
pub fn validate_radius(radius_m: f64) -> Result<f64, GeoError> {
    if radius_m.is_finite() && (1.0..=MAX_RADIUS_M).contains(&radius_m) {
        Ok(radius_m)
    } else {
        Err(GeoError::Radius(radius_m))
    }
}

/// What a fix says about being at a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Geofence {
    /// Inside the radius with a usable fix: the check-in is verified.
    Inside {
        /// Metres from the checkpoint.
        distance_m: f64,
    },
    /// Outside the radius.
    Outside {
        /// Metres from the checkpoint.
        distance_m: f64,
    },
    /// The fix is too vague to tell.
    TooInaccurate {
        /// The fix's accuracy, metres.
        accuracy_m: f64,
    },
}

/// Decides whether `fix` puts the member at a checkpoint at `center` with `radius_m`.
///
/// A fix counts only when its accuracy is at most [`MAX_FIX_ACCURACY_M`]; then the reported
/// position must lie within the radius. A vague fix never verifies, however close it claims to be.
pub fn check(center: LatLon, radius_m: f64, fix: Fix) -> Geofence {
    let distance_m = center.distance_m(fix.pos);
    if fix.accuracy_m > MAX_FIX_ACCURACY_M {
        Geofence::TooInaccurate {
            accuracy_m: fix.accuracy_m,
        }
    } else if distance_m <= radius_m {
        Geofence::Inside { distance_m }
    } else {
        Geofence::Outside { distance_m }
    }
}

/// The eight compass points, for "180 m, NE".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compass {
    /// North.
    N,
    /// North-east.
    NE,
    /// East.
    E,
    /// South-east.
    SE,
    /// South.
    S,
    /// South-west.
    SW,
    /// West.
    W,
    /// North-west.
    NW,
}

impl Compass {
    /// All eight, clockwise from north.
    pub const ALL: [Compass; 8] = [
        Compass::N,
        Compass::NE,
        Compass::E,
        Compass::SE,
        Compass::S,
        Compass::SW,
        Compass::W,
        Compass::NW,
    ];

    /// The nearest compass point to a bearing in degrees.
    pub fn from_bearing(deg: f64) -> Self {
        let i = ((deg.rem_euclid(360.0) + 22.5) / 45.0).floor() as usize % 8;
        Self::ALL[i]
    }

    /// Translation key, e.g. "compass.ne".
    pub fn key(self) -> &'static str {
        match self {
            Compass::N => "compass.n",
            Compass::NE => "compass.ne",
            Compass::E => "compass.e",
            Compass::SE => "compass.se",
            Compass::S => "compass.s",
            Compass::SW => "compass.sw",
            Compass::W => "compass.w",
            Compass::NW => "compass.nw",
        }
    }
}

/// Distance rounded for a phone screen: "85 m", "180 m", "1.2 km".
pub fn format_distance(m: f64) -> String {
    if m < 100.0 {
        format!("{} m", m.round() as i64)
    } else if m < 1000.0 {
        format!("{} m", ((m / 10.0).round() * 10.0) as i64)
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Hoàn Kiếm lake, Hà Nội.
    const HK: LatLon = LatLon {
        lat: 21.0285,
        lon: 105.8542,
    };

    #[test]
    fn rejects_out_of_range_coordinates() {
        assert_eq!(LatLon::new(91.0, 0.0), Err(GeoError::Latitude(91.0)));
        assert_eq!(LatLon::new(0.0, -180.5), Err(GeoError::Longitude(-180.5)));
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
        assert!(Fix {
            pos: HK,
            accuracy_m: -1.0
        }
        .validate()
        .is_err());
        assert!(Fix {
            pos: HK,
            accuracy_m: f64::INFINITY
        }
        .validate()
        .is_err());
        assert!(validate_radius(0.0).is_err());
        assert!(validate_radius(600.0).is_err());
        assert_eq!(validate_radius(30.0), Ok(30.0));
    }

    #[test]
    fn geofence_verdicts() {
        // ~0.0009 degrees of latitude ≈ 100 m north.
        let north_100 = LatLon::new(HK.lat + 0.0009, HK.lon).unwrap();
        let d = HK.distance_m(north_100);
        assert!((d - 100.0).abs() < 1.0, "{d}");
        assert!(matches!(
            check(
                HK,
                150.0,
                Fix {
                    pos: north_100,
                    accuracy_m: 10.0
                }
            ),
            Geofence::Inside { .. }
        ));
        assert!(matches!(
            check(
                HK,
                50.0,
                Fix {
                    pos: north_100,
                    accuracy_m: 10.0
                }
            ),
            Geofence::Outside { .. }
        ));
        // Right on top of it, but the fix is vague: not verified.
        assert_eq!(
            check(
                HK,
                50.0,
                Fix {
                    pos: HK,
                    accuracy_m: 400.0
                }
            ),
            Geofence::TooInaccurate { accuracy_m: 400.0 }
        );
    }

    #[test]
    fn bearings_name_compass_points() {
        let north = LatLon::new(HK.lat + 0.01, HK.lon).unwrap();
        let east = LatLon::new(HK.lat, HK.lon + 0.01).unwrap();
        let sw = LatLon::new(HK.lat - 0.01, HK.lon - 0.01).unwrap();
        assert_eq!(Compass::from_bearing(HK.bearing_deg(north)), Compass::N);
        assert_eq!(Compass::from_bearing(HK.bearing_deg(east)), Compass::E);
        assert_eq!(Compass::from_bearing(HK.bearing_deg(sw)), Compass::SW);
        assert_eq!(Compass::from_bearing(359.0), Compass::N);
        assert_eq!(Compass::from_bearing(-45.0), Compass::NW);
        assert_eq!(format_distance(182.4), "180 m");
        assert_eq!(format_distance(7.6), "8 m");
        assert_eq!(format_distance(1234.0), "1.2 km");
    }

    proptest! {
        #[test]
        fn a_precise_fix_at_the_centre_is_always_inside(lat in -80.0f64..80.0, lon in -179.0f64..179.0,
                                                      r in 1.0f64..500.0, acc in 0.0f64..50.0) {
            let c = LatLon::new(lat, lon).unwrap();
            prop_assert!(
                matches!(check(c, r, Fix { pos: c, accuracy_m: acc }), Geofence::Inside { .. }),
                "expected Inside at the centre"
            );
        }

        #[test]
        fn verdict_agrees_with_distance(lat in -80.0f64..80.0, lon in -179.0f64..179.0,
                                        dlat in -0.01f64..0.01, dlon in -0.01f64..0.01, r in 1.0f64..500.0) {
            let c = LatLon::new(lat, lon).unwrap();
            let p = LatLon::new(lat + dlat, lon + dlon).unwrap();
            let d = c.distance_m(p);
            match check(c, r, Fix { pos: p, accuracy_m: 5.0 }) {
                Geofence::Inside { distance_m } => prop_assert!(distance_m <= r && (distance_m - d).abs() < 1e-6),
                Geofence::Outside { distance_m } => prop_assert!(distance_m > r),
                Geofence::TooInaccurate { .. } => prop_assert!(false, "accuracy 5 m is usable"),
            }
        }

        #[test]
        fn bearing_is_in_range(a in -89.0f64..89.0, b in -179.0f64..179.0, c in -89.0f64..89.0, d in -179.0f64..179.0) {
            let x = HK.bearing_deg(LatLon { lat: a, lon: b });
            let y = LatLon { lat: c, lon: d }.bearing_deg(HK);
            prop_assert!((0.0..360.0).contains(&x) && (0.0..360.0).contains(&y));
        }
    }
}
