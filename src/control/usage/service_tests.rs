//! The usage service over the test store (`test_store`): recording batches (validation,
//! atomicity, idempotency, aggregation, saturation), reports, the rate card, a month's bill,
//! the meter, and who may do what. The clock is a parameter: nothing here sleeps or reads the
//! time.

use std::fmt::Debug;

use serde_json::json;

use super::*;
use crate::control::auth::{self, Principal};
use crate::control::policy::{Grants, Policy};
use crate::control::test_store::{self, TestStore};
use crate::control::{
    AuditRecord, InstanceSpec, LOCAL_INSTANCE, LOCAL_ORG, MasterKey, PrincipalKind, Sealer,
    TokenSpec,
};
use crate::duration::Expiry;
use crate::jwt::Algorithm;

/// 2027-01-15T08:00:00Z.
const NOW: i64 = 1_800_000_000;
/// When bills are asked for: after every month the tests bill (token-days are counted up to
/// the day of the bill).
const LATER: i64 = 2_000_000_000;
const MAX_I64: u64 = i64::MAX as u64;

type Cp = ControlPlane<Arc<TestStore>>;

/// The owner's plane over a fresh test store (returned with its scratch directory), with an
/// HS256 instance and the tenants `acme` and `beta`.
fn owner() -> (tempfile::TempDir, Cp) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(test_store::open(dir.path()));
    let sealer = Sealer::from_encoded(&Sealer::generate_master_key().unwrap()).unwrap();
    let cp = ControlPlane::new(store, MasterKey::ready(sealer), LOCAL_ORG, "local:test");
    cp.bootstrap(None, NOW).unwrap();
    cp.create_instance(
        &InstanceSpec {
            name: LOCAL_INSTANCE.into(),
            algorithm: Some(Algorithm::HS256),
            ..InstanceSpec::default()
        },
        NOW,
    )
    .unwrap();
    cp.create_tenant("acme", None, None, NOW).unwrap();
    cp.create_tenant("beta", None, None, NOW).unwrap();
    (dir, cp)
}

/// The owner's plane acting for the user `name`, whose grants are `policies`
/// (`(actions, resources)` each).
fn acting(cp: &Cp, name: &str, policies: &[(&[Action], &[&str])]) -> Cp {
    let policies = policies
        .iter()
        .map(|(actions, resources)| Policy {
            actions: actions.to_vec(),
            resources: resources
                .iter()
                .map(|r| r.parse().unwrap_or_else(|e| panic!("{e}")))
                .collect(),
        })
        .collect();
    let principal = Principal {
        kind: PrincipalKind::User,
        id: format!("id_{name}"),
        name: name.into(),
        org: LOCAL_ORG.into(),
        session_id: None,
        expires_at: None,
        max_expires_at: None,
        grants: Arc::new(Grants::new(vec![format!("role-{name}")], policies)),
    };
    cp.acting(LOCAL_ORG, &principal, None)
}

const ORG: &str = "drn:tok:local";
const ACME: &str = "drn:tok:local:tenant:acme";
const BETA: &str = "drn:tok:local:tenant:beta";

/// Unix seconds of an RFC 3339 time.
fn ts(s: &str) -> i64 {
    crate::duration::parse_instant(s).unwrap()
}

fn rec(tenant: &str, metric: &str, value: u64, at: &str) -> Value {
    json!({"tenant": tenant, "metric": metric, "value": value, "at": at})
}

fn rec_ns(tenant: &str, ns: &str, metric: &str, value: u64, at: &str) -> Value {
    json!({"tenant": tenant, "namespace": ns, "metric": metric, "value": value, "at": at})
}

fn batch(id: &str, records: Vec<Value>) -> model::UsageBatch {
    model::UsageBatch {
        batch_id: id.into(),
        atomic: false,
        records,
    }
}

fn record(cp: &Cp, id: &str, records: Vec<Value>, now: i64) -> model::UsageBatchResult {
    cp.record_usage(&batch(id, records), now)
        .unwrap_or_else(|e| panic!("batch {id}: {e}"))
}

fn query(from: &str, to: &str) -> model::UsageQuery {
    model::UsageQuery {
        from: from.into(),
        to: to.into(),
        ..model::UsageQuery::default()
    }
}

/// `tenant period metric value`, `-` for the org's own.
fn lines(points: Vec<model::UsagePoint>) -> Vec<String> {
    points
        .into_iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p.tenant.as_deref().unwrap_or("-"),
                p.period,
                p.metric,
                p.value
            )
        })
        .collect()
}

/// The daily report from `from` to `to`, as [`lines`].
fn show(cp: &Cp, from: &str, to: &str) -> Vec<String> {
    lines(cp.usage_report(&query(from, to)).unwrap())
}

