//! Criterion benchmarks for tok's JWT toolkit: sign and verify for HS256, RS256 and
//! ES256, decode, RS256 signing against aws-lc-rs's raw rate with a parsed key, and the
//! cost of re-parsing the key on every call (what jsonwebtoken does).
//!
//! Run with `cargo bench --bench jwt`; see benches/README.md for the figures.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use criterion::{Criterion, Throughput, criterion_group};
use serde_json::{Map, Value};
use tok::jwt::{Algorithm, Signer, VerifyKey, VerifyOptions, decode, verify};
use tok::keys::{
    PrivateKey, generate_key_pair, generate_secret, parse_private_key, parse_public_key,
    parse_secret_key,
};

/// Fixed times so every run signs the same bytes: iat 2026-01-01T00:00:00Z, exp +30 days.
const IAT: i64 = 1_767_225_600;
const EXP: i64 = IAT + 30 * 86_400;

const ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256];

/// The claims `tok jwt create --subject bench` writes: sub, iat, exp.
fn claims() -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::from("bench"));
    claims.insert("iat".into(), Value::from(IAT));
    claims.insert("exp".into(), Value::from(EXP));
    claims
}

/// Key bytes as tok writes them (`create-secret-key`, `create-key-pair --format der`):
/// (private or secret, public or secret).
fn key_bytes(alg: Algorithm) -> (Vec<u8>, Vec<u8>) {
    match alg {
        Algorithm::HS256 => {
            let secret = generate_secret(alg).expect("secret");
            (secret.clone(), secret)
        }
        _ => generate_key_pair(alg).expect("key pair"),
    }
}

fn parse_signing_key(alg: Algorithm, bytes: &[u8]) -> PrivateKey {
    match alg {
        Algorithm::HS256 => parse_secret_key(bytes).expect("secret key"),
        _ => parse_private_key(bytes).expect("private key"),
    }
}

struct Fixture {
    alg: Algorithm,
    private: Vec<u8>,
    signer: Signer,
    keys: Vec<VerifyKey>,
    token: String,
}

fn fixture(alg: Algorithm) -> Fixture {
    let (private, public) = key_bytes(alg);
    let signer = Signer::new(parse_signing_key(alg, &private), Some(alg)).expect("signer");
    let key = match alg {
        Algorithm::HS256 => signer.key().public_key().expect("hmac key"),
        _ => parse_public_key(&public).expect("public key"),
    };
    let token = signer.sign(&Map::new(), &claims()).expect("sign");
    Fixture {
        alg,
        private,
        signer,
        keys: vec![VerifyKey { kid: None, key }],
        token,
    }
}

fn verify_options() -> VerifyOptions {
    VerifyOptions {
        required: vec!["exp".into()],
        now: IAT + 60,
        ..VerifyOptions::default()
    }
}

fn configured() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
}

fn bench_sign(c: &mut Criterion, fixtures: &[Fixture]) {
    let header = Map::new();
    let claims = claims();
    let mut group = c.benchmark_group("sign");
    group.throughput(Throughput::Elements(1));
    for f in fixtures {
        group.bench_function(f.alg.as_str(), |b| {
            b.iter(|| {
                f.signer
                    .sign(black_box(&header), black_box(&claims))
                    .expect("sign")
            })
        });
    }
    group.finish();
}

fn bench_verify(c: &mut Criterion, fixtures: &[Fixture]) {
    let opts = verify_options();
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for f in fixtures {
        group.bench_function(f.alg.as_str(), |b| {
            b.iter(|| verify(black_box(&f.token), &f.keys, &opts).expect("verify"))
        });
    }
    group.finish();
}

fn bench_decode(c: &mut Criterion, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for f in fixtures {
        group.bench_function(f.alg.as_str(), |b| {
            b.iter(|| decode(black_box(&f.token)).expect("decode"))
        });
    }
    group.finish();
}

/// RS256 signing: the whole of `Signer::sign` (JSON, base64url, signature), tok's key
/// signing alone, and aws-lc-rs's `RsaKeyPair::sign` with an already-parsed key over the
/// same signing input (the reference for the ≥ 85 % target).
fn bench_rs256_reference(c: &mut Criterion, rs: &Fixture) {
    let header = Map::new();
    let claims = claims();
    let signing_input = rs
        .token
        .rsplit_once('.')
        .map(|(input, _)| input.as_bytes().to_vec())
        .expect("three parts");
    let raw = RsaKeyPair::from_pkcs8(&rs.private).expect("aws-lc-rs key");
    let rng = SystemRandom::new();
    let mut sig = vec![0u8; raw.public_modulus_len()];

    let mut group = c.benchmark_group("rs256_sign_vs_aws_lc_rs");
    group.throughput(Throughput::Elements(1));
    group.bench_function("aws_lc_rs_raw", |b| {
        b.iter(|| {
            raw.sign(&RSA_PKCS1_SHA256, &rng, black_box(&signing_input), &mut sig)
                .expect("raw sign");
            black_box(&sig);
        })
    });
    group.bench_function("tok_private_key_sign", |b| {
        b.iter(|| {
            rs.signer
                .key()
                .sign(Algorithm::RS256, black_box(&signing_input))
                .expect("key sign")
        })
    });
    group.bench_function("tok_signer_sign", |b| {
        b.iter(|| {
            rs.signer
                .sign(black_box(&header), black_box(&claims))
                .expect("sign")
        })
    });
    group.finish();
}

