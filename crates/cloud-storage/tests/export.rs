//! Export (`ObjectStore`) end to end: against s3s-fs, a real S3-compatible server that checks
//! SigV4 signatures (objects read back with GetObject and from its data directory), and,
//! where s3s-fs cannot show it (throttling, deadlines, what goes over the wire, the bucket
//! cache), against a scripted local HTTP server.

// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use futures_util::StreamExt;
use integrations_cloud_storage::testing::S3sFs;
use integrations_cloud_storage::StorageVerifier;
use integrations_domain::credentials::SealedDefaults;
use integrations_domain::transfer::{BodyError, ByteStream, ContentType, ObjectWrite};
use integrations_domain::{
    Credentials, CredentialsInput, FailureReason, ObjectStore, Provider, VerificationFailure,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const S3_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const R2_KEY: &str = "0123456789abcdef0123456789abcdef";
const R2_SECRET: &str = "3f5c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7";
const R2_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const BUCKET: &str = "examplebucket";
const WRONG_SECRET: &str = "wrong-secret-0123456789";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Both providers pointed at `url`, private networks allowed (the server is on loopback).
fn local(url: &str) -> integrations_cloud_storage::ProvidersConfig {
    integrations_cloud_storage::ProvidersConfig {
        allow_private_networks: true,
        ..Default::default()
    }
    .with("s3", "base_url", url)
    .with("r2", "base_url", url)
}

fn store(url: &str, timeout: Duration) -> StorageVerifier {
    StorageVerifier::new(timeout, &local(url)).unwrap()
}

fn s3(bucket: &str, key: &str, secret: &str) -> Credentials {
    let input = CredentialsInput::new()
        .with("bucket", bucket)
        .with("accessKeyId", key)
        .with("secretAccessKey", secret)
        .with("region", "us-east-1");
    Credentials::parse(Provider::S3, &input, SealedDefaults::None).unwrap()
}

fn r2(bucket: &str) -> Credentials {
    let input = CredentialsInput::new()
        .with("bucket", bucket)
        .with("accessKeyId", R2_KEY)
        .with("secretAccessKey", R2_SECRET)
        .with("accountId", R2_ACCOUNT)
        .with("jurisdiction", "eu");
    Credentials::parse(Provider::R2, &input, SealedDefaults::None).unwrap()
}

/// `len` bytes that start with the magic number of `content_type`.
fn image(content_type: ContentType, len: usize) -> Vec<u8> {
    let magic: &[u8] = match content_type {
        ContentType::Png => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        ContentType::Jpeg => &[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F'],
        _ => b"",
    };
    let mut out = magic.to_vec();
    let mut x: u32 = 0x1234_5678;
    while out.len() < len {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.push((x >> 24) as u8);
    }
    out.truncate(len);
    out
}

/// `data` as a stream of `chunk`-byte pieces.
fn body(data: &[u8], chunk: usize) -> ByteStream {
    let pieces: Vec<Result<Bytes, BodyError>> = data
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures_util::stream::iter(pieces))
}

/// The first `sent` bytes of `data`, then (after a pause, so they reach the server) an error.
fn breaking_body(data: &[u8], sent: usize, pause: Duration) -> ByteStream {
    let first = Bytes::copy_from_slice(&data[..sent]);
    let steps = futures_util::stream::iter([Some(first), None]);
    Box::pin(steps.then(move |step| async move {
        match step {
            Some(bytes) => Ok(bytes),
            None => {
                tokio::time::sleep(pause).await;
                Err(BodyError("the client went away".into()))
            }
        }
    }))
}

fn write(key: &str, content_type: ContentType, data: &[u8], chunk: usize) -> ObjectWrite {
    ObjectWrite {
        key: key.to_owned(),
        content_type,
        length: data.len() as u64,
        body: body(data, chunk),
        presign: None,
    }
}

/// A plain SDK client on s3s-fs, to read back what the adapter wrote.
fn sdk(server: &S3sFs, key: &str, secret: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The object's bytes and content type through GetObject.
async fn get(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<(Vec<u8>, String)> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let content_type = out.content_type().unwrap_or_default().to_owned();
    let bytes = out.body.collect().await.unwrap().into_bytes().to_vec();
    Some((bytes, content_type))
}

async fn list_keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = client
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// Every file below `dir` (s3s-fs keeps objects as files, metadata and temporary files at
/// the top of its data directory).
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
    out.sort();
    out
}

/// s3s-fs's temporary upload files (`.tmp.N.internal.part`).
fn temp_files(server: &S3sFs) -> Vec<PathBuf> {
    files(server.data_dir())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".tmp."))
        })
        .collect()
}