fn invalid<T: Debug>(r: ControlResult<T>) -> String {
    match r {
        Err(ControlError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn forbidden<T: Debug>(r: ControlResult<T>) -> String {
    match r {
        Err(ControlError::Forbidden { message, .. }) => message,
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

fn not_found<T: Debug>(r: ControlResult<T>) -> (&'static str, String) {
    match r {
        Err(ControlError::NotFound { what, name, .. }) => (what, name),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

fn audits(cp: &Cp, action: &str) -> Vec<AuditRecord> {
    cp.audit(0)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == action)
        .collect()
}

fn update(currency: Option<&str>, prices: &[(&str, Option<&str>)]) -> model::RateCardUpdate {
    model::RateCardUpdate {
        currency: currency.map(str::to_string),
        prices: prices
            .iter()
            .map(|(m, p)| (m.to_string(), p.map(str::to_string)))
            .collect(),
    }
}

/// The priced metrics of a card, `metric=price`.
fn priced(card: &model::RateCard) -> Vec<String> {
    card.rates
        .iter()
        .filter_map(|r| r.price.as_ref().map(|p| format!("{}={p}", r.metric)))
        .collect()
}

/// A bill as lines `tenant metric quantity unit @price = amount` and `tenant total T`,
/// then `total T`.
fn bill_lines(b: &model::Bill) -> Vec<String> {
    let mut out = Vec::new();
    for t in &b.tenants {
        let name = t.tenant.as_deref().unwrap_or("-");
        for l in &t.lines {
            out.push(format!(
                "{name} {} {} {} @{} = {}",
                l.metric, l.quantity, l.unit, l.unit_price, l.amount
            ));
        }
        out.push(format!("{name} total {}", t.total));
    }
    out.push(format!("total {}", b.total));
    out
}

fn spec(tenant: &str, name: &str, expiry: Expiry) -> TokenSpec {
    TokenSpec {
        tenant: tenant.into(),
        name: Some(name.into()),
        subject: None,
        description: None,
        expiry,
        roles: Vec::new(),
    }
}

/// Fails every write after running it (so it is rolled back): a database that breaks at
/// commit time.
struct FailingStore(Arc<TestStore>);

impl Store for FailingStore {
    fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.0.write(|tx| {
            f(tx)?;
            Err(ControlError::store("disk I/O error (injected)"))
        })
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> ControlResult<T>) -> ControlResult<T> {
        self.0.read(f)
    }
}

// ---------------------------------------------------------------------------------------
// check_record, through record_usage
// ---------------------------------------------------------------------------------------

#[test]
fn every_bad_record_is_listed_by_index_with_its_reason_and_the_good_ones_recorded() {
    let (_dir, cp) = owner();
    let long_ns = "n".repeat(255);
    let too_long_ns = "n".repeat(256);
    // (record, None when good or Some(what the reason must say)).
    let cases: Vec<(Value, Option<&str>)> = vec![
        (rec("acme", "bytes_in", 1, "2027-01-15T07:00:00Z"), None),
        (
            json!(5),
            Some("expected an object {tenant, namespace?, metric, value, at}, got a number"),
        ),
        (json!("acme"), Some("got a string")),
        (json!(null), Some("got null")),
        (json!([1]), Some("got an array")),
        (json!(true), Some("got a boolean")),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": NOW, "unit": "B"}),
            Some(
                "unknown field \"unit\": a record has tenant, namespace (optional), metric, value, at and source (optional)",
            ),
        ),
        // "tenant/ns" is the namespace's own name when the tenant matches; at in Unix seconds.
        (
            json!({"tenant": "acme", "namespace": "acme/ns-1", "metric": "bytes_in", "value": 2, "at": NOW}),
            None,
        ),
        (
            json!({"metric": "bytes_in", "value": 1, "at": NOW}),
            Some("tenant is missing"),
        ),
        (
            json!({"tenant": null, "metric": "bytes_in", "value": 1, "at": NOW}),
            Some("tenant is missing"),
        ),
        (
            json!({"tenant": 7, "metric": "bytes_in", "value": 1, "at": NOW}),
            Some("tenant must be a string, got a number"),
        ),
        (
            json!({"tenant": "acme", "value": 1, "at": NOW}),
            Some("metric is missing"),
        ),
        (
            json!({"tenant": "acme", "metric": ["bytes_in"], "value": 1, "at": NOW}),
            Some("metric must be a string, got an array"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "at": NOW}),
            Some("value is missing"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": null, "at": NOW}),
            Some("value is missing"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": "1", "at": NOW}),
            Some("value must be a number, got a string"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": true, "at": NOW}),
            Some("value must be a number, got a boolean"),
        ),
        // Exactly now + 300 s is accepted; every namespace character allowed.
        (
            json!({"tenant": "acme", "namespace": "ns_2.x=y:z%-", "metric": "bytes_in", "value": 4, "at": NOW + 300}),
            None,
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1}),
            Some("at is missing"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": {}}),
            Some("at must be an RFC 3339 time or Unix seconds, got an object"),
        ),
        (
            rec("acme", "bytes_in", 1, "2027-01-15"),
            Some("is not an RFC 3339 time"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": 1_800_000_000.5}),
            Some("at 1800000000.5 is not Unix seconds"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": -1, "at": NOW}),
            Some("negative value -1: usage is 0 or more"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": -0.5, "at": NOW}),
            Some("negative value -0.5"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1.5, "at": NOW}),
            Some("value 1.5 is not a whole number"),
        ),
        // A whole number written with a point is a whole number; an offset is honoured.
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 8.0, "at": "2027-01-15T10:00:00+02:00"}),
            None,
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": MAX_RECORD_VALUE + 1, "at": NOW}),
            Some("value 9007199254740992 is too large: at most 9007199254740991 per record"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": u64::MAX, "at": NOW}),
            Some("value 18446744073709551615 is too large: at most 9007199254740991"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 9_007_199_254_740_992.0, "at": NOW}),
            Some("is too large: at most 9007199254740991"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1e20, "at": NOW}),
            Some("is too large"),
        ),
        (
            json!({"tenant": "acme", "namespace": null, "metric": "bytes_in", "value": 16, "at": NOW - 1}),
            None,
        ),
        (
            rec("acme", "bytes", 1, "2027-01-15T07:00:00Z"),
            Some(
                "unknown metric \"bytes\": expected one of messages_in, messages_out, bytes_in, \
                 bytes_out, storage_bytes",
            ),
        ),
        (
            rec("acme", "api_calls", 1, "2027-01-15T07:00:00Z"),
            Some("api_calls is metered by the control plane itself; records carry messages_in"),
        ),
        (
            rec("acme", "tokens_issued", 1, "2027-01-15T07:00:00Z"),
            Some("tokens_issued is metered by the control plane itself"),
        ),
        (
            rec("acme", "active_token_days", 1, "2027-01-15T07:00:00Z"),
            Some("records carry messages_in, messages_out, bytes_in, bytes_out, storage_bytes"),
        ),
        (
            rec_ns("acme", "beta/ns", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("namespace \"beta/ns\" is not in tenant \"acme\""),
        ),
        (
            rec_ns("acme", "a b", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("invalid namespace \"a b\": 1-255 of A-Z, a-z, 0-9, _ - = : . %"),
        ),
        (
            rec_ns("acme", "", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("invalid namespace \"\""),
        ),
        (
            rec_ns("acme", "acme/", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("invalid namespace \"acme/\""),
        ),
        (
            rec_ns("acme", "acme/x/y", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("invalid namespace \"acme/x/y\""),
        ),
        (
            rec_ns("acme", &too_long_ns, "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("invalid namespace"),
        ),
        (
            rec_ns("acme", &long_ns, "bytes_in", 32, "2027-01-15T07:00:00Z"),
            None,
        ),
        (
            json!({"tenant": "acme", "namespace": 3, "metric": "bytes_in", "value": 1, "at": NOW}),
            Some("namespace must be a string, got a number"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": NOW + 301}),
            Some("at 2027-01-15T08:05:01Z is in the future (more than 300 s ahead)"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": NOW * 1000}),
            Some("Unix times are seconds, not milliseconds"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": 946_684_799}),
            Some("at 946684799 is before 2000-01-01"),
        ),
        (
            rec("acme", "bytes_in", 1, "1999-12-31T23:59:59Z"),
            Some("before 2000-01-01"),
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_in", "value": 1, "at": -5}),
            Some("before 2000-01-01"),
        ),
        // The first second of 2000 is accepted.
        (
            json!({"tenant": "acme", "metric": "storage_bytes", "value": 5, "at": 946_684_800}),
            None,
        ),
        (
            json!({"tenant": "acme", "metric": "bytes_out", "value": MAX_RECORD_VALUE, "at": NOW}),
            None,
        ),
        (
            rec("ghost", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("tenant \"ghost\" does not exist (`tok tenant list` shows them)"),
        ),
        (
            rec("", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("tenant \"\" does not exist"),
        ),
        (
            rec("ACME", "bytes_in", 1, "2027-01-15T07:00:00Z"),
            Some("tenant \"ACME\" does not exist"),
        ),
        (rec("beta", "messages_in", 7, "2027-01-15T00:00:00Z"), None),
    ];
    let records: Vec<Value> = cases.iter().map(|(v, _)| v.clone()).collect();
    let r = record(&cp, "checks", records, NOW);
    assert_eq!(r.batch_id, "checks");
    assert!(!r.replayed);
    let good = cases.iter().filter(|(_, why)| why.is_none()).count();
    assert_eq!(good, 9);
    assert_eq!(r.accepted, 9);
    let want: Vec<usize> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, (_, why))| why.map(|_| i))
        .collect();
    let got: Vec<usize> = r.rejected.iter().map(|x| x.index).collect();
    assert_eq!(got, want, "{:#?}", r.rejected);
    for x in &r.rejected {
        let why = cases[x.index].1.unwrap();
        assert!(
            x.reason.contains(why),
            "record {}: {:?} lacks {why:?}",
            x.index,
            x.reason
        );
    }
    // 1 + 2 + 4 + 8 + 16 + 32: every good bytes_in record, once.
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "acme 2027-01-15 bytes_in 63",
            "acme 2027-01-15 bytes_out 9007199254740991",
            "beta 2027-01-15 messages_in 7",
        ]
    );
    assert_eq!(
        show(&cp, "2000-01-01", "2000-01-01"),
        ["acme 2000-01-01 storage_bytes 5"]
    );
}

#[test]
fn at_counts_on_its_utc_day() {
    let (_dir, cp) = owner();
    let r = record(
        &cp,
        "days",
        vec![
            rec("acme", "bytes_in", 1, "2027-01-14T23:59:59Z"),
            rec("acme", "bytes_in", 10, "2027-01-15T00:00:00Z"),
            // 2027-01-14T23:00:00Z.
            rec("acme", "bytes_in", 100, "2027-01-15T01:00:00+02:00"),
            // 2027-01-15T00:30:00Z, although the local date is the 14th.
            rec("acme", "bytes_in", 1000, "2027-01-14T23:30:00-01:00"),
            json!({"tenant": "acme", "metric": "bytes_in", "value": 10_000, "at": ts("2027-01-15T00:00:00Z") - 1}),
            json!({"tenant": "acme", "metric": "bytes_in", "value": 100_000, "at": ts("2027-01-16T00:00:00Z") - 1}),
        ],
        ts("2027-01-16T00:00:00Z"),
    );
    assert_eq!(r.accepted, 6);
    assert_eq!(
        show(&cp, "2027-01-13", "2027-01-16"),
        [
            "acme 2027-01-14 bytes_in 10101",
            "acme 2027-01-15 bytes_in 101010",
        ]
    );
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 101010"],
        "from and to are inclusive UTC days"
    );
}

// ---------------------------------------------------------------------------------------
// atomic batches and idempotency
// ---------------------------------------------------------------------------------------

#[test]
fn an_atomic_batch_with_one_bad_record_records_nothing_and_can_be_resent_fixed() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    let mut b = batch(
        "atomic-1",
        vec![
            rec("acme", "bytes_in", 5, at),
            rec("ghost", "bytes_in", 6, at),
            rec("beta", "bytes_out", 7, at),
        ],
    );
    b.atomic = true;
    let e = invalid(cp.record_usage(&b, NOW));
    assert_eq!(
        e,
        "1 record(s) rejected; the batch is atomic, so nothing was recorded:\n  record 1: \
         tenant \"ghost\" does not exist (`tok tenant list` shows them)"
    );
    assert!(show(&cp, "2027-01-15", "2027-01-15").is_empty());
    assert!(audits(&cp, "usage.record").is_empty());

    // The same id, fixed: not a replay and not a conflict (the refused batch left no id).
    b.records[1] = rec("acme", "bytes_in", 6, at);
    let r = cp.record_usage(&b, NOW).unwrap();
    assert_eq!((r.accepted, r.rejected.len(), r.replayed), (3, 0, false));
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 11", "beta 2027-01-15 bytes_out 7"]
    );
}

#[test]
fn an_atomic_refusal_lists_twenty_records_and_counts_the_rest() {
    let (_dir, cp) = owner();
    let mut records: Vec<Value> = (0..25)
        .map(|i| rec("ghost", "bytes_in", i, "2027-01-15T07:00:00Z"))
        .collect();
    records.insert(0, rec("acme", "bytes_in", 1, "2027-01-15T07:00:00Z"));
    let mut b = batch("many-bad", records);
    b.atomic = true;
    let e = invalid(cp.record_usage(&b, NOW));
    assert!(
        e.starts_with("25 record(s) rejected; the batch is atomic"),
        "{e}"
    );
    assert!(e.contains("\n  record 1: tenant \"ghost\""), "{e}");
    assert!(e.contains("\n  record 20: "), "{e}");
    assert!(!e.contains("record 21:"), "{e}");
    assert!(e.ends_with("\n  … and 5 more"), "{e}");
    assert!(show(&cp, "2027-01-15", "2027-01-15").is_empty());
}

#[test]
fn a_batch_sent_again_is_replayed_and_other_records_under_its_id_conflict() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    let records = vec![
        rec("acme", "bytes_in", 5, at),
        rec("ghost", "bytes_in", 1, at),
    ];
    let first = record(&cp, "b-1", records.clone(), NOW);
    assert_eq!(first.accepted, 1);
    assert_eq!(first.rejected.len(), 1);
    assert_eq!(first.rejected[0].index, 1);
    assert!(!first.replayed);

    // Replayed, also later, with the first answer.
    let again = record(&cp, "b-1", records.clone(), NOW + 86_400);
    assert_eq!(
        again,
        model::UsageBatchResult {
            replayed: true,
            ..first.clone()
        }
    );
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 5"]
    );
    assert_eq!(
        audits(&cp, "usage.record").len(),
        1,
        "a replay is not audited"
    );

    // Other records under the same id.
    let other = vec![
        rec("acme", "bytes_in", 6, at),
        rec("ghost", "bytes_in", 1, at),
    ];
    match cp.record_usage(&batch("b-1", other), NOW) {
        Err(ControlError::Conflict { message, hint }) => {
            assert_eq!(message, "batch b-1 was recorded before with other records");
            assert_eq!(hint.as_deref(), Some("give a new batch id to new records"));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let fewer = vec![rec("acme", "bytes_in", 5, at)];
    assert!(matches!(
        cp.record_usage(&batch("b-1", fewer), NOW),
        Err(ControlError::Conflict { .. })
    ));
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 5"]
    );

    // A new id records them.
    let r = record(&cp, "b-2", records, NOW);
    assert_eq!((r.accepted, r.replayed), (1, false));
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 10"]
    );
}

#[test]
fn batch_ids_are_checked() {
    let (_dir, cp) = owner();
    let one = || vec![rec("acme", "bytes_in", 1, "2027-01-15T07:00:00Z")];
    for id in [
        String::new(),
        "a b".into(),
        "a/b".into(),
        "ü".into(),
        "id\n".into(),
        "a,b".into(),
        "x".repeat(129),
    ] {
        let e = invalid(cp.record_usage(&batch(&id, one()), NOW));
        assert!(
            e.starts_with(&format!("invalid batch id {id:?}: 1-128 of A-Z")),
            "{id:?}: {e}"
        );
    }
    assert!(show(&cp, "2027-01-15", "2027-01-15").is_empty());
    for id in ["x".repeat(128), "A-z_0.9:1".to_string(), "0".into()] {
        let r = record(&cp, &id, one(), NOW);
        assert_eq!(r.batch_id, id);
        assert_eq!(r.accepted, 1);
    }
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 3"]
    );
}

#[test]
fn a_batch_holds_at_most_ten_thousand_records_and_may_be_empty() {
    let (_dir, cp) = owner();
    let r = rec("acme", "bytes_in", 1, "2027-01-15T07:00:00Z");
    let e = invalid(cp.record_usage(&batch("big", vec![r.clone(); MAX_BATCH_RECORDS + 1]), NOW));
    assert_eq!(
        e,
        "a batch holds at most 10000 records; this one has 10001: split it"
    );
    assert!(show(&cp, "2027-01-15", "2027-01-15").is_empty());
    let ok = record(&cp, "big", vec![r; MAX_BATCH_RECORDS], NOW);
    assert_eq!((ok.accepted, ok.rejected.len()), (10_000, 0));
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 10000"]
    );

    let empty = record(&cp, "empty", Vec::new(), NOW);
    assert_eq!(
        empty,
        model::UsageBatchResult {
            batch_id: "empty".into(),
            accepted: 0,
            rejected: Vec::new(),
            replayed: false,
        }
    );
    assert!(record(&cp, "empty", Vec::new(), NOW).replayed);
    let details: Vec<_> = audits(&cp, "usage.record")
        .into_iter()
        .map(|a| (a.target, a.detail))
        .collect();
    assert_eq!(
        details,
        [
            (
                "big".to_string(),
                Some("10000 recorded, 0 rejected".to_string())
            ),
            (
                "empty".to_string(),
                Some("0 recorded, 0 rejected".to_string())
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// aggregation and saturation
// ---------------------------------------------------------------------------------------

#[test]
fn counters_add_up_across_records_batches_and_namespaces() {
    let (_dir, cp) = owner();
    let t1 = "2027-01-15T01:00:00Z";
    let t2 = "2027-01-15T02:00:00Z";
    record(
        &cp,
        "a",
        vec![
            rec("acme", "bytes_in", 1, t1),
            rec("acme", "bytes_in", 2, t2),
            rec_ns("acme", "n1", "bytes_in", 4, t1),
            rec_ns("acme", "n2", "messages_in", 100, t1),
        ],
        NOW,
    );
    record(
        &cp,
        "b",
        vec![
            rec_ns("acme", "acme/n1", "bytes_in", 8, t2),
            rec("beta", "bytes_in", 16, t1),
            rec_ns("acme", "n3", "messages_in", 11, t2),
        ],
        NOW,
    );
    record(&cp, "c", vec![rec("acme", "bytes_in", 32, t1)], NOW);
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "acme 2027-01-15 bytes_in 47",
            "acme 2027-01-15 messages_in 111",
            "beta 2027-01-15 bytes_in 16",
        ]
    );
}

#[test]
fn a_gauge_keeps_the_latest_value_whatever_the_arrival_order_and_the_larger_on_a_tie() {
    let (_dir, cp) = owner();
    let t = ts("2027-01-15T03:00:00Z");
    let g = |tenant: &str, ns: &str, value: u64, at: i64| json!({"tenant": tenant, "namespace": ns, "metric": "storage_bytes", "value": value, "at": at});
    // (at, value): the latest is at t + 10, where 600 is the largest.
    let events = [(t + 10, 500), (t, 900), (t + 10, 400), (t + 10, 600)];
    for (i, &(at, value)) in events.iter().enumerate() {
        record(
            &cp,
            &format!("acme-{i}"),
            vec![g("acme", "n", value, at)],
            NOW,
        );
    }
    for (i, &(at, value)) in events.iter().rev().enumerate() {
        record(
            &cp,
            &format!("beta-{i}"),
            vec![g("beta", "n", value, at)],
            NOW,
        );
    }
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "acme 2027-01-15 storage_bytes 600",
            "beta 2027-01-15 storage_bytes 600",
        ]
    );
    // An earlier figure never replaces a later one; a later smaller one does.
    record(&cp, "late", vec![g("acme", "n", 1, t + 11)], NOW);
    record(&cp, "early", vec![g("acme", "n", 10_000, t + 9)], NOW);
    // "acme/n" is the same series as "n"; namespaces add up in reports.
    record(
        &cp,
        "ns",
        vec![g("acme", "acme/n", 50, t + 12), g("acme", "m", 7, t)],
        NOW,
    );
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "acme 2027-01-15 storage_bytes 57",
            "beta 2027-01-15 storage_bytes 600",
        ]
    );

    // Within one batch, too, in either order.
    let d = ts("2027-01-14T12:00:00Z");
    for (tenant, order) in [("acme", [0, 1, 2, 3]), ("beta", [3, 2, 1, 0])] {
        let all = [
            g(tenant, "x", 10, d),
            g(tenant, "x", 30, d + 5),
            g(tenant, "x", 20, d + 5),
            g(tenant, "x", 99, d - 5),
        ];
        let records = order.iter().map(|&i| all[i].clone()).collect();
        record(&cp, &format!("one-{tenant}"), records, NOW);
    }
    assert_eq!(
        show(&cp, "2027-01-14", "2027-01-14"),
        [
            "acme 2027-01-14 storage_bytes 30",
            "beta 2027-01-14 storage_bytes 30",
        ]
    );
}

#[test]
fn counters_saturate_at_the_largest_bigint_without_an_error() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    let max = |metric: &str, n: usize| vec![rec("acme", metric, MAX_RECORD_VALUE, at); n];
    // 1025 × (2^53 − 1) > 2^63 − 1: the batch's own sum is clamped.
    let r = record(&cp, "sat-1", max("bytes_in", 1025), NOW);
    assert_eq!(r.accepted, 1025);
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [format!("acme 2027-01-15 bytes_in {MAX_I64}")]
    );
    // More on top of a saturated day: the database clamps, without an error.
    for i in 0..3 {
        record(&cp, &format!("more-{i}"), max("bytes_in", 2), NOW);
    }
    // 2100 × (2^53 − 1) > 2^64 − 1: even the u64 sum saturates.
    record(&cp, "sat-2", max("bytes_out", 2100), NOW);
    record(&cp, "sat-3", max("bytes_out", 1), NOW);
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            format!("acme 2027-01-15 bytes_in {MAX_I64}"),
            format!("acme 2027-01-15 bytes_out {MAX_I64}"),
        ]
    );
    // Two saturated days make a month beyond i64, still no error.
    record(
        &cp,
        "sat-4",
        vec![rec("acme", "bytes_in", MAX_RECORD_VALUE, "2027-01-14T07:00:00Z"); 1100],
        NOW,
    );
    let mut q = query("2027-01-01", "2027-01-31");
    q.by = Some("month".into());
    q.metric = Some("bytes_in".into());
    assert_eq!(
        lines(cp.usage_report(&q).unwrap()),
        [format!("acme 2027-01 bytes_in {}", 2 * MAX_I64)]
    );
    // And the bill prices it exactly: 18446744073.709551614 GB × 0.09.
    cp.update_rate_card(&update(None, &[("bytes_in", Some("0.09"))]), NOW)
        .unwrap();
    let b = cp.usage_bill("2027-01", None, LATER).unwrap();
    assert_eq!(
        bill_lines(&b),
        [
            "acme bytes_in 18446744073.709551614 GB @0.09 = 1660206966.63",
            "acme total 1660206966.63",
            "total 1660206966.63",
        ]
    );
}