/// The cost of not caching: parse the key, build the Signer and sign, on every call.
fn bench_reparse(c: &mut Criterion, fixtures: &[Fixture]) {
    let header = Map::new();
    let claims = claims();
    let mut group = c.benchmark_group("sign_reparse_key_per_call");
    group.throughput(Throughput::Elements(1));
    for f in fixtures {
        group.bench_function(f.alg.as_str(), |b| {
            b.iter(|| {
                let key = parse_signing_key(f.alg, black_box(&f.private));
                let signer = Signer::new(key, Some(f.alg)).expect("signer");
                signer.sign(&header, &claims).expect("sign")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("parse_private_key");
    for f in fixtures {
        group.bench_function(f.alg.as_str(), |b| {
            b.iter(|| parse_signing_key(f.alg, black_box(&f.private)))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    let fixtures: Vec<Fixture> = ALGS.into_iter().map(fixture).collect();
    bench_sign(c, &fixtures);
    bench_verify(c, &fixtures);
    bench_decode(c, &fixtures);
    let rs = fixtures
        .iter()
        .find(|f| f.alg == Algorithm::RS256)
        .expect("RS256 fixture");
    bench_rs256_reference(c, rs);
    bench_reparse(c, &fixtures);
}

/// RS256 tok vs raw aws-lc-rs, measured paired: rounds alternate a batch of raw signatures
/// with a batch of tok signatures (order swapped every round), so background load (this
/// machine has 2 cores shared with compiles) hits both sides alike. Prints the median
/// per-round ratio, i.e. tok's signing rate as a percentage of aws-lc-rs's.
fn paired_rs256(rs: &Fixture) {
    const ROUNDS: usize = 60;
    const BATCH: usize = 10;
    let header = Map::new();
    let claims = claims();
    let signing_input = rs
        .token
        .rsplit_once('.')
        .map(|(input, _)| input.as_bytes().to_vec())
        .expect("three parts");
    let raw = RsaKeyPair::from_pkcs8(&rs.private).expect("aws-lc-rs key");
    let rng = SystemRandom::new();
    let mut sig = vec![0u8; raw.public_modulus_len()];
    let mut raw_batch = || {
        let start = Instant::now();
        for _ in 0..BATCH {
            raw.sign(&RSA_PKCS1_SHA256, &rng, black_box(&signing_input), &mut sig)
                .expect("raw sign");
            black_box(&sig);
        }
        start.elapsed()
    };
    let tok_batch = || {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(
                rs.signer
                    .sign(black_box(&header), black_box(&claims))
                    .expect("sign"),
            );
        }
        start.elapsed()
    };
    // Warm both paths.
    raw_batch();
    tok_batch();
    let mut raw_times = Vec::with_capacity(ROUNDS);
    let mut tok_times = Vec::with_capacity(ROUNDS);
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let (r, t) = if round % 2 == 0 {
            let r = raw_batch();
            (r, tok_batch())
        } else {
            let t = tok_batch();
            (raw_batch(), t)
        };
        raw_times.push(r.as_secs_f64() / BATCH as f64);
        tok_times.push(t.as_secs_f64() / BATCH as f64);
        ratios.push(r.as_secs_f64() / t.as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() / 4], v[v.len() * 3 / 4])
    };
    let (raw_med, _, _) = median(&mut raw_times);
    let (tok_med, _, _) = median(&mut tok_times);
    let (ratio, q1, q3) = median(&mut ratios);
    println!();
    println!("rs256_paired ({ROUNDS} rounds x {BATCH} signatures each side, alternating)");
    println!(
        "  aws-lc-rs raw RsaKeyPair::sign  median {:8.1} µs/op  ({:.0} op/s)",
        raw_med * 1e6,
        1.0 / raw_med
    );
    println!(
        "  tok Signer::sign (whole token)  median {:8.1} µs/op  ({:.0} op/s)",
        tok_med * 1e6,
        1.0 / tok_med
    );
    println!(
        "  tok rate / raw rate: median {:.1} % (interquartile {:.1} % .. {:.1} %), target >= 85 %",
        ratio * 100.0,
        q1 * 100.0,
        q3 * 100.0
    );
}

criterion_group! {
    name = jwt;
    config = configured();
    targets = benches
}

/// criterion_main!, plus the paired RS256 comparison when run by `cargo bench` (not in
/// `cargo test`'s quick pass) and not filtered out.
fn main() {
    jwt();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if benching
        && (filters.is_empty() || filters.iter().any(|f| "rs256_paired".contains(f.as_str())))
    {
        let rs = fixture(Algorithm::RS256);
        paired_rs256(&rs);
    }
    Criterion::default().configure_from_args().final_summary();
}
