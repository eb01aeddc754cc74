//! Errors as the user sees them: a translation key and the values to fill in.

use crate::domain::geofence::{format_distance, GeoError};
use crate::domain::records::RecordError;
use crate::domain::text::TextError;
use crate::domain::tip::{TipError, TipStep};
use crate::domain::ward::WardError;
use crate::i18n::Arg;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};

/// A user-facing error: `key` names a message in the translation files, `args` fill its `{names}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Translation key, "err.outside".
    pub key: String,
    /// Values for the message's `{name}` fields.
    pub args: Vec<(String, Arg)>,
    /// What a person need not read: the transport's or the server's own words, kept for the log
    /// and for a leader who opens "details"; never part of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ApiError {
    /// The key of a failure of the storage under the database, which reopening it may cure.
    pub const STORAGE: &'static str = "err.storage";

    /// Whether this is a storage failure (see [`ApiError::STORAGE`]).
    pub fn is_storage_failure(&self) -> bool {
        self.key == Self::STORAGE
    }

    /// An error with a key and no values.
    pub fn new(key: &str) -> Self {
        Self {
            key: key.into(),
            args: Vec::new(),
            detail: None,
        }
    }

    /// Keeps `detail` beside the message, for the log and the "details" toggle.
    pub fn detail(mut self, detail: impl ToString) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// Adds a value for the field `{name}`, shown as it is.
    pub fn arg(mut self, name: &str, value: impl ToString) -> Self {
        self.args.push((name.into(), Arg::Text(value.to_string())));
        self
    }

    /// Adds a translation key for the field `{name}`, shown in the UI language.
    pub fn arg_key(mut self, name: &str, key: impl ToString) -> Self {
        self.args.push((name.into(), Arg::Key(key.to_string())));
        self
    }
}

impl From<GeoError> for ApiError {
    fn from(e: GeoError) -> Self {
        match e {
            GeoError::Latitude(v) => ApiError::new("err.latitude").arg("value", v),
            GeoError::Longitude(v) => ApiError::new("err.longitude").arg("value", v),
            GeoError::Accuracy(v) => ApiError::new("err.accuracy").arg("value", v),
            GeoError::Radius(v) => ApiError::new("err.radius").arg("value", v),
        }
    }
}

impl From<TextError> for ApiError {
    fn from(e: TextError) -> Self {
        match e {
            TextError::Required { field } => ApiError::new("err.required").arg_key("field", field),
            TextError::TooLong { field, len, max } => ApiError::new("err.too_long")
                .arg_key("field", field)
                .arg("len", len)
                .arg("max", max),
        }
    }
}

impl From<TipError> for ApiError {
    fn from(e: TipError) -> Self {
        match e {
            TipError::Note(t) => t.into(),
            TipError::UnknownAfter { .. } | TipError::Taken { .. } => {
                ApiError::new("err.tip_stale")
            }
            TipError::Withdrawal => ApiError::new("err.tip_withdrawal"),
            TipError::OutOfOrder { prev, next } => ApiError::new("err.tip_order")
                .arg_key("step", next.key())
                .arg_key(
                    "prev",
                    prev.map_or_else(|| "tip.step.none".to_string(), TipStep::key),
                ),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Geo(g) => g.into(),
            RecordError::Text(t) => t.into(),
            RecordError::Outside {
                distance_m,
                radius_m,
            } => ApiError::new("err.outside")
                .arg("distance", format_distance(distance_m))
                .arg("radius", format_distance(radius_m)),
            RecordError::TooInaccurate { accuracy_m, max } => ApiError::new("err.inaccurate")
                .arg("accuracy", format_distance(accuracy_m))
                .arg("max", format_distance(max)),
            RecordError::WrongQr => ApiError::new("err.wrong_qr"),
            RecordError::NoCategory => ApiError::new("err.no_category"),
            RecordError::NoMembers => ApiError::new("err.no_members"),
        }
    }
}

