//! Criterion benches of the vault (issue 12 targets: seal+open of one credential < 5 µs;
//! rewrap throughput ≥ 20,000 rows/s on PostgreSQL, of which this is the CPU part).
//!
//! `cargo bench -p integrations-vault`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use integrations_domain::credentials::{sample_input, SealedDefaults};
use integrations_domain::{AccountId, Credentials, IntegrationId, Provider, SealContext};
use integrations_vault::{EnvelopeVault, KeyRing};
use secrecy::SecretString;
use std::hint::black_box;

/// A ring of two keys: 1 (old) and 2 (active).
fn two_key_ring(active: u32) -> KeyRing {
    let text = format!(
        "1:{}\n2:{}\nactive:{active}\n",
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
    );
    KeyRing::from_text(&SecretString::from(text)).unwrap()
}

fn benches(c: &mut Criterion) {
    // S3: the largest secret set of the eight providers (access key id and secret).
    let credentials = Credentials::parse(
        Provider::S3,
        &sample_input(Provider::S3),
        SealedDefaults::None,
    )
    .unwrap();
    let fields = credentials.secret_fields();
    let context = SealContext {
        account_id: AccountId::new(),
        integration_id: IntegrationId::new(),
        provider: Provider::S3,
    };
    let vault = EnvelopeVault::new(two_key_ring(2));

    let mut group = c.benchmark_group("vault");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal+open one credential", |b| {
        b.iter(|| {
            let sealed = vault
                .seal_secrets(black_box(&context), black_box(&fields))
                .unwrap();
            black_box(vault.open_secrets(&context, &sealed).unwrap())
        })
    });
    group.bench_function("seal one credential", |b| {
        b.iter(|| {
            black_box(
                vault
                    .seal_secrets(black_box(&context), black_box(&fields))
                    .unwrap(),
            )
        })
    });
    let sealed = vault.seal_secrets(&context, &fields).unwrap();
    group.bench_function("open one credential", |b| {
        b.iter(|| {
            black_box(
                vault
                    .open_secrets(black_box(&context), black_box(&sealed))
                    .unwrap(),
            )
        })
    });
    // Rewrap: a blob under key 1 re-wrapped to key 2 (the data key only; no payload decrypted).
    let old = EnvelopeVault::new(two_key_ring(1))
        .seal_secrets(&context, &fields)
        .unwrap();
    group.bench_function("rewrap one data key", |b| {
        b.iter(|| black_box(vault.rewrap(black_box(&context), black_box(&old)).unwrap()))
    });
    group.finish();
}

criterion_group!(vault, benches);
criterion_main!(vault);
