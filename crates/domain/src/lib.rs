//! Pure domain rules: no I/O, no platform code, plain functions over plain data.

#[macro_use]
mod coded;

pub mod allowance;
pub mod geofence;
pub mod lang;
pub mod map;
pub mod observation;
pub mod period;
pub mod photo;
pub mod photo_meta;
pub mod records;
pub mod report;
pub mod report_nights;
pub mod review;
pub mod roster;
pub mod route_file;
pub mod shift;
pub mod text;
pub mod tip;
pub mod ward;