#[test]
fn saturated_namespaces_add_up_without_an_error() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    record(
        &cp,
        "a",
        vec![rec_ns("acme", "a", "bytes_in", MAX_RECORD_VALUE, at); 1025],
        NOW,
    );
    record(&cp, "b", vec![rec_ns("acme", "b", "bytes_in", 1, at)], NOW);
    assert_eq!(
        cp.usage_report(&query("2027-01-15", "2027-01-15"))
            .map(lines)
            .map_err(|e| e.to_string()),
        Ok(vec![format!("acme 2027-01-15 bytes_in {MAX_I64}")])
    );
    cp.update_rate_card(&update(None, &[("bytes_in", Some("1"))]), NOW)
        .unwrap();
    let b = cp
        .usage_bill("2027-01", None, LATER)
        .map_err(|e| e.to_string());
    assert_eq!(
        b.map(|b| b.total),
        Ok("9223372036.85".to_string()),
        "9223372036.854775807 GB × 1"
    );
}

// ---------------------------------------------------------------------------------------
// reports
// ---------------------------------------------------------------------------------------

#[test]
fn report_ranges_and_options_are_checked() {
    let (_dir, cp) = owner();
    let report = |from: &str, to: &str| cp.usage_report(&query(from, to));
    let cases = [
        (
            "2027-1-15",
            "2027-01-15",
            "--from: invalid date \"2027-1-15\": expected a date such as 2026-11-01",
        ),
        (
            "2027-02-30",
            "2027-03-01",
            "--from: invalid date \"2027-02-30\": February 2027 has no day 30",
        ),
        (
            "2027-13-01",
            "2027-12-31",
            "--from: invalid date \"2027-13-01\": month 13 is not 01-12",
        ),
        ("2027-01-01", "", "--to: invalid date \"\""),
        (
            "2027-01-01",
            "2027/01/15",
            "--to: invalid date \"2027/01/15\"",
        ),
        ("2027-01-01", "20270115", "--to: invalid date"),
        (
            "2027-01-16",
            "2027-01-15",
            "--from 2027-01-16 is after --to 2027-01-15",
        ),
    ];
    for (from, to, want) in cases {
        let e = invalid(report(from, to));
        assert!(e.contains(want), "{from}..{to}: {e}");
    }
    assert!(report("2027-01-15", "2027-01-15").unwrap().is_empty());
    // At most 3660 days, both ends counted.
    let first = parse_day("2020-01-01").unwrap();
    let last_ok = format_day(first + 3659);
    assert!(report("2020-01-01", &last_ok).is_ok());
    let too_far = format_day(first + 3660);
    assert_eq!(
        invalid(report("2020-01-01", &too_far)),
        format!("a report covers at most 3660 days; 2020-01-01 to {too_far} is 3661 days")
    );

    let with = |by: Option<&str>, metric: Option<&str>| {
        let mut q = query("2027-01-01", "2027-01-31");
        q.by = by.map(str::to_string);
        q.metric = metric.map(str::to_string);
        cp.usage_report(&q)
    };
    assert_eq!(
        invalid(with(Some("week"), None)),
        "invalid --by \"week\": expected day or month"
    );
    assert!(with(Some("day"), None).is_ok());
    assert!(with(Some("month"), None).is_ok());
    let e = invalid(with(None, Some("bytes")));
    assert!(
        e.starts_with("unknown metric \"bytes\": expected one of messages_in"),
        "{e}"
    );
    let e = invalid(with(None, Some("active_token_days")));
    assert!(
        e.starts_with(
            "active_token_days is derived for billing (`tok usage billing`), not reported by day"
        ),
        "{e}"
    );
    assert!(e.ends_with("introspections, api_calls"), "{e}");
    for m in Metric::STORED {
        assert!(with(None, Some(m.as_str())).is_ok(), "{m}");
    }
}

