//! Criterion benchmark of an authorization check (issue 5's budget: at most 10 % of an
//! authenticated read, which costs the server 22-26 µs of CPU — benches/README.md):
//! parsing a request's resource name, evaluating it against a principal's roles, and what
//! the server does per request (`authz/…`).
//!
//! Run with `cargo bench --bench policy`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tok::control::Role;
use tok::control::auth::grants_of;
use tok::control::policy::{Action, DEFAULT_ROLES, Kind, Policy, Resource, allowed, default_role};

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

/// What authorization adds to one request, as the server runs it: the grants computed from
/// the caller's roles when its session row was read (`grants_of`, once per cache fill) are
/// shared with the request (an `Arc` clone in `ControlPlane::acting`), the request's
/// resource is built from the path, and the grants are asked.
fn per_request(c: &mut Criterion) {
    let role = |name: &str, policy: Policy| Role {
        id: format!("rol_{name}"),
        org_id: "org_1".into(),
        name: name.into(),
        description: None,
        policy,
        builtin: false,
        created_at: 0,
        updated_at: 0,
    };
    let roles = vec![
        role(
            "Token Manager",
            default_role("Token Manager", "acme").expect("built-in"),
        ),
        role(
            "topic-reader",
            Policy {
                actions: vec![Action::Consume, Action::TenantRead, Action::TokenRead],
                resources: vec!["drn:tok:acme:tenant:acme".parse().expect("resource")],
            },
        ),
    ];
    c.bench_function("authz/grants_of_two_roles", |b| {
        b.iter(|| grants_of(black_box(&roles)))
    });
    let shared = std::sync::Arc::new(grants_of(&roles));
    c.bench_function("authz/per_request_token_read", |b| {
        b.iter(|| {
            let grants = std::sync::Arc::clone(black_box(&shared));
            let resource = Resource::org("acme").child(Kind::Tenant, black_box("acme"));
            grants.allows(Action::TokenRead, &resource)
        })
    });
    c.bench_function("authz/per_request_denied_hidden", |b| {
        b.iter(|| {
            let grants = std::sync::Arc::clone(black_box(&shared));
            let resource = Resource::org("acme").child(Kind::Tenant, black_box("other"));
            // A refusal also asks whether the caller holds the action anywhere, and
            // whether any of its resources reaches this one (404 or 403).
            !grants.allows(Action::TenantWrite, &resource)
                && grants.holds_action(Action::TenantWrite)
                && grants.reaches(&resource)
        })
    });
}

criterion_group!(benches, bench, per_request);
criterion_main!(benches);
