//! Usage and billing (issue 7): metering the control plane's own work, recording data-plane
//! usage sent in batches, reports by day and month, the rate card and a month's bill.

pub mod billing;
pub mod delta;
pub mod meter;
mod service;

pub use service::check_batch;
pub(crate) use service::keep_token_days;

pub use meter::Meter;
pub use service::{
    BATCH_RETENTION_SECS, MAX_BATCH_RECORDS, MAX_FUTURE_SKEW_SECS, MAX_RECORD_VALUE, format_day,
    parse_day,
};