#[test]
fn reports_by_day_and_month_with_filters_and_org_rows() {
    let (_dir, cp) = owner();
    record(
        &cp,
        "r",
        vec![
            rec("acme", "bytes_in", 10, "2026-11-30T23:59:59Z"),
            rec("acme", "bytes_in", 20, "2026-12-01T00:00:00Z"),
            rec("acme", "bytes_in", 30, "2026-12-31T12:00:00Z"),
            rec("acme", "bytes_in", 40, "2027-01-01T00:00:00Z"),
            rec_ns("acme", "a", "storage_bytes", 7, "2026-11-10T00:00:00Z"),
            rec_ns("acme", "a", "storage_bytes", 100, "2026-12-05T00:00:00Z"),
            rec_ns("acme", "a", "storage_bytes", 300, "2026-12-20T00:00:00Z"),
            rec_ns("acme", "b", "storage_bytes", 5, "2026-12-20T00:00:00Z"),
            rec_ns("acme", "a", "storage_bytes", 200, "2026-12-28T00:00:00Z"),
            rec("beta", "bytes_in", 1, "2026-12-15T00:00:00Z"),
        ],
        NOW,
    );
    // The org's own usage (no tenant), as the meter writes it.
    cp.meter().add(
        LOCAL_ORG,
        "",
        Metric::ApiCalls,
        ts("2026-12-03T10:00:00Z"),
        2,
    );
    cp.flush_usage().unwrap();

    let mut q = query("2026-11-01", "2027-01-31");
    q.by = Some("month".into());
    assert_eq!(
        lines(cp.usage_report(&q).unwrap()),
        [
            "acme 2026-11 bytes_in 10",
            "acme 2026-11 storage_bytes 7",
            "- 2026-12 api_calls 2",
            "acme 2026-12 bytes_in 50",
            "acme 2026-12 storage_bytes 200",
            "beta 2026-12 bytes_in 1",
            "acme 2027-01 bytes_in 40",
        ]
    );
    let points = cp.usage_report(&q).unwrap();
    assert_eq!(points[2].tenant, None, "the org's own row has no tenant");
    assert_eq!(points[2].period, "2026-12");

    // A month report over part of a month covers only those days.
    let mut q = query("2026-12-21", "2026-12-31");
    q.by = Some("month".into());
    assert_eq!(
        lines(cp.usage_report(&q).unwrap()),
        ["acme 2026-12 bytes_in 30", "acme 2026-12 storage_bytes 200"]
    );

    // Daily, one metric: a day's storage is the sum of its namespaces.
    let mut q = query("2026-12-01", "2026-12-31");
    q.metric = Some("storage_bytes".into());
    assert_eq!(
        lines(cp.usage_report(&q).unwrap()),
        [
            "acme 2026-12-05 storage_bytes 100",
            "acme 2026-12-20 storage_bytes 305",
            "acme 2026-12-28 storage_bytes 200",
        ]
    );
    // One tenant.
    let mut q = query("2026-11-01", "2027-01-31");
    q.tenant = Some("beta".into());
    assert_eq!(
        lines(cp.usage_report(&q).unwrap()),
        ["beta 2026-12-15 bytes_in 1"]
    );
    // A tenant with no usage (or none at all) is an empty report for the owner.
    q.tenant = Some("ghost".into());
    assert!(cp.usage_report(&q).unwrap().is_empty());
    // By day, all of it.
    assert_eq!(
        show(&cp, "2026-12-01", "2026-12-05"),
        [
            "acme 2026-12-01 bytes_in 20",
            "- 2026-12-03 api_calls 2",
            "acme 2026-12-05 storage_bytes 100",
        ]
    );
}

#[test]
fn by_months_adds_counters_and_keeps_a_gauges_last_day() {
    let day = |s: &str| parse_day(s).unwrap();
    let row = |tenant: &str, metric: &str, d: &str, value: i64| DailyUsage {
        tenant: tenant.into(),
        metric: metric.into(),
        day: day(d),
        value,
        at: 0,
    };
    let rows = vec![
        row("", "api_calls", "2027-01-01", 3),
        row("acme", "bytes_in", "2027-01-01", i64::MAX),
        row("acme", "storage_bytes", "2027-01-01", 9),
        row("acme", "bytes_in", "2027-01-02", i64::MAX),
        row("acme", "bytes_in", "2027-01-03", i64::MAX),
        row("acme", "storage_bytes", "2027-01-31", 4),
        row("acme", "storage_bytes", "2027-02-01", 6),
        row("acme", "storage_bytes", "2027-02-02", 0),
    ];
    assert_eq!(
        lines(by_months(rows.into_iter())),
        [
            "- 2027-01 api_calls 3".to_string(),
            format!("acme 2027-01 bytes_in {}", u64::MAX),
            "acme 2027-01 storage_bytes 4".to_string(),
            "acme 2027-02 storage_bytes 0".to_string(),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// who may do what
// ---------------------------------------------------------------------------------------

#[test]
fn a_writer_on_one_tenant_records_only_there_and_others_look_absent() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    let w = acting(&cp, "w", &[(&[Action::UsageWrite], &[ACME])]);
    let r = record(
        &w,
        "w-1",
        vec![
            rec("acme", "bytes_in", 1, at),
            rec("beta", "bytes_in", 2, at),
            rec("ghost", "bytes_in", 4, at),
        ],
        NOW,
    );
    assert_eq!(r.accepted, 1);
    let reasons: Vec<_> = r
        .rejected
        .iter()
        .map(|x| (x.index, x.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                1,
                "tenant \"beta\" does not exist (`tok tenant list` shows them)"
            ),
            (
                2,
                "tenant \"ghost\" does not exist (`tok tenant list` shows them)"
            ),
        ]
    );
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 1"]
    );
    let a = audits(&cp, "usage.record");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].actor, "user:w");

    // One who can see beta (usage-read) but not write there is told so.
    let w2 = acting(
        &cp,
        "w2",
        &[
            (&[Action::UsageWrite], &[ACME]),
            (&[Action::UsageRead], &[BETA]),
        ],
    );
    let r = record(&w2, "w-2", vec![rec("beta", "bytes_in", 2, at)], NOW);
    assert_eq!(r.accepted, 0);
    assert_eq!(
        r.rejected[0].reason,
        "not allowed: user:w2 holds no role that grants usage-write on drn:tok:local:tenant:beta"
    );
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 1"]
    );
}