/// Waits (bounded) until s3s-fs has noticed an aborted upload and removed its temporary file.
async fn no_temp_files_left(server: &S3sFs) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !temp_files(server).is_empty() {
        assert!(
            Instant::now() < deadline,
            "temporary files left: {:?}",
            temp_files(server)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_no_secret(f: &VerificationFailure) {
    for secret in [S3_SECRET, R2_SECRET, WRONG_SECRET, S3_KEY, R2_KEY] {
        assert!(
            !f.message.contains(secret),
            "secret or key id in: {}",
            f.message
        );
    }
}

// ---------------------------------------------------------------------------------------
// Against s3s-fs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn png_and_jpeg_to_s3_and_r2_are_stored_with_their_content_type() {
    for (provider, key_id, secret) in [
        (Provider::S3, S3_KEY, S3_SECRET),
        (Provider::R2, R2_KEY, R2_SECRET),
    ] {
        let server = S3sFs::start(key_id, secret);
        let bucket_dir = server.create_bucket(BUCKET);
        let credentials = match provider {
            Provider::S3 => s3(BUCKET, S3_KEY, S3_SECRET),
            _ => r2(BUCKET),
        };
        let store = store(&server.endpoint(), Duration::from_secs(20));
        let reader = sdk(&server, key_id, secret);
        for (content_type, key, len) in [
            (ContentType::Png, "screenshots/a.png", 48_213),
            (ContentType::Jpeg, "screenshots/b.jpg", 7_001),
        ] {
            let data = image(content_type, len);

            let stored = store
                .put(&credentials, write(key, content_type, &data, 4096))
                .await
                .unwrap();

            assert_eq!(stored.bucket, BUCKET);
            assert_eq!(stored.key, key);
            assert_eq!(stored.size, len as u64);
            assert_eq!(stored.content_type, content_type);
            assert_eq!(stored.url, format!("{}/{BUCKET}/{key}", server.endpoint()));
            assert_eq!(stored.presigned, None);
            assert!(
                stored.etag.len() == 34
                    && stored.etag.starts_with('"')
                    && stored.etag.ends_with('"'),
                "{}",
                stored.etag
            );
            let (bytes, served_type) = get(&reader, BUCKET, key).await.unwrap();
            assert_eq!(bytes, data, "{provider:?} {key}");
            assert_eq!(served_type, content_type.as_str());
            let head = reader
                .head_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .unwrap();
            assert_eq!(head.e_tag(), Some(stored.etag.as_str()));
            assert_eq!(std::fs::read(bucket_dir.join(key)).unwrap(), data);
        }
    }
}

#[tokio::test]
async fn five_mib_in_small_chunks_is_streamed_not_buffered() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let data = image(ContentType::Png, 5 << 20);

    // The body hands over the first MiB, then waits until s3s-fs has written half of it to
    // its temporary file before giving the rest: an adapter that collected the body before
    // sending would never get there (and the body reports the failure after 15 s).
    let data_dir = server.data_dir().to_path_buf();
    let first = Bytes::copy_from_slice(&data[..1 << 20]);
    let rest: Vec<Bytes> = data[1 << 20..]
        .chunks(1000)
        .map(Bytes::copy_from_slice)
        .collect();
    let seen_on_server = Arc::new(Mutex::new(false));
    let seen = seen_on_server.clone();
    let gate = futures_util::stream::once(async move {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let written: u64 = std::fs::read_dir(&data_dir)
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp."))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum();
            if written >= 512 << 10 {
                *seen.lock().unwrap() = true;
                return None;
            }
            if Instant::now() > deadline {
                return Some(Err(BodyError(
                    "the first MiB never reached the server".into(),
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .filter_map(|x| async move { x });
    let stream = futures_util::stream::once(async move { Ok(first) })
        .chain(gate)
        .chain(futures_util::stream::iter(rest.into_iter().map(Ok)));
    let object = ObjectWrite {
        key: "big/five.png".into(),
        content_type: ContentType::Png,
        length: data.len() as u64,
        body: Box::pin(stream),
        presign: None,
    };

    let stored = store(&server.endpoint(), Duration::from_secs(20))
        .put(&s3(BUCKET, S3_KEY, S3_SECRET), object)
        .await
        .unwrap();

    assert!(*seen_on_server.lock().unwrap());
    assert_eq!(stored.size, 5 << 20);
    assert_eq!(
        std::fs::read(bucket_dir.join("big/five.png")).unwrap(),
        data
    );
}

#[tokio::test]
async fn keys_with_segments_and_non_ascii_characters() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let key = "screenshots/2024/été/日本 a+b (1).png";
    let data = image(ContentType::Png, 1000);

    let mut object = write(key, ContentType::Png, &data, 100);
    object.presign = Some(Duration::from_secs(60));
    let stored = store(&server.endpoint(), Duration::from_secs(20))
        .put(&s3(BUCKET, S3_KEY, S3_SECRET), object)
        .await
        .unwrap();

    assert_eq!(stored.key, key);
    assert_eq!(
        stored.url,
        format!(
            "{}/{BUCKET}/screenshots/2024/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC%20a%2Bb%20%281%29.png",
            server.endpoint()
        )
    );
    assert_eq!(std::fs::read(bucket_dir.join(key)).unwrap(), data);
    let (bytes, _) = get(&sdk(&server, S3_KEY, S3_SECRET), BUCKET, key)
        .await
        .unwrap();
    assert_eq!(bytes, data);
    // The presigned URL of such a key works too.
    let presigned = stored.presigned.unwrap();
    let response = reqwest::get(&presigned.url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap(), data);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_credentials_and_writes_nothing() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let data = image(ContentType::Png, 70_000);

    let failure = store(&server.endpoint(), Duration::from_secs(20))
        .put(
            &s3(BUCKET, S3_KEY, WRONG_SECRET),
            write("a.png", ContentType::Png, &data, 8192),
        )
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
    assert!(files(&bucket_dir).is_empty(), "{:?}", files(&bucket_dir));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_at_the_write_even_when_the_bucket_check_is_cached() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let store = store(&server.endpoint(), Duration::from_secs(20));
    let data = image(ContentType::Png, 100);
    store
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            write("ok.png", ContentType::Png, &data, 10),
        )
        .await
        .unwrap();

    // Same endpoint, bucket and key id: the bucket check is answered from the cache.
    let failure = store
        .put(
            &s3(BUCKET, S3_KEY, WRONG_SECRET),
            write("evil.png", ContentType::Png, &data, 10),
        )
        .await
        .unwrap_err();

    assert_eq!(
        failure.reason,
        FailureReason::InvalidCredentials,
        "{failure}"
    );
    // A large body: the server refuses at the headers while the body is still being sent,
    // and the answer is still the refusal (not a broken connection).
    let big = image(ContentType::Png, 8 << 20);
    let failure = store
        .put(
            &s3(BUCKET, S3_KEY, WRONG_SECRET),
            write("evil.png", ContentType::Png, &big, 65536),
        )
        .await
        .unwrap_err();
    assert_eq!(
        failure.reason,
        FailureReason::InvalidCredentials,
        "{failure}"
    );
    no_temp_files_left(&server).await;
    assert_eq!(files(&bucket_dir), vec![bucket_dir.join("ok.png")]);
}

#[tokio::test]
async fn a_missing_bucket_is_not_found_and_not_created() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let store = store(&server.endpoint(), Duration::from_secs(20));
    let data = image(ContentType::Png, 100);

    let failure = store
        .put(
            &s3("no-such-bucket", S3_KEY, S3_SECRET),
            write("a.png", ContentType::Png, &data, 10),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");
    assert_eq!(failure.message, "The specified bucket does not exist.");

    let failure = store
        .delete(&s3("no-such-bucket", S3_KEY, S3_SECRET), "a.png")
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");

    assert!(!server.data_dir().join("no-such-bucket").exists());
    assert!(
        files(server.data_dir()).is_empty(),
        "{:?}",
        files(server.data_dir())
    );

    let server = S3sFs::start(R2_KEY, R2_SECRET);
    let failure = store_at(&server)
        .put(
            &r2("no-such-bucket"),
            write("a.png", ContentType::Png, &data, 10),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");
    assert!(failure.message.contains("jurisdiction"), "{failure}");
    assert!(std::fs::read_dir(server.data_dir())
        .unwrap()
        .next()
        .is_none());
}

fn store_at(server: &S3sFs) -> StorageVerifier {
    store(&server.endpoint(), Duration::from_secs(20))
}

#[tokio::test]
async fn a_body_that_breaks_off_half_way_leaves_no_object() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let store = store(&server.endpoint(), Duration::from_secs(20));
    let reader = sdk(&server, S3_KEY, S3_SECRET);
    let data = image(ContentType::Png, 2 << 20);

    let failure = store
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            ObjectWrite {
                key: "half.png".into(),
                content_type: ContentType::Png,
                length: data.len() as u64,
                body: breaking_body(&data, 1 << 20, Duration::from_millis(300)),
                presign: None,
            },
        )
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::ProviderError, "{failure}");
    assert!(
        failure.message.contains("the client went away"),
        "{failure}"
    );
    assert!(failure.message.contains("nothing was stored"), "{failure}");
    no_temp_files_left(&server).await;
    assert!(files(&bucket_dir).is_empty(), "{:?}", files(&bucket_dir));
    assert!(get(&reader, BUCKET, "half.png").await.is_none());
    assert!(list_keys(&reader, BUCKET).await.is_empty());
}

#[tokio::test]
async fn a_failed_overwrite_keeps_the_previous_object_whole() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    server.create_bucket(BUCKET);
    let store = store(&server.endpoint(), Duration::from_secs(20));
    let reader = sdk(&server, S3_KEY, S3_SECRET);
    let old = image(ContentType::Jpeg, 300_000);
    store
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            write("same.jpg", ContentType::Jpeg, &old, 65536),
        )
        .await
        .unwrap();

    let new = image(ContentType::Png, 2 << 20);
    let failure = store
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            ObjectWrite {
                key: "same.jpg".into(),
                content_type: ContentType::Png,
                length: new.len() as u64,
                body: breaking_body(&new, 1 << 20, Duration::from_millis(300)),
                presign: None,
            },
        )
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::ProviderError, "{failure}");
    no_temp_files_left(&server).await;
    let (bytes, content_type) = get(&reader, BUCKET, "same.jpg").await.unwrap();
    assert_eq!(bytes, old);
    assert_eq!(content_type, "image/jpeg");
}

