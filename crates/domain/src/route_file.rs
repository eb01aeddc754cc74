//! Route files a leader imports and exports: GeoJSON (read and written, one format) and CSV (read),
//! each refusal typed with the feature or line and the column it is about, so the phone can say
//! it in its own words.

use super::geofence::LatLon;
use super::ward::{check_route, Checkpoint, WardError, DEFAULT_RADIUS_M};
use serde::{Deserialize, Serialize};

/// The format of a route file (on the wire: `geojson`, `csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteFormat {
    /// A GeoJSON FeatureCollection of Points.
    Geojson,
    /// CSV with a header: name,lat,lon[,radius_m,id,qr_code].
    Csv,
}

impl RouteFormat {
    /// The format a file's name says: `.csv`, else GeoJSON.
    pub fn of_file(name: &str) -> Self {
        if name.to_lowercase().ends_with(".csv") {
            RouteFormat::Csv
        } else {
            RouteFormat::Geojson
        }
    }
}

/// Reads a route file written in `format`.
pub fn read(format: RouteFormat, text: &str) -> Result<Vec<Checkpoint>, WardError> {
    match format {
        RouteFormat::Csv => checkpoints_from_csv(text),
        RouteFormat::Geojson => checkpoints_from_geojson(text),
    }
}

/// Reads a route from a GeoJSON FeatureCollection of Points.
///
/// Properties: `name` (required), `id`, `radius_m` (default 40), `qr_code` (default the id),
/// `seq` (default the order in the file). Checkpoints come back sorted by `seq`.
pub fn checkpoints_from_geojson(text: &str) -> Result<Vec<Checkpoint>, WardError> {
    let gj: geojson::GeoJson = text.parse().map_err(|_| WardError::NotGeoJson)?;
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        return Err(WardError::NotGeoJson);
    };
    let mut out = Vec::with_capacity(fc.features.len());
    for (i, f) in fc.features.iter().enumerate() {
        let index = i + 1;
        let (lon, lat) = match f.geometry.as_ref().map(|g| &g.value) {
            Some(geojson::GeometryValue::Point { coordinates }) if coordinates.len() >= 2 => {
                (coordinates[0], coordinates[1])
            }
            _ => return Err(WardError::NotPoint { index }),
        };
        let pos = LatLon::new(lat, lon).map_err(|source| WardError::Geo { index, source })?;
        let prop_str = |k: &str| f.property(k).and_then(|v| v.as_str()).map(str::to_string);
        let name = prop_str("name").unwrap_or_default();
        let id = prop_str("id")
            .or_else(|| {
                f.id.as_ref().map(|id| match id {
                    geojson::feature::Id::String(s) => s.clone(),
                    geojson::feature::Id::Number(n) => n.to_string(),
                })
            })
            .unwrap_or_else(|| format!("cp-{index}"));
        let radius_m = f
            .property("radius_m")
            .and_then(|v| v.as_f64())
            .unwrap_or(DEFAULT_RADIUS_M);
        let seq = f
            .property("seq")
            .and_then(|v| v.as_u64())
            .map(|s| s as u32)
            .unwrap_or(index as u32);
        let qr_code = prop_str("qr_code").unwrap_or_else(|| id.clone());
        out.push(Checkpoint {
            id,
            name: name.trim().to_string(),
            seq,
            pos,
            radius_m,
            qr_code,
        });
    }
    check_route(&out)?;
    out.sort_by_key(|c| c.seq);
    for (i, c) in out.iter_mut().enumerate() {
        c.seq = i as u32 + 1;
    }
    Ok(out)
}