impl From<WardError> for ApiError {
    fn from(e: WardError) -> Self {
        match e {
            WardError::Geo { index, source } => {
                let (key, value) = match source {
                    GeoError::Latitude(v) => ("err.route_latitude", v),
                    GeoError::Longitude(v) => ("err.route_longitude", v),
                    GeoError::Radius(v) => ("err.route_radius", v),
                    GeoError::Accuracy(_) => return ApiError::from(source).arg("index", index),
                };
                ApiError::new(key).arg("index", index).arg("value", value)
            }
            WardError::Text { index, source } => match source {
                TextError::Required { .. } => {
                    ApiError::new("err.route_name_missing").arg("index", index)
                }
                TextError::TooLong { len, max, .. } => ApiError::new("err.route_name_long")
                    .arg("index", index)
                    .arg("len", len)
                    .arg("max", max),
            },
            WardError::Format(detail) => ApiError::new("err.file_format").detail(detail),
            WardError::NotGeoJson => ApiError::new("err.route_not_geojson"),
            WardError::NotPoint { index } => {
                ApiError::new("err.route_not_point").arg("index", index)
            }
            WardError::CsvColumn(column) => {
                ApiError::new("err.route_csv_column").arg("column", column)
            }
            WardError::CsvRow {
                line,
                column: Some(column),
            } => ApiError::new("err.route_csv_cell")
                .arg("line", line)
                .arg("column", column),
            WardError::CsvRow { line, column: None } => {
                ApiError::new("err.route_csv_row").arg("line", line)
            }
            WardError::Count(n) => ApiError::new("err.checkpoint_count").arg("count", n),
            WardError::EmptyTeam => ApiError::new("err.empty_team"),
            WardError::DuplicateId(id) => ApiError::new("err.duplicate_id").arg("id", id),
            WardError::PhotoKeepDays(days) => ApiError::new("err.photo_keep_days")
                .arg("days", days)
                .arg("max", crate::domain::ward::MAX_PHOTO_KEEP_DAYS),
        }
    }
}

impl From<crate::domain::photo::PhotoError> for ApiError {
    fn from(e: crate::domain::photo::PhotoError) -> Self {
        use crate::domain::photo::PhotoError as P;
        let err = ApiError::new(&format!("err.photo.{}", e.code()));
        match e {
            P::TooManyPixels { width, height } => err.arg("width", width).arg("height", height),
            P::TooLarge { bytes, max } => err
                .arg("size", format!("{} KB", bytes / 1024))
                .arg("max", format!("{} KB", max / 1024)),
            P::TooMany { max } => err.arg("max", max),
            P::NotImage | P::Twice | P::BadHash => err,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Sqlite(e) if crate::store::storage_failed(&e) => {
                ApiError::new(ApiError::STORAGE).detail(e)
            }
            StoreError::Sqlite(e) => ApiError::new("err.database").detail(e),
            StoreError::Corrupt => ApiError::new("err.corrupt"),
            StoreError::CorruptRow(row) => ApiError::new("err.corrupt_row")
                .arg("what", row.what)
                .arg("id", row.id)
                .detail(row.detail),
            StoreError::TooNew { found, supported } => ApiError::new("err.too_new")
                .arg("found", found)
                .arg("supported", supported),
            StoreError::Record(r) => r.into(),
            StoreError::Ward(w) => w.into(),
            StoreError::NoWard => ApiError::new("err.no_ward"),
            StoreError::NoActiveShift => ApiError::new("err.no_shift"),
            StoreError::ShiftRunning => ApiError::new("err.shift_running"),
            StoreError::Enrolled => ApiError::new("err.enrolled"),
            StoreError::NotReviewer => ApiError::new("err.not_reviewer"),
            StoreError::Tip(t) => t.into(),
            StoreError::Photo(p) => p.into(),
            StoreError::Unknown { what, id } => ApiError::new("err.unknown")
                .arg_key("what", format!("what.{what}"))
                .arg("id", id),
        }
    }
}