#[tokio::test]
async fn a_body_shorter_or_longer_than_declared_leaves_no_object() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let store = store(&server.endpoint(), Duration::from_secs(20));
    let data = image(ContentType::Png, 200_000);

    for (declared, expected) in [
        (
            300_000u64,
            "ended after 200000 of the declared 300000 bytes",
        ),
        (100_000u64, "longer than the declared 100000 bytes"),
    ] {
        let failure = store
            .put(
                &s3(BUCKET, S3_KEY, S3_SECRET),
                ObjectWrite {
                    key: "wrong-length.png".into(),
                    content_type: ContentType::Png,
                    length: declared,
                    body: body(&data, 16384),
                    presign: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(failure.reason, FailureReason::ProviderError, "{failure}");
        assert!(failure.message.contains(expected), "{failure}");
    }
    no_temp_files_left(&server).await;
    assert!(files(&bucket_dir).is_empty(), "{:?}", files(&bucket_dir));
}

#[tokio::test]
async fn a_presigned_get_returns_the_bytes_and_a_tampered_one_is_refused() {
    let server = S3sFs::start(R2_KEY, R2_SECRET);
    server.create_bucket(BUCKET);
    let data = image(ContentType::Png, 10_000);
    let mut object = write("shared/p.png", ContentType::Png, &data, 1000);
    object.presign = Some(Duration::from_secs(300));

    let before = OffsetDateTime::now_utc();
    let stored = store(&server.endpoint(), Duration::from_secs(20))
        .put(&r2(BUCKET), object)
        .await
        .unwrap();
    let after = OffsetDateTime::now_utc();

    let presigned = stored.presigned.unwrap();
    assert!(presigned.expires_at >= before + Duration::from_secs(300));
    assert!(presigned.expires_at <= after + Duration::from_secs(300));
    assert!(presigned
        .url
        .starts_with(&format!("{}/{BUCKET}/shared/p.png?", server.endpoint())));
    assert!(
        presigned.url.contains("X-Amz-Expires=300"),
        "{}",
        presigned.url
    );
    assert!(!presigned.url.contains(R2_SECRET));

    let response = reqwest::get(&presigned.url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap(),
        "image/png"
    );
    assert_eq!(response.bytes().await.unwrap(), data);

    // Change one hex digit of the signature.
    let at = presigned.url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = presigned.url.clone().into_bytes();
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let response = reqwest::get(&tampered).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_ne!(response.bytes().await.unwrap(), data);
}

#[tokio::test]
async fn delete_removes_the_object_and_succeeds_for_a_missing_one() {
    let server = S3sFs::start(S3_KEY, S3_SECRET);
    let bucket_dir = server.create_bucket(BUCKET);
    let store = store(&server.endpoint(), Duration::from_secs(20));
    let credentials = s3(BUCKET, S3_KEY, S3_SECRET);
    let data = image(ContentType::Png, 500);
    store
        .put(&credentials, write("d/x.png", ContentType::Png, &data, 100))
        .await
        .unwrap();
    assert!(bucket_dir.join("d/x.png").is_file());

    let deleted = store.delete(&credentials, "d/x.png").await.unwrap();
    assert_eq!(deleted.bucket, BUCKET);
    assert_eq!(deleted.key, "d/x.png");
    assert!(!bucket_dir.join("d/x.png").exists());
    assert!(get(&sdk(&server, S3_KEY, S3_SECRET), BUCKET, "d/x.png")
        .await
        .is_none());

    let again = store.delete(&credentials, "d/x.png").await.unwrap();
    assert_eq!(again.key, "d/x.png");
    store.delete(&credentials, "never/was.png").await.unwrap();

    let failure = store
        .delete(&s3(BUCKET, S3_KEY, WRONG_SECRET), "d/x.png")
        .await
        .unwrap_err();
    assert_eq!(
        failure.reason,
        FailureReason::InvalidCredentials,
        "{failure}"
    );
}

#[tokio::test]
async fn help_center_credentials_are_refused() {
    let input = CredentialsInput::new()
        .with("subdomain", "acme")
        .with("apiKey", "k-0123456789");
    let credentials =
        Credentials::parse(Provider::Freshdesk, &input, SealedDefaults::None).unwrap();
    let store = store("http://127.0.0.1:9", Duration::from_secs(1));
    let data = image(ContentType::Png, 10);
    let failure = store
        .put(&credentials, write("a.png", ContentType::Png, &data, 10))
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::ProviderError, "{failure}");
    assert!(failure.message.contains("freshdesk"), "{failure}");
}