#[test]
fn without_usage_write_nothing_is_recorded() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    let reader = acting(
        &cp,
        "r",
        &[(
            &[Action::UsageRead, Action::BillingRead, Action::BillingWrite],
            &[ORG],
        )],
    );
    let e =
        forbidden(reader.record_usage(&batch("x-1", vec![rec("acme", "bytes_in", 1, at)]), NOW));
    assert_eq!(
        e,
        "not allowed: user:r holds no role that grants usage-write on drn:tok:local"
    );
    assert!(show(&cp, "2027-01-15", "2027-01-15").is_empty());
    assert!(audits(&cp, "usage.record").is_empty());
    // The refused batch left no id behind: other records under it are no conflict.
    let r = record(&cp, "x-1", vec![rec("acme", "bytes_in", 9, at)], NOW);
    assert_eq!((r.accepted, r.replayed), (1, false));
    // A principal with no grants at all.
    let nobody = acting(&cp, "n", &[]);
    forbidden(nobody.record_usage(&batch("x-2", Vec::new()), NOW));
}

#[test]
fn a_reader_of_one_tenant_sees_only_its_usage() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    record(
        &cp,
        "r",
        vec![
            rec("acme", "bytes_in", 1, at),
            rec("beta", "bytes_in", 2, at),
        ],
        NOW,
    );
    cp.meter()
        .count(LOCAL_ORG, "", Metric::Authentications, ts(at));
    cp.flush_usage().unwrap();
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "- 2027-01-15 authentications 1",
            "acme 2027-01-15 bytes_in 1",
            "beta 2027-01-15 bytes_in 2",
        ]
    );

    let r = acting(&cp, "r", &[(&[Action::UsageRead], &[ACME])]);
    assert_eq!(
        show(&r, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 1"]
    );
    let mut q = query("2027-01-15", "2027-01-15");
    q.by = Some("month".into());
    assert_eq!(
        lines(r.usage_report(&q).unwrap()),
        ["acme 2027-01 bytes_in 1"]
    );
    q.tenant = Some("acme".into());
    assert_eq!(
        lines(r.usage_report(&q).unwrap()),
        ["acme 2027-01 bytes_in 1"]
    );
    q.tenant = Some("beta".into());
    assert_eq!(
        not_found(r.usage_report(&q)),
        ("tenant", "beta".to_string())
    );
    q.tenant = Some("ghost".into());
    assert_eq!(
        not_found(r.usage_report(&q)),
        ("tenant", "ghost".to_string())
    );

    // Writing usage is not reading it.
    let w = acting(&cp, "w", &[(&[Action::UsageWrite], &[ORG])]);
    let e = forbidden(w.usage_report(&query("2027-01-15", "2027-01-15")));
    assert!(e.contains("usage-read on drn:tok:local"), "{e}");
}

#[test]
fn the_rate_card_and_bill_need_billing_grants() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    record(
        &cp,
        "r",
        vec![
            rec("acme", "bytes_in", 1_000_000_000, at),
            rec("beta", "bytes_in", 2_000_000_000, at),
        ],
        NOW,
    );
    cp.meter()
        .add(LOCAL_ORG, "", Metric::ApiCalls, ts(at), 3000);
    cp.flush_usage().unwrap();
    cp.update_rate_card(
        &update(None, &[("bytes_in", Some("1")), ("api_calls", Some("1"))]),
        NOW,
    )
    .unwrap();
    let card = cp.rate_card().unwrap();

    let usage_only = acting(
        &cp,
        "u",
        &[(&[Action::UsageRead, Action::UsageWrite], &[ORG])],
    );
    let e = forbidden(usage_only.rate_card());
    assert!(e.contains("billing-read on drn:tok:local"), "{e}");
    forbidden(usage_only.usage_bill("2027-01", None, LATER));
    forbidden(usage_only.usage_bill("2027-01", Some("acme"), LATER));

    // billing-read on beta: the card, and beta's part of the bill only.
    let b = acting(&cp, "b", &[(&[Action::BillingRead], &[BETA])]);
    assert_eq!(b.rate_card().unwrap(), card);
    assert_eq!(
        bill_lines(&b.usage_bill("2027-01", None, LATER).unwrap()),
        [
            "beta bytes_in 2 GB @1 = 2.00",
            "beta total 2.00",
            "total 2.00"
        ]
    );
    assert_eq!(
        not_found(b.usage_bill("2027-01", Some("acme"), LATER)),
        ("tenant", "acme".to_string())
    );
    assert_eq!(
        bill_lines(&b.usage_bill("2027-01", Some("beta"), LATER).unwrap()),
        [
            "beta bytes_in 2 GB @1 = 2.00",
            "beta total 2.00",
            "total 2.00"
        ]
    );
    // The owner sees everything, the org's own usage first.
    assert_eq!(
        bill_lines(&cp.usage_bill("2027-01", None, LATER).unwrap()),
        [
            "- api_calls 3 thousand @1 = 3.00",
            "- total 3.00",
            "acme bytes_in 1 GB @1 = 1.00",
            "acme total 1.00",
            "beta bytes_in 2 GB @1 = 2.00",
            "beta total 2.00",
            "total 6.00",
        ]
    );

    // Changing the card takes billing-write on the whole org.
    let change = update(Some("EUR"), &[("bytes_in", Some("5"))]);
    for p in [
        acting(&cp, "br", &[(&[Action::BillingRead], &[ORG])]),
        acting(
            &cp,
            "bw",
            &[(&[Action::BillingWrite, Action::BillingRead], &[ACME])],
        ),
        acting(
            &cp,
            "uw",
            &[(&[Action::UsageWrite, Action::UsageRead], &[ORG])],
        ),
    ] {
        let e = forbidden(p.update_rate_card(&change, NOW));
        assert!(
            e.ends_with("holds no role that grants billing-write on drn:tok:local"),
            "{e}"
        );
    }
    assert_eq!(cp.rate_card().unwrap(), card, "unchanged");
    assert_eq!(audits(&cp, "usage.rates").len(), 1);
    let admin = cp.role("Billing Administrator").unwrap();
    let principal = Principal {
        kind: PrincipalKind::User,
        id: "id_ba".into(),
        name: "ba".into(),
        org: LOCAL_ORG.into(),
        session_id: None,
        expires_at: None,
        max_expires_at: None,
        grants: Arc::new(auth::grants_of(&[admin])),
    };
    let ba = cp.acting(LOCAL_ORG, &principal, None);
    let c = ba.update_rate_card(&change, NOW).unwrap();
    assert_eq!(c.currency, "EUR");
    assert_eq!(priced(&c), ["bytes_in=5", "api_calls=1"]);
    let a = audits(&cp, "usage.rates");
    assert_eq!(a.len(), 2);
    assert_eq!(a[1].actor, "user:ba");
}

// ---------------------------------------------------------------------------------------
// the rate card
// ---------------------------------------------------------------------------------------

#[test]
fn the_default_card_is_empty_in_usd() {
    let (_dir, cp) = owner();
    let c = cp.rate_card().unwrap();
    assert_eq!(c.currency, "USD");
    assert_eq!(c.minor_units, 2);
    assert_eq!(
        c.rounding,
        "half to even, per line, to 0.01; totals are sums of rounded lines"
    );
    let rates: Vec<_> = c
        .rates
        .iter()
        .map(|r| (r.metric.as_str(), r.unit.as_str(), r.price.clone()))
        .collect();
    assert_eq!(
        rates,
        [
            ("messages_in", "million messages", None),
            ("messages_out", "million messages", None),
            ("bytes_in", "GB", None),
            ("bytes_out", "GB", None),
            ("storage_bytes", "GB-month", None),
            ("tokens_issued", "thousand", None),
            ("authentications", "thousand", None),
            ("introspections", "thousand", None),
            ("api_calls", "thousand", None),
            ("active_token_days", "token-day", None),
        ]
    );
}