/// Writes a route as the GeoJSON FeatureCollection [`checkpoints_from_geojson`] reads back: Points
/// with `name`, `id`, `seq`, `radius_m` and `qr_code`.
pub fn checkpoints_to_geojson(checkpoints: &[Checkpoint]) -> String {
    let features = checkpoints
        .iter()
        .map(|c| {
            let mut props = serde_json::Map::new();
            props.insert("name".into(), c.name.clone().into());
            props.insert("id".into(), c.id.clone().into());
            props.insert("seq".into(), c.seq.into());
            props.insert("radius_m".into(), c.radius_m.into());
            props.insert("qr_code".into(), c.qr_code.clone().into());
            geojson::Feature {
                bbox: None,
                geometry: Some(geojson::Geometry::new(geojson::GeometryValue::new_point([
                    c.pos.lon, c.pos.lat,
                ]))),
                id: None,
                properties: Some(props),
                foreign_members: None,
            }
        })
        .collect();
    geojson::FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    }
    .to_string()
}

/// A CSV route row, by the header's column names.
#[derive(Deserialize)]
struct Row {
    name: String,
    lat: f64,
    lon: f64,
    radius_m: Option<f64>,
    id: Option<String>,
    qr_code: Option<String>,
}

/// The columns a CSV route must have.
const CSV_NEEDS: [&str; 3] = ["name", "lat", "lon"];