// ---------------------------------------------------------------------------------------
// Against a scripted server: what goes over the wire, throttling, deadlines, the cache
// ---------------------------------------------------------------------------------------

/// A request as the scripted server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    /// Body bytes received.
    received: usize,
    /// Whether the body arrived whole (`Content-Length` bytes) before the client stopped.
    complete: bool,
}

enum Action {
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Take the request and never answer.
    Hang,
    /// Reset the connection as soon as the headers are in, without reading the body: what
    /// the client sees when a server refuses a request at its headers and closes, and the
    /// reset overtakes its answer.
    ResetAtHeaders,
}

fn reply(status: u16, body: &str) -> Action {
    Action::Reply {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
    }
}

fn error_body(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"
    )
}

const LIST_OK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>examplebucket</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>";

fn happy(seen: &Seen) -> Action {
    match seen.method.as_str() {
        "GET" => reply(200, LIST_OK),
        "PUT" => Action::Reply {
            status: 200,
            headers: vec![("ETag", "\"0123456789abcdef0123456789abcdef\"".into())],
            body: String::new(),
        },
        "DELETE" => reply(204, ""),
        _ => reply(405, ""),
    }
}

type Handler = dyn Fn(&Seen) -> Action + Send + Sync;

struct Scripted {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    async fn start(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, handler.clone(), log.clone()));
            }
        });
        Scripted { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn methods(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.method).collect()
    }
}