#[test]
fn prices_and_currencies_are_set_and_unset() {
    let (_dir, cp) = owner();
    let c = cp
        .update_rate_card(
            &update(
                None,
                &[
                    ("bytes_in", Some("0.090")),
                    ("storage_bytes", Some(" 0.023 ")),
                    ("active_token_days", Some("0")),
                    ("messages_in", Some("12")),
                ],
            ),
            NOW,
        )
        .unwrap();
    assert_eq!(
        priced(&c),
        [
            "messages_in=12",
            "bytes_in=0.09",
            "storage_bytes=0.023",
            "active_token_days=0"
        ]
    );
    assert_eq!(
        cp.rate_card().unwrap(),
        c,
        "what is answered is what is stored"
    );

    for (cur, minor, unit) in [
        ("JPY", 0, "1"),
        ("KWD", 3, "0.001"),
        ("CLF", 4, "0.0001"),
        ("EUR", 2, "0.01"),
        ("XTS", 2, "0.01"),
    ] {
        let c = cp.update_rate_card(&update(Some(cur), &[]), NOW).unwrap();
        assert_eq!((c.currency.as_str(), c.minor_units), (cur, minor));
        assert_eq!(
            c.rounding,
            format!("half to even, per line, to {unit}; totals are sums of rounded lines")
        );
        assert_eq!(priced(&c).len(), 4, "a currency change keeps the prices");
        assert_eq!(cp.rate_card().unwrap(), c);
    }

    let c = cp
        .update_rate_card(
            &update(
                Some("JPY"),
                &[
                    ("bytes_in", None),
                    ("bytes_out", None),
                    ("messages_in", Some("15")),
                ],
            ),
            NOW,
        )
        .unwrap();
    assert_eq!(c.minor_units, 0);
    assert_eq!(
        priced(&c),
        [
            "messages_in=15",
            "storage_bytes=0.023",
            "active_token_days=0"
        ]
    );
    assert_eq!(cp.rate_card().unwrap(), c);
}

#[test]
fn a_bad_change_is_refused_whole_and_the_card_unchanged() {
    let (_dir, cp) = owner();
    cp.update_rate_card(&update(None, &[("bytes_in", Some("0.09"))]), NOW)
        .unwrap();
    let before = cp.rate_card().unwrap();
    let audited = cp.audit(0).unwrap().len();
    let cases: Vec<(model::RateCardUpdate, &str)> = vec![
        (
            update(None, &[("bytes_out", Some("-1"))]),
            "price \"-1\" is negative: prices are zero or more",
        ),
        (
            update(None, &[("bytes_out", Some("0.0000001"))]),
            "price \"0.0000001\" has 7 decimal places: at most 6 are allowed",
        ),
        (
            update(None, &[("bytes_out", Some("1e-3"))]),
            "price \"1e-3\" uses an exponent",
        ),
        (
            update(None, &[("bytes_out", Some("abc"))]),
            "price \"abc\" is not a number",
        ),
        (update(None, &[("bytes_out", Some(""))]), "price is empty"),
        (
            update(None, &[("bytes", Some("1"))]),
            "unknown metric \"bytes\"",
        ),
        (update(Some("usd"), &[]), "invalid currency \"usd\""),
        (update(Some("US"), &[]), "ISO 4217"),
        // All or nothing: a good price with a bad one, a good currency with a bad price.
        (
            update(
                None,
                &[("bytes_in", Some("0.5")), ("bytes_out", Some("-1"))],
            ),
            "negative",
        ),
        (
            update(None, &[("storage_bytes", Some("1")), ("zzz", Some("1"))]),
            "unknown metric \"zzz\"",
        ),
        (
            update(Some("JPY"), &[("bytes_in", Some("-0.01"))]),
            "negative",
        ),
        (
            update(Some("usd"), &[("bytes_in", Some("0.5"))]),
            "ISO 4217",
        ),
        (
            update(None, &[]),
            "nothing to change: give a currency and/or prices",
        ),
    ];
    for (u, want) in cases {
        let e = invalid(cp.update_rate_card(&u, NOW));
        assert!(e.contains(want), "{u:?}: {e}");
        assert_eq!(cp.rate_card().unwrap(), before, "{u:?}");
    }
    assert_eq!(
        cp.audit(0).unwrap().len(),
        audited,
        "refusals are not audited"
    );
}

