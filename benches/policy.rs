//! Criterion benchmark of an authorization check (issue 5's budget: at most 10 % of an
//! authenticated read, which costs the server 25-33 µs of CPU — benches/README.md):
//! parsing a request's resource name, and evaluating it against a principal's roles.
//!
//! Run with `cargo bench --bench policy`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tok::control::policy::{Action, DEFAULT_ROLES, Policy, Resource, allowed, default_role};

fn bench(c: &mut Criterion) {
    let topic: Resource = "drn:tok:acme:tenant:acme:namespace:ns:topic:orders"
        .parse()
        .expect("resource");
    let reader = Policy {
        actions: vec![Action::Consume],
        resources: vec![
            "drn:tok:acme:tenant:acme:namespace:*"
                .parse()
                .expect("resource"),
        ],
    };
    let all_defaults: Vec<Policy> = DEFAULT_ROLES
        .iter()
        .filter_map(|r| default_role(r, "acme"))
        .collect();

    c.bench_function("policy/parse_resource", |b| {
        b.iter(|| {
            black_box("drn:tok:acme:tenant:acme:namespace:ns:topic:orders").parse::<Resource>()
        })
    });
    c.bench_function("policy/one_custom_role_allows", |b| {
        b.iter(|| allowed([black_box(&reader)], Action::Consume, black_box(&topic)))
    });
    // The worst case among default roles: a principal holding all eight, asked for an
    // action only the first grants (each role's action list is scanned).
    c.bench_function("policy/eight_default_roles_deny", |b| {
        let nobody = Resource::org("other");
        b.iter(|| {
            allowed(
                black_box(&all_defaults),
                Action::AuditRead,
                black_box(&nobody),
            )
        })
    });
    c.bench_function("policy/eight_default_roles_allow_last", |b| {
        b.iter(|| {
            allowed(
                black_box(&all_defaults[1..]),
                Action::RoleRead,
                black_box(&topic),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