/// One request per connection (`Connection: close`). The handler decides from the method,
/// path and headers. A body that stops short is logged as incomplete and not answered.
async fn serve(mut stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut seen = Seen {
        method,
        path,
        headers,
        received: buf.len() - head_end,
        complete: false,
    };
    let action = handler(&seen);
    if let Action::ResetAtHeaders = action {
        log.lock().unwrap().push(seen.clone());
        let _ = stream.set_zero_linger();
        return;
    }
    while seen.received < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.received += n,
        }
    }
    seen.complete = seen.received >= length;
    log.lock().unwrap().push(seen.clone());
    if !seen.complete {
        return;
    }
    match action {
        Action::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
        Action::ResetAtHeaders => {}
        Action::Reply {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\nx-amz-request-id: 4442587FB7D0A2F9\r\n",
                body.len()
            );
            if !body.is_empty() {
                out.push_str("Content-Type: application/xml\r\n");
            }
            for (name, value) in headers {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = stream.write_all(out.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    }
}

const GENEROUS: Duration = Duration::from_secs(10);

#[tokio::test]
async fn one_unsigned_streamed_put_with_length_and_type_after_one_bucket_check() {
    let server = Scripted::start(happy).await;
    let data = image(ContentType::Jpeg, 300_000);

    let stored = store(&server.url(), GENEROUS)
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            write("a/b.jpg", ContentType::Jpeg, &data, 7000),
        )
        .await
        .unwrap();

    assert_eq!(stored.etag, "\"0123456789abcdef0123456789abcdef\"");
    assert_eq!(server.methods(), ["GET", "PUT"]);
    let put = &server.seen()[1];
    assert_eq!(put.path, format!("/{BUCKET}/a/b.jpg"));
    assert_eq!(put.headers["content-length"], "300000");
    assert_eq!(put.headers["content-type"], "image/jpeg");
    assert_eq!(put.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    assert!(put.headers["authorization"].starts_with("AWS4-HMAC-SHA256 Credential="));
    assert!(!put.headers.contains_key("transfer-encoding"), "{put:?}");
    assert!(
        !put.headers.contains_key("content-encoding"),
        "no aws-chunked: {put:?}"
    );
    assert_eq!(put.received, data.len());
}

#[tokio::test]
async fn a_positive_bucket_check_is_cached_a_negative_one_never() {
    let server = Scripted::start(happy).await;
    let store = store(&server.url(), GENEROUS);
    let data = image(ContentType::Png, 10);
    for key in ["1.png", "2.png"] {
        store
            .put(
                &s3(BUCKET, S3_KEY, S3_SECRET),
                write(key, ContentType::Png, &data, 10),
            )
            .await
            .unwrap();
    }
    store
        .delete(&s3(BUCKET, S3_KEY, S3_SECRET), "1.png")
        .await
        .unwrap();
    assert_eq!(server.methods(), ["GET", "PUT", "PUT", "DELETE"]);
    // Another key id is another check.
    store
        .put(
            &s3(BUCKET, "AKIAOTHERKEY0000WXYZ", S3_SECRET),
            write("3.png", ContentType::Png, &data, 10),
        )
        .await
        .unwrap();
    assert_eq!(
        server.methods(),
        ["GET", "PUT", "PUT", "DELETE", "GET", "PUT"]
    );

    let missing = Scripted::start(|_: &Seen| {
        reply(
            404,
            &error_body("NoSuchBucket", "The specified bucket does not exist"),
        )
    })
    .await;
    let store = store_for(&missing);
    for _ in 0..2 {
        let f = store
            .put(
                &s3(BUCKET, S3_KEY, S3_SECRET),
                write("a.png", ContentType::Png, &data, 10),
            )
            .await
            .unwrap_err();
        assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    }
    assert_eq!(
        missing.methods(),
        ["GET", "GET"],
        "never a PUT, never cached"
    );
}

fn store_for(server: &Scripted) -> StorageVerifier {
    store(&server.url(), GENEROUS)
}

#[tokio::test]
async fn a_put_that_finds_the_bucket_gone_forgets_it() {
    let puts = Arc::new(Mutex::new(0));
    let count = puts.clone();
    let server = Scripted::start(move |seen: &Seen| match seen.method.as_str() {
        "PUT" => {
            *count.lock().unwrap() += 1;
            reply(
                404,
                &error_body("NoSuchBucket", "The specified bucket does not exist"),
            )
        }
        _ => happy(seen),
    })
    .await;
    let store = store_for(&server);
    let data = image(ContentType::Png, 10);
    for _ in 0..2 {
        let f = store
            .put(
                &s3(BUCKET, S3_KEY, S3_SECRET),
                write("a.png", ContentType::Png, &data, 10),
            )
            .await
            .unwrap_err();
        assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    }
    assert_eq!(server.methods(), ["GET", "PUT", "GET", "PUT"]);
}

#[tokio::test]
async fn throttling_is_rate_limited_with_the_providers_wait_and_never_retried() {
    for (status, code, retry_after, expected) in [
        (503, "SlowDown", Some("7"), 7),
        (503, "SlowDown", None, 60),
        (429, "TooManyRequests", Some("120"), 120),
    ] {
        let server = Scripted::start(move |seen: &Seen| match seen.method.as_str() {
            "PUT" => Action::Reply {
                status,
                headers: retry_after
                    .map(|v| vec![("Retry-After", v.to_owned())])
                    .unwrap_or_default(),
                body: error_body(code, "Please reduce your request rate."),
            },
            _ => happy(seen),
        })
        .await;
        let data = image(ContentType::Png, 1000);

        let failure = store_for(&server)
            .put(&r2(BUCKET), write("a.png", ContentType::Png, &data, 100))
            .await
            .unwrap_err();

        assert_eq!(failure.reason, FailureReason::RateLimited, "{failure}");
        assert_eq!(failure.retry_after_secs, Some(expected), "{failure}");
        assert_eq!(server.methods(), ["GET", "PUT"], "the put is not retried");
    }
}

#[tokio::test]
async fn refusals_are_mapped_as_in_verification() {
    for (status, code, reason, needle) in [
        (
            403,
            "AccessDenied",
            FailureReason::InsufficientPermissions,
            "s3:PutObject",
        ),
        (
            403,
            "InvalidAccessKeyId",
            FailureReason::InvalidCredentials,
            "****MPLE",
        ),
        (
            500,
            "InternalError",
            FailureReason::ProviderError,
            "HTTP 500 InternalError",
        ),
    ] {
        let server = Scripted::start(move |seen: &Seen| match seen.method.as_str() {
            "PUT" | "DELETE" => reply(status, &error_body(code, "refused")),
            _ => happy(seen),
        })
        .await;
        let store = store_for(&server);
        let data = image(ContentType::Png, 1000);
        let f = store
            .put(
                &s3(BUCKET, S3_KEY, S3_SECRET),
                write("a.png", ContentType::Png, &data, 100),
            )
            .await
            .unwrap_err();
        assert_eq!(f.reason, reason, "{f}");
        assert!(f.message.contains(needle), "{f}");
        assert_no_secret(&f);
        let f = store
            .delete(&s3(BUCKET, S3_KEY, S3_SECRET), "a.png")
            .await
            .unwrap_err();
        assert_eq!(f.reason, reason, "{f}");
        if reason == FailureReason::InsufficientPermissions {
            assert!(f.message.contains("s3:DeleteObject"), "{f}");
        }
        let puts = server.methods().iter().filter(|m| *m == "PUT").count();
        assert_eq!(puts, 1, "a put is never retried, not even after a 500");
    }
}

#[tokio::test]
async fn a_provider_that_never_answers_hits_the_deadline() {
    let server = Scripted::start(|seen: &Seen| match seen.method.as_str() {
        "PUT" => Action::Hang,
        _ => happy(seen),
    })
    .await;
    let data = image(ContentType::Png, 1000);

    let started = Instant::now();
    let failure = store(&server.url(), Duration::from_millis(500))
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            write("slow.png", ContentType::Png, &data, 100),
        )
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::Timeout, "{failure}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(failure.message.contains("within 500 ms"), "{failure}");
    assert!(
        failure.message.contains("1000 of 1000 bytes sent"),
        "{failure}"
    );
}

