//! The fleet-wide purge (issue 8), over the test store with the clock as a parameter: one
//! replica at a time and once per interval between replicas sharing a database, what it
//! removes, a clock far ahead, and replicas racing for the same run. Nothing here sleeps.

use std::sync::{Arc, Barrier};

use super::purge::{self, EVERY_SECS, JOB, Purged, Retention};
use super::store::{StoredBatch, Tx};
use super::test_store;
use super::*;

const NOW: i64 = 1_800_000_000;
const RETENTION: Retention = Retention {
    idempotency_keys: 100,
    usage_batches: 200,
    revoked: 300,
};

/// An org with a usage batch and an idempotency key recorded at `at`.
fn seed(tx: &mut dyn Tx, at: i64) -> ControlResult<()> {
    if tx.org_id("acme")?.is_none() {
        tx.insert_org("org-acme", "acme", at)?;
    }
    let batch = StoredBatch {
        digest: vec![1; 32],
        result: "{}".into(),
        actor: "user:alice".into(),
    };
    tx.insert_usage_batch("org-acme", &format!("b{at}"), &batch, at)?;
    assert!(tx.claim_idempotency_key("user:alice", &format!("k{at}"), &[2; 32], at)?);
    Ok(())
}

#[test]
fn due_allows_a_run_once_per_interval_and_ignores_a_stamp_far_ahead() {
    assert!(purge::due(None, NOW, EVERY_SECS));
    assert!(!purge::due(Some(NOW), NOW, EVERY_SECS));
    assert!(!purge::due(Some(NOW), NOW + EVERY_SECS - 1, EVERY_SECS));
    assert!(purge::due(Some(NOW), NOW + EVERY_SECS, EVERY_SECS));
    // A replica whose clock is a little behind the one that ran it waits.
    assert!(!purge::due(Some(NOW + 30), NOW, EVERY_SECS));
    assert!(!purge::due(Some(NOW + EVERY_SECS), NOW, EVERY_SECS));
    // A stamp more than an interval ahead (a clock gone wrong) does not hold it off.
    assert!(purge::due(Some(NOW + EVERY_SECS + 1), NOW, EVERY_SECS));
    // No overflow at the ends of time.
    assert!(purge::due(Some(i64::MAX), i64::MIN, EVERY_SECS));
    assert!(purge::due(Some(i64::MIN), i64::MAX, EVERY_SECS));
}

#[test]
fn two_replicas_purge_once_per_interval_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = test_store::open(dir.path());
    let b = a.another();
    a.write(|tx| seed(tx, NOW)).unwrap();

    // A runs first: nothing is old enough yet, but the run is claimed.
    let ran = purge::run_if_due(&a, "a:1", RETENTION, EVERY_SECS, NOW).unwrap();
    assert_eq!(ran, Some(Purged::default()));
    assert_eq!(
        b.read(|tx| tx.job_run(JOB)).unwrap(),
        Some(("a:1".to_string(), NOW))
    );
    // B, and A again, within the interval: not due, and nothing changes.
    for at in [NOW + 1, NOW + EVERY_SECS - 1] {
        assert_eq!(
            purge::run_if_due(&b, "b:2", RETENTION, EVERY_SECS, at).unwrap(),
            None
        );
    }
    assert_eq!(
        purge::run_if_due(&a, "a:1", RETENTION, EVERY_SECS, NOW + 5).unwrap(),
        None
    );
    assert_eq!(
        a.read(|tx| tx.job_run(JOB)).unwrap(),
        Some(("a:1".to_string(), NOW))
    );

    // An interval later B runs it, and removes what aged past each retention.
    let later = NOW + EVERY_SECS;
    b.write(|tx| seed(tx, later)).unwrap();
    let ran = purge::run_if_due(&b, "b:2", RETENTION, EVERY_SECS, later).unwrap();
    assert_eq!(
        ran,
        Some(Purged {
            idempotency_keys: 1,
            usage_batches: 1,
            ..Purged::default()
        })
    );
    assert_eq!(
        a.read(|tx| tx.job_run(JOB)).unwrap(),
        Some(("b:2".to_string(), later))
    );
    // What was recorded at `later` is kept; what was recorded at NOW is gone.
    a.read(|tx| {
        assert!(tx.usage_batch("org-acme", &format!("b{later}"))?.is_some());
        assert!(tx.usage_batch("org-acme", &format!("b{NOW}"))?.is_none());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        purge::run_if_due(&a, "a:1", RETENTION, EVERY_SECS, later + 1).unwrap(),
        None
    );
}

#[test]
fn replicas_racing_for_one_run_purge_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = test_store::open(dir.path());
    first.write(|tx| seed(tx, NOW)).unwrap();
    let stores: Vec<Arc<any::AnyStore>> = (0..4).map(|_| Arc::new(first.another())).collect();
    let at = NOW + RETENTION.usage_batches;
    let start = Arc::new(Barrier::new(stores.len() * 2));
    let runs: Vec<_> = stores
        .iter()
        .enumerate()
        .flat_map(|(i, store)| (0..2).map(move |j| (format!("r{i}:{j}"), Arc::clone(store))))
        .map(|(name, store)| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let ran = purge::run_if_due(&*store, &name, RETENTION, EVERY_SECS, at).unwrap();
                (name, ran)
            })
        })
        .collect();
    let ran: Vec<(String, Purged)> = runs
        .into_iter()
        .filter_map(|h| {
            let (name, ran) = h.join().unwrap();
            ran.map(|p| (name, p))
        })
        .collect();
    assert_eq!(ran.len(), 1, "exactly one replica runs it: {ran:?}");
    let (winner, purged) = &ran[0];
    assert_eq!(purged.usage_batches, 1, "and it purged: {purged:?}");
    assert_eq!(
        first.read(|tx| tx.job_run(JOB)).unwrap(),
        Some((winner.clone(), at))
    );
}

#[test]
fn a_failed_purge_claims_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store::open(dir.path());
    store.write(|tx| seed(tx, NOW)).unwrap();
    // The purge's delete of usage batch ids fails (after the claim was written).
    store.execute_sql(
        "CREATE TRIGGER no_purge BEFORE DELETE ON usage_batches \
         BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;",
        "CREATE FUNCTION no_purge() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$; \
         CREATE TRIGGER no_purge BEFORE DELETE ON usage_batches \
         FOR EACH STATEMENT EXECUTE FUNCTION no_purge();",
    );
    let at = NOW + RETENTION.usage_batches;
    assert!(purge::run_if_due(&store, "a:1", RETENTION, EVERY_SECS, at).is_err());
    // Nothing was claimed and nothing purged: the next replica to look finds it due.
    assert_eq!(store.read(|tx| tx.job_run(JOB)).unwrap(), None);
    store
        .read(|tx| {
            assert!(tx.usage_batch("org-acme", &format!("b{NOW}"))?.is_some());
            Ok(())
        })
        .unwrap();
    store.execute_sql(
        "DROP TRIGGER no_purge;",
        "DROP TRIGGER no_purge ON usage_batches; DROP FUNCTION no_purge();",
    );
    let ran = purge::run_if_due(&store, "b:2", RETENTION, EVERY_SECS, at + 1).unwrap();
    assert_eq!(ran.map(|p| p.usage_batches), Some(1));
    assert_eq!(
        store.read(|tx| tx.job_run(JOB)).unwrap(),
        Some(("b:2".to_string(), at + 1))
    );
}
