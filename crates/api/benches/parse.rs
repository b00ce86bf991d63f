//! Criterion bench of a request body's way into a typed command: JSON parsing into fields
//! (zeroized buffer), then the domain's validation of every field (issue 12: "body parse +
//! validation"). One valid body per platform, and an invalid one that collects every error.
//!
//! `cargo bench -p integrations-api --bench parse`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use integrations_api::parsing;
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let s3 = br#"{"label": "Dennis S3 Storage Credentials", "provider": "s3", "platform": "cloud",
        "credentials": {"bucket": "examplebucket", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "region": "auto",
        "prefix": "screenshots/"}}"#;
    let zendesk = br#"{"label": "Support", "provider": "zendesk", "platform": "helpcenter",
        "credentials": {"username": "hello@example.org", "token": "abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "subdomain": "https://example.zendesk.com"}}"#;
    let invalid = br#"{"label": "", "provider": "s3", "platform": "helpcenter",
        "credentials": {"bucket": "BAD_bucket", "accessKeyId": "short", "region": "nowhere-1",
        "unknown": "x"}, "extra": 1}"#;
    let verify = br#"{"integrationId": "55f5c789-1b87-4b82-91e5-3c3ad8b9393d",
        "credentials": {"bucket": "another-bucket"}}"#;

    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    assert!(parsing::create_body(s3).is_ok());
    assert!(parsing::create_body(zendesk).is_ok());
    assert!(parsing::create_body(invalid).is_err());
    assert!(parsing::verify_body(verify).is_ok());
    group.bench_function("create body, s3", |b| {
        b.iter(|| black_box(parsing::create_body(black_box(s3)).is_ok()))
    });
    group.bench_function("create body, zendesk", |b| {
        b.iter(|| black_box(parsing::create_body(black_box(zendesk)).is_ok()))
    });
    group.bench_function("create body, invalid (every error)", |b| {
        b.iter(|| black_box(parsing::create_body(black_box(invalid)).is_err()))
    });
    group.bench_function("verify body, by id with an override", |b| {
        b.iter(|| black_box(parsing::verify_body(black_box(verify)).is_ok()))
    });
    group.finish();
}

criterion_group!(parse, benches);
criterion_main!(parse);