#[tokio::test]
async fn a_body_that_stalls_hits_the_deadline_and_the_request_stays_incomplete() {
    let server = Scripted::start(happy).await;
    let data = image(ContentType::Png, 3 << 20);
    // The first MiB, then nothing for longer than the deadline (0.3 s + 3 s for 3 MiB).
    let first = Bytes::copy_from_slice(&data[..1 << 20]);
    let stalled = futures_util::stream::once(async move { Ok(first) }).chain(
        futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Bytes::new())
        }),
    );
    let object = ObjectWrite {
        key: "stalled.png".into(),
        content_type: ContentType::Png,
        length: data.len() as u64,
        body: Box::pin(stalled),
        presign: None,
    };

    let started = Instant::now();
    let failure = store(&server.url(), Duration::from_millis(300))
        .put(&s3(BUCKET, S3_KEY, S3_SECRET), object)
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::Timeout, "{failure}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(3300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert!(failure.message.contains("within 3300 ms"), "{failure}");
    assert!(failure.message.contains("Nothing was stored"), "{failure}");
    // The connection was closed mid-body: the provider never got a complete request.
    let deadline = Instant::now() + Duration::from_secs(5);
    let put = loop {
        if let Some(p) = server.seen().into_iter().find(|s| s.method == "PUT") {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the server never saw the put end"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!put.complete, "{put:?}");
    assert_eq!(put.received, 1 << 20);
}

#[tokio::test]
async fn a_broken_body_never_completes_the_request_on_the_wire() {
    let server = Scripted::start(happy).await;
    let data = image(ContentType::Png, 1 << 20);

    let failure = store_for(&server)
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            ObjectWrite {
                key: "broken.png".into(),
                content_type: ContentType::Png,
                length: data.len() as u64,
                body: breaking_body(&data, 300_000, Duration::from_millis(100)),
                presign: None,
            },
        )
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::ProviderError, "{failure}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let put = loop {
        if let Some(p) = server.seen().into_iter().find(|s| s.method == "PUT") {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the server never saw the put end"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!put.complete, "{put:?}");
    assert_eq!(put.received, 300_000);
}

#[tokio::test]
async fn the_url_names_the_configured_origin_path_style() {
    let server = Scripted::start(happy).await;
    let data = image(ContentType::Png, 10);
    let stored = store_for(&server)
        .put(&r2(BUCKET), write("x y/ü.png", ContentType::Png, &data, 10))
        .await
        .unwrap();
    assert_eq!(
        stored.url,
        format!("{}/{BUCKET}/x%20y/%C3%BC.png", server.url())
    );
    assert_eq!(server.seen()[1].path, format!("/{BUCKET}/x%20y/%C3%BC.png"));
}

// ---------------------------------------------------------------------------------------
// No credential in any log line
// ---------------------------------------------------------------------------------------

/// The SDK's own targets that print credential material at DEBUG/TRACE (its `Credentials`,
/// SigV4 canonical requests); the server caps them at INFO (crates/server/src/telemetry.rs).
/// `LOG_CAPS` may be set to `none` to see what they print uncapped.
const CAPPED_AT_INFO: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_s3",
    "aws_sigv4",
    "aws_credential_types",
];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_key_id_or_secret_reaches_a_log_line_at_trace() {
    use integrations_domain::ConnectionVerifier;
    let mut directives = "trace".to_owned();
    if std::env::var("LOG_CAPS").as_deref() != Ok("none") {
        for target in CAPPED_AT_INFO {
            directives.push_str(&format!(",{target}=info"));
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(directives))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = S3sFs::start(S3_KEY, S3_SECRET);
    server.create_bucket(BUCKET);
    let store = store_at(&server);
    let good = s3(BUCKET, S3_KEY, S3_SECRET);
    let data = image(ContentType::Png, 100_000);
    let mut object = write("logged.png", ContentType::Png, &data, 8192);
    object.presign = Some(Duration::from_secs(60));
    let stored = store.put(&good, object).await.unwrap();
    let f = store
        .put(
            &s3(BUCKET, S3_KEY, WRONG_SECRET),
            write("x.png", ContentType::Png, &data, 8192),
        )
        .await
        .unwrap_err();
    assert_eq!(f.reason, FailureReason::InvalidCredentials);
    store
        .put(
            &s3("missing", S3_KEY, S3_SECRET),
            write("x.png", ContentType::Png, &data, 8192),
        )
        .await
        .unwrap_err();
    store.delete(&good, "logged.png").await.unwrap();
    store.verify(&good).await.unwrap();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    if std::env::var("LOG_DUMP").is_ok() {
        println!("{log}");
    }
    assert!(log.contains("object exported"), "{log}");
    assert!(log.contains("export failed"), "{log}");
    let signature = stored.presigned.unwrap().url;
    let signature = signature.split("X-Amz-Signature=").nth(1).unwrap();
    for secret in [S3_KEY, S3_SECRET, WRONG_SECRET, signature] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(secret)).collect();
        assert!(lines.is_empty(), "{secret} logged in: {lines:#?}");
    }
}

