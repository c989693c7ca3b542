//! The server's purge: ended sessions, old idempotency keys and usage batch ids, revoked API
//! keys past their retention, and revocation-feed entries nobody needs. Replicas sharing a
//! database run it one at a time and once per interval between them: a replica claims the
//! run in the same write transaction that purges (`job_runs`), so a failed purge leaves the
//! claim to the next replica that looks.

use super::error::ControlResult;
use super::store::Store;

/// The job's name in `job_runs`.
pub const JOB: &str = "purge";

/// How often the purge runs, between every replica of a database.
pub const EVERY_SECS: i64 = 600;

/// How long each kind of row is kept (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Idempotency keys, from their request.
    pub idempotency_keys: i64,
    /// Usage batch ids, from their recording.
    pub usage_batches: i64,
    /// Revoked API keys (and feed entries of expired JWTs), from their revocation.
    pub revoked: i64,
}

/// What one run removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: usize,
    pub idempotency_keys: usize,
    pub usage_batches: usize,
    pub api_keys: usize,
    pub revocations: usize,
}

/// Whether a job last run at `last` is due again at `now`. A run stamped more than an
/// interval ahead of `now` (a replica whose clock was far ahead) does not hold the job off
/// for longer than that.
pub fn due(last: Option<i64>, now: i64, every: i64) -> bool {
    last.is_none_or(|at| now >= at.saturating_add(every) || at > now.saturating_add(every))
}

/// Runs the purge as `replica` unless some replica ran it less than `every` seconds before
/// `now`; `None` when it was not due. One write transaction claims the run and purges, so
/// two replicas never purge at once and a failed purge claims nothing.
pub fn run_if_due<S: Store>(
    store: &S,
    replica: &str,
    retention: Retention,
    every: i64,
    now: i64,
) -> ControlResult<Option<Purged>> {
    // A read first: the replicas that are not due (all but one) take no write lock.
    let last = store.read(|tx| tx.job_run(JOB))?;
    if !due(last.map(|(_, at)| at), now, every) {
        return Ok(None);
    }
    store.write(|tx| {
        // Again under the write lock: another replica may have run it since the read.
        if !due(tx.job_run(JOB)?.map(|(_, at)| at), now, every) {
            return Ok(None);
        }
        tx.record_job_run(JOB, replica, now)?;
        Ok(Some(Purged {
            sessions: tx.purge_sessions(now)?,
            idempotency_keys: tx
                .purge_idempotency_keys(now.saturating_sub(retention.idempotency_keys))?,
            usage_batches: tx.purge_usage_batches(now.saturating_sub(retention.usage_batches))?,
            api_keys: tx.purge_api_keys(now.saturating_sub(retention.revoked))?,
            revocations: tx.purge_revocations(now.saturating_sub(retention.revoked), now)?,
        }))
    })
}
