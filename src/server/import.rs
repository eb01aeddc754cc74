//! Checkpoint files for the admin: GeoJSON (via the domain) or CSV.

use super::error::ServerError;
use crate::domain::geofence::LatLon;
use crate::domain::ward::{check_route, checkpoints_from_geojson, Checkpoint, DEFAULT_RADIUS_M};
use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    name: String,
    lat: f64,
    lon: f64,
    radius_m: Option<f64>,
    id: Option<String>,
    qr_code: Option<String>,
}

/// Reads checkpoints from CSV with a header: name,lat,lon[,radius_m,id,qr_code], in route order.
pub fn checkpoints_from_csv(text: &str) -> Result<Vec<Checkpoint>, ServerError> {
    let mut out = Vec::new();
    for (i, row) in csv::Reader::from_reader(text.as_bytes())
        .deserialize::<Row>()
        .enumerate()
    {
        let line = i + 2;
        let r = row.map_err(|e| ServerError::Invalid(format!("line {line}: {e}")))?;
        let pos = LatLon::new(r.lat, r.lon)
            .map_err(|e| ServerError::Invalid(format!("line {line}: {e}")))?;
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
    check_route(&out).map_err(|e| ServerError::Invalid(e.to_string()))?;
    Ok(out)
}

/// Reads a checkpoint file by its extension: .csv, else GeoJSON.
pub fn checkpoints_from_file(name: &str, text: &str) -> Result<Vec<Checkpoint>, ServerError> {
    if name.to_lowercase().ends_with(".csv") {
        checkpoints_from_csv(text)
    } else {
        checkpoints_from_geojson(text).map_err(|e| ServerError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(checkpoints_from_csv("name,lat,lon\nX,95,105\n")
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        assert!(checkpoints_from_csv("name,lat,lon\nX,abc,105\n").is_err());
    }
}