#[tokio::test]
async fn a_write_cut_off_by_the_provider_is_told_apart_from_a_bad_key() {
    // The key may list the bucket; the write is cut off mid-body without an answer: the
    // bucket check runs again (uncached), passes, and the message says what to check.
    let server = Scripted::start(|seen: &Seen| match seen.method.as_str() {
        "PUT" => Action::ResetAtHeaders,
        _ => happy(seen),
    })
    .await;
    let data = image(ContentType::Png, 8 << 20);

    let failure = store_for(&server)
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            write("big.png", ContentType::Png, &data, 65536),
        )
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::Unreachable, "{failure}");
    assert!(failure.message.contains("s3:PutObject"), "{failure}");
    assert!(failure.message.contains("nothing was stored"), "{failure}");
    assert!(failure.message.contains("****MPLE"), "{failure}");
    assert_no_secret(&failure);
    assert_eq!(
        server.methods(),
        ["GET", "PUT", "GET"],
        "the bucket check ran again"
    );

    // When the repeated check fails, its cause is the answer.
    let gone = Arc::new(Mutex::new(false));
    let flag = gone.clone();
    let server = Scripted::start(move |seen: &Seen| match seen.method.as_str() {
        "PUT" => {
            *flag.lock().unwrap() = true;
            Action::ResetAtHeaders
        }
        "GET" if *flag.lock().unwrap() => reply(
            403,
            &error_body(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
        ),
        _ => happy(seen),
    })
    .await;
    let failure = store_for(&server)
        .put(
            &s3(BUCKET, S3_KEY, S3_SECRET),
            write("big.png", ContentType::Png, &data, 65536),
        )
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
}