/// Reads checkpoints from CSV with a header: name,lat,lon[,radius_m,id,qr_code], in route order.
/// A row that does not read names its line (1 is the header) and, when known, its column.
pub fn checkpoints_from_csv(text: &str) -> Result<Vec<Checkpoint>, WardError> {
    // Headers are read trimmed ("name, lat, lon"), as the check below reads them.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| WardError::CsvRow {
            line: 1,
            column: None,
        })?
        .clone();
    if let Some(missing) = CSV_NEEDS.iter().find(|c| !headers.iter().any(|h| h == **c)) {
        return Err(WardError::CsvColumn(missing.to_string()));
    }
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // The record's own line (a quoted cell may span lines), else the count.
        let line = match &record {
            Ok(r) => r.position().map_or(i + 2, |p| p.line() as usize),
            Err(e) => e.position().map_or(i + 2, |p| p.line() as usize),
        };
        let row = record.and_then(|r| r.deserialize::<Row>(Some(&headers)));
        let r = row.map_err(|e| {
            let (line, column) = match e.kind() {
                csv::ErrorKind::Deserialize { pos, err } => (
                    pos.as_ref().map_or(line, |p| p.line() as usize),
                    err.field()
                        .and_then(|f| headers.get(f as usize))
                        .map(|h| h.trim().to_string()),
                ),
                _ => (e.position().map_or(line, |p| p.line() as usize), None),
            };
            WardError::CsvRow { line, column }
        })?;
        let pos = LatLon::new(r.lat, r.lon).map_err(|e| WardError::CsvRow {
            line,
            column: Some(
                match e {
                    super::geofence::GeoError::Latitude(_) => "lat",
                    _ => "lon",
                }
                .to_string(),
            ),
        })?;
        let id =
            r.id.filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| format!("cp-{}", i + 1));
        out.push(Checkpoint {
            qr_code: r
                .qr_code
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            name: r.name.trim().to_string(),
            seq: i as u32 + 1,
            pos,
            radius_m: r.radius_m.unwrap_or(DEFAULT_RADIUS_M),
        });
    }
    check_route(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_written_as_geojson_reads_back_the_same() {
        let route = vec![
            Checkpoint {
                id: "c1".into(),
                name: "Đầu ngõ 12".into(),
                seq: 1,
                pos: LatLon {
                    lat: 21.0285,
                    lon: 105.8542,
                },
                radius_m: 40.0,
                qr_code: "Q1".into(),
            },
            Checkpoint {
                id: "c2".into(),
                name: "Chợ \"đêm\"".into(),
                seq: 2,
                pos: LatLon {
                    lat: 21.0301,
                    lon: 105.8560,
                },
                radius_m: 25.5,
                qr_code: "Q2".into(),
            },
        ];
        assert_eq!(
            checkpoints_from_geojson(&checkpoints_to_geojson(&route)).unwrap(),
            route
        );
    }

    #[test]
    fn geojson_import_reads_points_and_orders_them() {
        let gj = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[105.85,21.03]},"properties":{"name":"Chợ","seq":2,"radius_m":30}},
          {"type":"Feature","id":"school","geometry":{"type":"Point","coordinates":[105.86,21.02]},"properties":{"name":"Trường học","seq":1}}]}"#;
        let cps = checkpoints_from_geojson(gj).unwrap();
        assert_eq!(cps[0].name, "Trường học");
        assert_eq!(cps[0].id, "school");
        assert_eq!(cps[0].radius_m, DEFAULT_RADIUS_M);
        assert_eq!(cps[1].qr_code, "cp-1");
        assert_eq!((cps[1].seq, cps[1].radius_m), (2, 30.0));
    }

    #[test]
    fn geojson_import_refuses_bad_files() {
        assert_eq!(checkpoints_from_geojson("{"), Err(WardError::NotGeoJson));
        assert_eq!(
            checkpoints_from_geojson(r#"{"type":"Point","coordinates":[105.85,21.03]}"#),
            Err(WardError::NotGeoJson)
        );
        let line = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[105.85,21.03]},"properties":{"name":"x"}},
          {"type":"Feature","geometry":{"type":"LineString","coordinates":[[105.85,21.03],[105.86,21.03]]},"properties":{"name":"y"}}]}"#;
        assert_eq!(
            checkpoints_from_geojson(line),
            Err(WardError::NotPoint { index: 2 })
        );
        let wrong_lat = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[105.85,121.03]},"properties":{"name":"x"}}]}"#;
        assert!(matches!(
            checkpoints_from_geojson(wrong_lat),
            Err(WardError::Geo { index: 1, .. })
        ));
        let no_name = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","geometry":{"type":"Point","coordinates":[105.85,21.03]},"properties":{}}]}"#;
        assert!(matches!(
            checkpoints_from_geojson(no_name),
            Err(WardError::Text { index: 1, .. })
        ));
        let empty = r#"{"type":"FeatureCollection","features":[]}"#;
        assert_eq!(checkpoints_from_geojson(empty), Err(WardError::Count(0)));
    }

    #[test]
    fn csv_rows_become_a_route() {
        let cps = checkpoints_from_csv(
            "name,lat,lon,radius_m\nChợ,21.03,105.85,30\nTrường,21.031,105.851,\n",
        )
        .unwrap();
        assert_eq!(cps.len(), 2);
        assert_eq!(
            (cps[0].seq, cps[0].radius_m, cps[0].id.as_str()),
            (1, 30.0, "cp-1")
        );
        assert_eq!(cps[1].radius_m, DEFAULT_RADIUS_M);
    }

    #[test]
    fn a_csv_refusal_names_its_line_and_column() {
        let row = |line, column: &str| {
            Err(WardError::CsvRow {
                line,
                column: Some(column.into()),
            })
        };
        assert_eq!(
            checkpoints_from_csv("name,lat,lon\nX,95,105\n"),
            row(2, "lat")
        );
        assert_eq!(
            checkpoints_from_csv("name,lat,lon\nX,21,105\nY,abc,105\n"),
            row(3, "lat")
        );
        assert_eq!(
            checkpoints_from_csv("name,lon,lat\nX,105,21\nY,,21\n"),
            row(3, "lon")
        );
        assert_eq!(
            checkpoints_from_csv("name,lat\nX,21\n"),
            Err(WardError::CsvColumn("lon".into()))
        );
        assert_eq!(
            checkpoints_from_csv("name,lat,lon\n"),
            Err(WardError::Count(0))
        );
        // Headers with spaces read as written; a quoted cell over two lines moves the count on.
        assert_eq!(
            checkpoints_from_csv("name, lat, lon\n\"Chợ\nđêm\",21.03,105.85\nY,21.03,x\n"),
            row(4, "lon")
        );
        assert_eq!(
            checkpoints_from_csv("name, lat, lon\nChợ,21.03,105.85\n").map(|c| c.len()),
            Ok(1)
        );
    }
}