#[test]
fn changes_to_usage_and_rates_are_audited() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    record(
        &cp,
        "batch-7",
        vec![
            rec("acme", "bytes_in", 1, at),
            rec("ghost", "bytes_in", 1, at),
            rec("beta", "bytes_in", 1, at),
        ],
        NOW + 5,
    );
    cp.update_rate_card(
        &update(
            Some("JPY"),
            &[("storage_bytes", Some("3")), ("bytes_in", None)],
        ),
        NOW + 6,
    )
    .unwrap();
    let got: Vec<_> = cp
        .audit(NOW + 5)
        .unwrap()
        .into_iter()
        .map(|a| (a.at, a.actor, a.action, a.target, a.detail))
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        got,
        [
            (
                NOW + 5,
                s("local:test"),
                s("usage.record"),
                s("batch-7"),
                Some(s("2 recorded, 1 rejected"))
            ),
            (
                NOW + 6,
                s("local:test"),
                s("usage.rates"),
                s("local"),
                Some(s("currency JPY, bytes_in unpriced, storage_bytes 3"))
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// the bill
// ---------------------------------------------------------------------------------------

#[test]
fn a_months_bill_is_exact() {
    let (_dir, cp) = owner();
    let now = ts("2028-03-05T00:00:00Z");
    record(
        &cp,
        "feb",
        vec![
            rec("acme", "bytes_in", 1_000_000_000, "2028-02-01T00:00:00Z"),
            rec("acme", "bytes_in", 500_000_000, "2028-02-29T23:59:59Z"),
            // Outside the month.
            rec("acme", "bytes_in", 7_000_000_000, "2028-01-31T23:59:59Z"),
            rec("acme", "bytes_in", 9_000_000_000, "2028-03-01T00:00:00Z"),
            rec("acme", "messages_in", 2_500_000, "2028-02-15T12:00:00Z"),
            // Unpriced.
            rec("acme", "bytes_out", 5_000_000_000, "2028-02-15T12:00:00Z"),
            // Storage: 58 GB on the 10th (the later figure of ns a, plus ns b), 29 GB on the
            // 20th: 87e9 byte-days ÷ 29 days = 3 GB-months.
            rec_ns(
                "acme",
                "a",
                "storage_bytes",
                999_000_000_000,
                "2028-02-10T00:30:00Z",
            ),
            rec_ns(
                "acme",
                "a",
                "storage_bytes",
                50_000_000_000,
                "2028-02-10T01:00:00Z",
            ),
            rec_ns(
                "acme",
                "b",
                "storage_bytes",
                8_000_000_000,
                "2028-02-10T02:00:00Z",
            ),
            rec_ns(
                "acme",
                "a",
                "storage_bytes",
                29_000_000_000,
                "2028-02-20T00:00:00Z",
            ),
            rec_ns(
                "acme",
                "a",
                "storage_bytes",
                100_000_000_000,
                "2028-01-31T00:00:00Z",
            ),
            rec("beta", "bytes_in", 1_000_000_000, "2028-02-14T00:00:00Z"),
        ],
        now,
    );
    // Control-plane usage: the org's own and acme's.
    cp.meter().add(
        LOCAL_ORG,
        "",
        Metric::ApiCalls,
        ts("2028-02-02T00:00:00Z"),
        1500,
    );
    cp.meter().add(
        LOCAL_ORG,
        "acme",
        Metric::ApiCalls,
        ts("2028-02-03T00:00:00Z"),
        500,
    );
    // Tokens: 29 + 20 + 4 + 1 + 0 + 0 + 1 = 55 token-days for acme, 2 for beta.
    let tok = |tenant: &str, name: &str, created: &str, expiry: Expiry| {
        cp.create_token(&spec(tenant, name, expiry), ts(created))
            .unwrap();
    };
    tok("acme", "all-month", "2028-01-20T00:00:00Z", Expiry::Never);
    tok("acme", "mid-month", "2028-02-10T12:00:00Z", Expiry::Never);
    tok(
        "acme",
        "expires",
        "2028-01-01T00:00:00Z",
        Expiry::At(ts("2028-02-05T00:00:00Z")),
    );
    tok("acme", "revoked", "2028-02-03T10:00:00Z", Expiry::Never);
    cp.revoke_token("acme", "revoked", ts("2028-02-03T11:00:00Z"))
        .unwrap();
    tok("acme", "after", "2028-03-01T00:00:00Z", Expiry::Never);
    tok("acme", "before", "2027-12-01T00:00:00Z", Expiry::Never);
    cp.revoke_token("acme", "before", ts("2028-01-31T23:59:59Z"))
        .unwrap();
    tok(
        "acme",
        "last-second",
        "2028-02-29T23:59:59Z",
        Expiry::At(ts("2028-03-10T00:00:00Z")),
    );
    tok("beta", "late", "2028-02-28T23:00:00Z", Expiry::Never);
    cp.flush_usage().unwrap();

    cp.update_rate_card(
        &update(
            None,
            &[
                ("bytes_in", Some("0.09")),
                ("messages_in", Some("0.40")),
                ("storage_bytes", Some("0.023")),
                ("api_calls", Some("0.01")),
                ("active_token_days", Some("0.5")),
            ],
        ),
        now,
    )
    .unwrap();
    let b = cp.usage_bill("2028-02", None, LATER).unwrap();
    assert_eq!(b.month, "2028-02");
    assert_eq!(b.currency, "USD");
    assert_eq!(
        b.rounding,
        "half to even, per line, to 0.01; totals are sums of rounded lines"
    );
    assert_eq!(
        bill_lines(&b),
        [
            // 0.015 → 0.02 (half to even).
            "- api_calls 1.5 thousand @0.01 = 0.02",
            "- total 0.02",
            "acme messages_in 2.5 million messages @0.4 = 1.00",
            // 0.135 → 0.14.
            "acme bytes_in 1.5 GB @0.09 = 0.14",
            // 0.069 → 0.07.
            "acme storage_bytes 3 GB-month @0.023 = 0.07",
            // 0.005 → 0.00: billed, at zero.
            "acme api_calls 0.5 thousand @0.01 = 0.00",
            "acme active_token_days 55 token-day @0.5 = 27.50",
            "acme total 28.71",
            "beta bytes_in 1 GB @0.09 = 0.09",
            "beta active_token_days 2 token-day @0.5 = 1.00",
            "beta total 1.09",
            "total 29.82",
        ]
    );
    assert_eq!(b.tenants[0].tenant, None);
    assert_eq!(b.tenants[1].tenant.as_deref(), Some("acme"));

    // One tenant.
    let acme = cp.usage_bill("2028-02", Some("acme"), LATER).unwrap();
    assert_eq!(acme.tenants.len(), 1);
    assert_eq!(acme.tenants[0].lines.len(), 5);
    assert_eq!(acme.total, "28.71");
    assert_eq!(
        cp.usage_bill("2028-02", Some("beta"), LATER).unwrap().total,
        "1.09"
    );
    let ghost = cp.usage_bill("2028-02", Some("ghost"), LATER).unwrap();
    assert!(ghost.tenants.is_empty());
    assert_eq!(ghost.total, "0.00");

    // In yen: the same lines rounded to whole units (27.5 → 28, 0.5 and 1.5 half to even).
    cp.update_rate_card(&update(Some("JPY"), &[]), now).unwrap();
    let b = cp.usage_bill("2028-02", None, LATER).unwrap();
    assert_eq!(b.currency, "JPY");
    assert_eq!(
        b.rounding,
        "half to even, per line, to 1; totals are sums of rounded lines"
    );
    assert_eq!(
        bill_lines(&b),
        [
            "- api_calls 1.5 thousand @0.01 = 0",
            "- total 0",
            "acme messages_in 2.5 million messages @0.4 = 1",
            "acme bytes_in 1.5 GB @0.09 = 0",
            "acme storage_bytes 3 GB-month @0.023 = 0",
            "acme api_calls 0.5 thousand @0.01 = 0",
            "acme active_token_days 55 token-day @0.5 = 28",
            "acme total 29",
            "beta bytes_in 1 GB @0.09 = 0",
            "beta active_token_days 2 token-day @0.5 = 1",
            "beta total 1",
            "total 30",
        ]
    );

    // Without a price for active_token_days, tokens are not billed.
    cp.update_rate_card(&update(Some("USD"), &[("active_token_days", None)]), now)
        .unwrap();
    let b = cp.usage_bill("2028-02", None, LATER).unwrap();
    assert_eq!(b.total, "1.32");
    assert!(
        b.tenants
            .iter()
            .flat_map(|t| &t.lines)
            .all(|l| l.metric != "active_token_days")
    );
}

#[test]
fn an_empty_month_is_an_empty_bill_and_a_bad_month_is_refused() {
    let (_dir, cp) = owner();
    let b = cp.usage_bill("2027-01", None, LATER).unwrap();
    assert_eq!(
        b,
        model::Bill {
            month: "2027-01".into(),
            currency: "USD".into(),
            rounding: "half to even, per line, to 0.01; totals are sums of rounded lines".into(),
            tenants: Vec::new(),
            total: "0.00".into(),
        }
    );
    cp.update_rate_card(&update(None, &[("bytes_in", Some("0.09"))]), NOW)
        .unwrap();
    // Usage outside the month, and tokens, but nothing priced in it.
    record(
        &cp,
        "dec",
        vec![rec("acme", "bytes_in", 5, "2026-12-31T23:59:59Z")],
        NOW,
    );
    cp.create_token(&spec("acme", "t", Expiry::Never), NOW)
        .unwrap();
    let b = cp.usage_bill("2027-02", None, LATER).unwrap();
    assert!(b.tenants.is_empty());
    assert_eq!(b.total, "0.00");
    for bad in ["2027-13", "2027-1", "27-01", "2027-01-01", ""] {
        let e = invalid(cp.usage_bill(bad, None, LATER));
        assert!(e.contains("YYYY-MM"), "{bad:?}: {e}");
    }
}

fn token(created: i64, expires: Option<i64>, revoked: Option<i64>) -> Token {
    Token {
        id: "tok_1".into(),
        tenant_id: "ten_1".into(),
        tenant: "acme".into(),
        instance: "local".into(),
        name: "t".into(),
        subject: "t".into(),
        description: None,
        kid: "kid".into(),
        token_hash: Vec::new(),
        created_at: created,
        expires_at: expires,
        last_used_at: None,
        revoked_at: revoked,
        roles: Vec::new(),
    }
}

#[test]
fn active_days_counts_the_days_a_token_was_usable_in_the_window() {
    let day = |s: &str| parse_day(s).unwrap();
    let (from, to) = (day("2028-02-01"), day("2028-02-29"));
    // (what, created, expires, revoked, days).
    type Case = (&'static str, i64, Option<i64>, Option<i64>, u64);
    let cases: [Case; 15] = [
        (
            "all month, never expires",
            ts("2028-01-20T00:00:00Z"),
            None,
            None,
            29,
        ),
        (
            "created mid-month",
            ts("2028-02-10T12:00:00Z"),
            None,
            None,
            20,
        ),
        (
            "created on the first second",
            ts("2028-02-01T00:00:00Z"),
            None,
            None,
            29,
        ),
        (
            "created on the last second",
            ts("2028-02-29T23:59:59Z"),
            None,
            None,
            1,
        ),
        (
            "expires at midnight: not usable that day",
            ts("2028-01-01T00:00:00Z"),
            Some(ts("2028-02-05T00:00:00Z")),
            None,
            4,
        ),
        (
            "expires one second into a day",
            ts("2028-01-01T00:00:00Z"),
            Some(ts("2028-02-05T00:00:01Z")),
            None,
            5,
        ),
        (
            "revoked the hour it was made",
            ts("2028-02-03T10:00:00Z"),
            None,
            Some(ts("2028-02-03T11:00:00Z")),
            1,
        ),
        (
            "revoked before it expires",
            ts("2028-02-01T00:00:00Z"),
            Some(ts("2028-02-20T00:00:00Z")),
            Some(ts("2028-02-10T00:00:00Z")),
            9,
        ),
        (
            "expires before it is revoked",
            ts("2028-02-01T00:00:00Z"),
            Some(ts("2028-02-10T00:00:00Z")),
            Some(ts("2028-02-20T00:00:00Z")),
            9,
        ),
        (
            "created after the month",
            ts("2028-03-01T00:00:00Z"),
            None,
            None,
            0,
        ),
        (
            "ended before the month",
            ts("2028-01-01T00:00:00Z"),
            Some(ts("2028-02-01T00:00:00Z")),
            None,
            0,
        ),
        (
            "revoked in the first second",
            ts("2028-01-01T00:00:00Z"),
            None,
            Some(ts("2028-02-01T00:00:01Z")),
            1,
        ),
        (
            "revoked as it was made",
            ts("2028-02-10T00:00:00Z"),
            None,
            Some(ts("2028-02-10T00:00:00Z")),
            0,
        ),
        (
            "spans the month",
            ts("2027-01-01T00:00:00Z"),
            Some(ts("2029-01-01T00:00:00Z")),
            None,
            29,
        ),
        (
            "crosses midnight",
            ts("2028-02-03T23:00:00Z"),
            Some(ts("2028-02-04T01:00:00Z")),
            None,
            2,
        ),
    ];
    for (what, created, expires, revoked, want) in cases {
        assert_eq!(
            active_days(&token(created, expires, revoked), from, to),
            want,
            "{what}"
        );
    }
    // Far dates do not overflow.
    assert_eq!(active_days(&token(i64::MIN / 2, None, None), from, to), 29);
    assert_eq!(active_days(&token(0, Some(i64::MAX), None), from, from), 1);
}

// ---------------------------------------------------------------------------------------
// the meter
// ---------------------------------------------------------------------------------------

#[test]
fn the_meter_writes_its_counts_once_per_org_tenant_metric_and_day() {
    let (_dir, cp) = owner();
    let t = ts("2027-01-15T10:00:00Z");
    let t2 = ts("2027-01-16T00:00:00Z");
    let m = cp.meter();
    for _ in 0..3 {
        m.count(LOCAL_ORG, "acme", Metric::ApiCalls, t);
    }
    m.count(LOCAL_ORG, "", Metric::Authentications, t);
    m.add(LOCAL_ORG, "", Metric::Introspections, t2, 5);
    m.add(LOCAL_ORG, "acme", Metric::ApiCalls, t2, 0);
    m.count("ghost-org", "x", Metric::ApiCalls, t);
    assert_eq!(m.pending(), 4);
    // The counts of an org that does not exist are dropped.
    assert_eq!(cp.flush_usage().unwrap(), 9);
    assert_eq!(m.pending(), 0);
    let want = [
        "- 2027-01-15 authentications 1",
        "acme 2027-01-15 api_calls 3",
        "- 2027-01-16 introspections 5",
    ];
    assert_eq!(show(&cp, "2027-01-15", "2027-01-16"), want);
    // Flushing again writes nothing more.
    assert_eq!(cp.flush_usage().unwrap(), 0);
    assert_eq!(show(&cp, "2027-01-15", "2027-01-16"), want);
    // New counts add to what was written.
    m.count(LOCAL_ORG, "acme", Metric::ApiCalls, t + 60);
    assert_eq!(cp.flush_usage().unwrap(), 1);
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "- 2027-01-15 authentications 1",
            "acme 2027-01-15 api_calls 4"
        ]
    );

    // A plane acting for a principal counts into the same meter.
    let p = acting(&cp, "p", &[]);
    assert!(Arc::ptr_eq(cp.meter(), p.meter()));
    p.meter_count("beta", Metric::Introspections, t);
    assert_eq!(m.pending(), 1);
    assert_eq!(cp.flush_usage().unwrap(), 1);
}

#[test]
fn a_failed_flush_puts_the_counts_back() {
    let (_dir, cp) = owner();
    let t = ts("2027-01-15T10:00:00Z");
    let m = cp.meter();
    m.add(LOCAL_ORG, "acme", Metric::ApiCalls, t, 7);
    m.count(LOCAL_ORG, "", Metric::TokensIssued, t);
    let failing = FailingStore(Arc::clone(cp.store()));
    match m.flush(&failing) {
        Err(ControlError::Store { message, .. }) => {
            assert_eq!(message, "disk I/O error (injected)");
        }
        other => panic!("expected a store error, got {other:?}"),
    }
    assert_eq!(m.pending(), 2, "the counts are back");
    assert!(
        show(&cp, "2027-01-15", "2027-01-15").is_empty(),
        "the failed transaction wrote nothing"
    );
    // Counted meanwhile, then a second failure: nothing lost, nothing doubled.
    m.add(LOCAL_ORG, "acme", Metric::ApiCalls, t + 1, 3);
    assert!(m.flush(&failing).is_err());
    assert_eq!(m.pending(), 2);
    assert_eq!(cp.flush_usage().unwrap(), 11);
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        [
            "- 2027-01-15 tokens_issued 1",
            "acme 2027-01-15 api_calls 10"
        ]
    );
    assert_eq!(m.pending(), 0);
}

