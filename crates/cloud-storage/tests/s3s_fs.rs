//! End-to-end: the verifier against s3s-fs, a real S3-compatible server that checks SigV4
//! signatures. Each test starts its own server on a free port.

// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use integrations_cloud_storage::testing::S3sFs;
use integrations_cloud_storage::StorageVerifier;
use integrations_domain::credentials::SealedDefaults;
use integrations_domain::{
    ConnectionVerifier, Credentials, CredentialsInput, FailureReason, Platform, Provider,
    VerificationFailure,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

const S3_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const R2_KEY: &str = "0123456789abcdef0123456789abcdef";
const R2_SECRET: &str = "3f5c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7";
const R2_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const BUCKET: &str = "examplebucket";

/// Both providers pointed at `url`, private networks allowed (the server is on loopback).
fn local(url: &str) -> integrations_cloud_storage::ProvidersConfig {
    integrations_cloud_storage::ProvidersConfig {
        allow_private_networks: true,
        ..Default::default()
    }
    .with("s3", "base_url", url)
    .with("r2", "base_url", url)
}

fn verifier(server: &S3sFs) -> StorageVerifier {
    // No placeholder in r2.base_url: every account and jurisdiction goes to the test server.
    StorageVerifier::new(Duration::from_secs(20), &local(&server.endpoint())).unwrap()
}

fn s3(bucket: &str, key: &str, secret: &str, region: Option<&str>) -> Credentials {
    let mut input = CredentialsInput::new()
        .with("bucket", bucket)
        .with("accessKeyId", key)
        .with("secretAccessKey", secret);
    if let Some(region) = region {
        input = input.with("region", region);
    }
    Credentials::parse(Provider::S3, &input, SealedDefaults::None).unwrap()
}

fn r2(bucket: &str, jurisdiction: Option<&str>) -> Credentials {
    let mut input = CredentialsInput::new()
        .with("bucket", bucket)
        .with("accessKeyId", R2_KEY)
        .with("secretAccessKey", R2_SECRET)
        .with("accountId", R2_ACCOUNT);
    if let Some(j) = jurisdiction {
        input = input.with("jurisdiction", j);
    }
    Credentials::parse(Provider::R2, &input, SealedDefaults::None).unwrap()
}

/// Every file below `dir` (s3s-fs stores objects as files).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn assert_no_secret(f: &VerificationFailure) {
    for secret in [S3_SECRET, R2_SECRET, "wrong-secret-0123456789"] {
        assert!(
            !f.message.contains(secret),
            "secret in message: {}",
            f.message
        );
    }
    assert!(
        !f.message.contains(S3_KEY),
        "full key id in message: {}",
        f.message
    );
}

#[tokio::test]
async fn valid_s3_credentials_pass_and_leave_nothing_behind() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket = server.create_bucket(BUCKET);
    std::fs::write(bucket.join("existing.txt"), b"keep me").unwrap();

    let result = verifier(&server)
        .verify(&s3(BUCKET, S3_KEY, S3_SECRET, Some("eu-west-1")))
        .await;

    assert_eq!(result, Ok(()));
    assert_eq!(files(&bucket), vec![bucket.join("existing.txt")]);
}

#[tokio::test]
async fn region_auto_passes() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket = server.create_bucket(BUCKET);

    let result = verifier(&server)
        .verify(&s3(BUCKET, S3_KEY, S3_SECRET, Some("auto")))
        .await;
    assert_eq!(result, Ok(()));
    // Absent region means auto, too.
    let result = verifier(&server)
        .verify(&s3(BUCKET, S3_KEY, S3_SECRET, None))
        .await;
    assert_eq!(result, Ok(()));
    assert!(files(&bucket).is_empty(), "{:?}", files(&bucket));
}

#[tokio::test]
async fn valid_r2_credentials_pass_and_leave_nothing_behind() {
    let server = S3sFs::start(R2_KEY, R2_SECRET);
    let bucket = server.create_bucket("r2-bucket");

    let v = verifier(&server);
    assert_eq!(v.verify(&r2("r2-bucket", None)).await, Ok(()));
    assert_eq!(v.verify(&r2("r2-bucket", Some("eu"))).await, Ok(()));
    assert!(files(&bucket).is_empty(), "{:?}", files(&bucket));
}

#[tokio::test]
async fn wrong_secret_is_invalid_credentials() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    server.create_bucket(BUCKET);

    let failure = verifier(&server)
        .verify(&s3(BUCKET, S3_KEY, "wrong-secret-0123456789", None))
        .await
        .unwrap_err();

    assert_eq!(
        failure.reason,
        FailureReason::InvalidCredentials,
        "{failure}"
    );
    assert!(
        failure.message.contains("secret access key does not match"),
        "{failure}"
    );
    assert!(failure.message.contains("****MPLE"), "{failure}");
    assert_no_secret(&failure);
}

#[tokio::test]
async fn unknown_key_is_invalid_credentials() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    server.create_bucket(BUCKET);

    let failure = verifier(&server)
        .verify(&s3(BUCKET, "AKIAUNKNOWNKEY00WXYZ", S3_SECRET, None))
        .await
        .unwrap_err();

    assert_eq!(
        failure.reason,
        FailureReason::InvalidCredentials,
        "{failure}"
    );
    assert_eq!(
        failure.message,
        "The access key id ****WXYZ is unknown to S3: check the access key id."
    );
    assert_no_secret(&failure);
}

#[tokio::test]
async fn missing_bucket_is_not_found_and_not_created() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);

    let failure = verifier(&server)
        .verify(&s3("no-such-bucket", S3_KEY, S3_SECRET, None))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");
    assert_eq!(failure.message, "The specified bucket does not exist.");
    assert!(!server.data_dir().join("no-such-bucket").exists());
    assert!(std::fs::read_dir(server.data_dir())
        .unwrap()
        .next()
        .is_none());
}

#[tokio::test]
async fn missing_r2_bucket_suggests_the_jurisdiction() {
    let server = S3sFs::start(R2_KEY, R2_SECRET);

    let failure = verifier(&server)
        .verify(&r2("no-such-bucket", None))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");
    assert!(failure
        .message
        .starts_with("The specified bucket does not exist."));
    assert!(failure.message.contains("jurisdiction"), "{failure}");
    assert!(!server.data_dir().join("no-such-bucket").exists());
}

#[tokio::test]
async fn only_cloud_is_supported() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let v = verifier(&server);
    assert!(v.supports(Platform::Cloud));
    assert!(!v.supports(Platform::Helpcenter));
}
