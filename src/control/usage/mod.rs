//! Usage and billing (issue 7), first step: the pure arithmetic the rest will stand on —
//! turning scraped Prometheus counters into per-day deltas, and pricing usage exactly.
//! Nothing here is reachable from the CLI or the API yet.

pub mod billing;
pub mod delta;