#[test]
fn control_plane_work_is_metered() {
    let (_dir, cp) = owner();
    // Flush what setting up counted, then count a token issued.
    cp.flush_usage().unwrap();
    let t = ts("2027-01-15T09:00:00Z");
    cp.create_token(&spec("acme", "ci", Expiry::Never), t)
        .unwrap();
    assert_eq!(cp.flush_usage().unwrap(), 1);
    let mut q = query("2027-01-15", "2027-01-15");
    q.metric = Some("tokens_issued".into());
    assert_eq!(
        lines(cp.usage_report(&q).unwrap()),
        ["acme 2027-01-15 tokens_issued 1"]
    );
}

#[test]
fn stored_batch_results_are_kept_with_the_batch() {
    let (_dir, cp) = owner();
    let at = "2027-01-15T07:00:00Z";
    let first = record(
        &cp,
        "keep",
        vec![rec("acme", "bytes_in", 1, at), json!(1)],
        NOW,
    );
    let stored = cp
        .store()
        .read(|tx| {
            let org_id = tx.org_id(LOCAL_ORG)?.unwrap();
            tx.usage_batch(&org_id, "keep")
        })
        .unwrap()
        .unwrap();
    let result: model::UsageBatchResult = serde_json::from_str(&stored.result).unwrap();
    assert_eq!(result, first);
    assert_eq!(stored.digest.len(), 32, "a SHA-256 digest");
    assert!(stored.actor.starts_with("local:"), "{}", stored.actor);
}

#[test]
fn deleting_a_tenant_does_not_change_a_past_months_bill() {
    let (_dir, cp) = owner();
    cp.create_tenant("gone", None, None, NOW).unwrap();
    cp.create_token(
        &spec("gone", "all-month", Expiry::Never),
        ts("2028-01-20T00:00:00Z"),
    )
    .unwrap();
    record(
        &cp,
        "feb",
        vec![rec(
            "gone",
            "bytes_in",
            1_000_000_000,
            "2028-02-10T00:00:00Z",
        )],
        ts("2028-03-01T00:00:00Z"),
    );
    cp.update_rate_card(
        &update(
            None,
            &[("bytes_in", Some("1")), ("active_token_days", Some("1"))],
        ),
        NOW,
    )
    .unwrap();
    let before = cp.usage_bill("2028-02", None, LATER).unwrap();
    assert_eq!(
        bill_lines(&before),
        [
            "gone bytes_in 1 GB @1 = 1.00",
            "gone active_token_days 29 token-day @1 = 29.00",
            "gone total 30.00",
            "total 30.00",
        ]
    );
    cp.delete_tenant("gone", ts("2028-03-10T00:00:00Z"))
        .unwrap();
    let after = cp.usage_bill("2028-02", None, LATER).unwrap();
    assert_eq!(bill_lines(&after), bill_lines(&before));
}

#[test]
fn the_same_records_with_keys_in_another_order_are_a_replay() {
    let (_dir, cp) = owner();
    let a = json!({"tenant": "acme", "metric": "bytes_in", "value": 5, "at": NOW});
    let b = json!({"at": NOW, "value": 5, "metric": "bytes_in", "tenant": "acme"});
    assert_eq!(a, b, "the same JSON object");
    record(&cp, "k", vec![a], NOW);
    let again = cp.record_usage(&batch("k", vec![b]), NOW);
    assert!(
        matches!(&again, Ok(r) if r.replayed && r.accepted == 1),
        "{again:?}"
    );
    assert_eq!(
        show(&cp, "2027-01-15", "2027-01-15"),
        ["acme 2027-01-15 bytes_in 5"]
    );
}

#[test]
fn a_deleted_tenants_usage_stays_billable() {
    let (_dir, cp) = owner();
    cp.create_tenant("gone", None, None, NOW).unwrap();
    record(
        &cp,
        "jan",
        vec![rec(
            "gone",
            "bytes_in",
            2_000_000_000,
            "2027-01-10T00:00:00Z",
        )],
        NOW,
    );
    cp.delete_tenant("gone", NOW).unwrap();
    cp.update_rate_card(&update(None, &[("bytes_in", Some("1"))]), NOW)
        .unwrap();
    assert_eq!(
        bill_lines(&cp.usage_bill("2027-01", None, LATER).unwrap()),
        [
            "gone bytes_in 2 GB @1 = 2.00",
            "gone total 2.00",
            "total 2.00"
        ]
    );
    assert_eq!(
        show(&cp, "2027-01-10", "2027-01-10"),
        ["gone 2027-01-10 bytes_in 2000000000"]
    );
    // New records for it are refused: it no longer exists.
    let r = record(
        &cp,
        "late",
        vec![rec("gone", "bytes_in", 1, "2027-01-15T00:00:00Z")],
        NOW,
    );
    assert_eq!(r.accepted, 0);
    assert!(r.rejected[0].reason.contains("does not exist"));
}

#[test]
fn a_gauge_keeps_the_latest_figure_of_each_source_and_adds_sources_up() {
    let (_dir, cp) = owner();
    let storage = |source: Option<&str>, value: u64, at: &str| {
        let mut r = rec_ns("acme", "orders", "storage_bytes", value, at);
        if let Some(s) = source {
            r["source"] = json!(s);
        }
        r
    };
    // Two topics of one namespace, each reported twice a day: the later figure of each counts.
    record(
        &cp,
        "b1",
        vec![
            storage(
                Some("persistent://acme/orders/a"),
                100,
                "2027-01-10T08:00:00Z",
            ),
            storage(
                Some("persistent://acme/orders/b"),
                40,
                "2027-01-10T08:00:00Z",
            ),
        ],
        NOW,
    );
    record(
        &cp,
        "b2",
        vec![
            storage(
                Some("persistent://acme/orders/a"),
                120,
                "2027-01-10T20:00:00Z",
            ),
            // An older figure of b arrives late: b's later one stands.
            storage(
                Some("persistent://acme/orders/b"),
                10,
                "2027-01-10T07:00:00Z",
            ),
            // No source: a figure of its own (the namespace as a whole).
            storage(None, 5, "2027-01-10T09:00:00Z"),
        ],
        NOW,
    );
    assert_eq!(
        show(&cp, "2027-01-10", "2027-01-10"),
        ["acme 2027-01-10 storage_bytes 165"]
    );
    // Counters ignore the source for what they mean: they add up.
    let mut a = rec("acme", "bytes_in", 3, "2027-01-10T08:00:00Z");
    a["source"] = json!("broker-1");
    let mut b = rec("acme", "bytes_in", 4, "2027-01-10T08:00:00Z");
    b["source"] = json!("broker-2");
    record(&cp, "b3", vec![a, b], NOW);
    assert_eq!(
        show(&cp, "2027-01-10", "2027-01-10"),
        [
            "acme 2027-01-10 bytes_in 7",
            "acme 2027-01-10 storage_bytes 165"
        ]
    );
    // A bad source is the record's own refusal.
    let mut long = rec("acme", "storage_bytes", 1, "2027-01-10T08:00:00Z");
    long["source"] = json!("x".repeat(256));
    let mut control = rec("acme", "storage_bytes", 1, "2027-01-10T08:00:00Z");
    control["source"] = json!("a\nb");
    let mut number = rec("acme", "storage_bytes", 1, "2027-01-10T08:00:00Z");
    number["source"] = json!(7);
    let result = record(&cp, "b4", vec![long, control, number], NOW);
    let reasons: Vec<&str> = result.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("invalid source"), "{reasons:?}");
    assert!(reasons[1].starts_with("invalid source"), "{reasons:?}");
    assert_eq!(reasons[2], "source must be a string, got a number");
    assert_eq!(result.accepted, 0);
}
