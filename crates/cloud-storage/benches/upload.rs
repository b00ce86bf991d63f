//! Benchmark: concurrent streamed uploads to s3s-fs through `ObjectStore::put` (the adapter)
//! versus the same uploads made directly with the plain aws-sdk-s3 client, in one process.
//!
//! Run (release build, a few minutes the first time):
//!
//! ```text
//! cargo bench -p integrations-cloud-storage --bench upload
//! ```
//!
//! Knobs (environment): `UPLOADS` (default 16) concurrent uploads of `MIB` MiB (default 25)
//! each, sent in `CHUNK_KIB` KiB chunks (default 64), `ROUNDS` (default 4) measured rounds
//! after one uncounted warm-up round (connections, server caches, the adapter's bucket
//! check, which it then answers from its one-minute cache); the side that goes first
//! alternates from round to round.
//!
//! What it isolates: the adapter's overhead over the bare SDK call it wraps (the bucket check,
//! the body adapter, the deadline, the URL). The server (s3s-fs, started from
//! `.tools/bin/s3s-fs`) runs as a separate process on the same cores, writing to a temporary
//! directory, and is the same for both sides. Every body is a stream of clones of one shared
//! chunk, so the process's memory shows what the upload path holds, not the test data.
//!
//! Printed per round and side: wall time, MiB/s (all bytes of all uploads over the wall
//! time), and the process's peak RSS (`VmHWM` from /proc/self/status), reset between sides
//! through /proc/self/clear_refs (`5`) so each side's peak is its own. The server-level figure
//! (through HTTP, API.md: 16 × 25 MiB under 200 MiB) is measured separately.

// A benchmark: a failure is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    StalledStreamProtectionConfig,
};
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider as TlsProvider};
use aws_smithy_types::retry::RetryConfig;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body::Frame;
use integrations_cloud_storage::testing::S3sFs;
use integrations_cloud_storage::{ProvidersConfig, StorageVerifier};
use integrations_domain::credentials::SealedDefaults;
use integrations_domain::transfer::{BodyError, ContentType, ObjectWrite};
use integrations_domain::{Credentials, CredentialsInput, ObjectStore, Provider};
use std::time::{Duration, Instant};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BUCKET: &str = "bench";

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

/// `(VmRSS, VmHWM)` of this process in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[derive(Clone, Copy)]
enum Side {
    Adapter,
    Direct,
}

struct Shape {
    uploads: usize,
    size: usize,
    chunk: Bytes,
    chunks: usize,
}

impl Shape {
    fn total_mib(&self) -> f64 {
        (self.uploads * self.size) as f64 / (1 << 20) as f64
    }
}

/// One upload's body for the adapter: `chunks` clones of the shared chunk.
fn domain_body(shape: &Shape) -> integrations_domain::transfer::ByteStream {
    Box::pin(
        futures_util::stream::repeat(shape.chunk.clone())
            .take(shape.chunks)
            .map(Ok::<_, BodyError>),
    )
}

async fn through_adapter(
    store: &StorageVerifier,
    credentials: &Credentials,
    shape: &Shape,
    round: usize,
) -> Duration {
    let started = Instant::now();
    let uploads = (0..shape.uploads).map(|i| {
        let object = ObjectWrite {
            key: format!("adapter/{round}/{i}.png"),
            content_type: ContentType::Png,
            length: shape.size as u64,
            body: domain_body(shape),
            presign: None,
        };
        store.put(credentials, object)
    });
    for result in futures_util::future::join_all(uploads).await {
        let stored = result.expect("adapter upload failed");
        assert_eq!(stored.size, shape.size as u64);
    }
    started.elapsed()
}

async fn direct(client: &aws_sdk_s3::Client, shape: &Shape, round: usize) -> Duration {
    let started = Instant::now();
    let uploads = (0..shape.uploads).map(|i| {
        let frames = futures_util::stream::repeat(shape.chunk.clone())
            .take(shape.chunks)
            .map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b)));
        let body = SdkByteStream::from_body_1_x(http_body_util::StreamBody::new(frames));
        client
            .put_object()
            .bucket(BUCKET)
            .key(format!("direct/{round}/{i}.png"))
            .content_type("image/png")
            .content_length(shape.size as i64)
            .body(body)
            .customize()
            .disable_payload_signing()
            .send()
    });
    for result in futures_util::future::join_all(uploads).await {
        result.expect("direct upload failed");
    }
    started.elapsed()
}

fn main() {
    let uploads = knob("UPLOADS", 16);
    let mib = knob("MIB", 25);
    let chunk_kib = knob("CHUNK_KIB", 64);
    let rounds = knob("ROUNDS", 4);
    let size = mib << 20;
    let chunk_len = chunk_kib << 10;
    assert!(
        size.is_multiple_of(chunk_len),
        "MIB must be a multiple of CHUNK_KIB"
    );
    let mut chunk = vec![0u8; chunk_len];
    chunk[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    for (i, b) in chunk.iter_mut().enumerate().skip(8) {
        *b = (i.wrapping_mul(2_654_435_761) >> 13) as u8;
    }
    let shape = Shape {
        uploads,
        size,
        chunk: Bytes::from(chunk),
        chunks: size / chunk_len,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = S3sFs::start(KEY, SECRET);
    let bucket_dir = server.create_bucket(BUCKET);

    let providers = ProvidersConfig {
        allow_private_networks: true,
        ..Default::default()
    }
    .with("s3", "base_url", &server.endpoint())
    .with("r2", "base_url", &server.endpoint());
    let store = StorageVerifier::new(Duration::from_secs(10), &providers).expect("store");
    let credentials = Credentials::parse(
        Provider::S3,
        &CredentialsInput::new()
            .with("bucket", BUCKET)
            .with("accessKeyId", KEY)
            .with("secretAccessKey", SECRET)
            .with("region", "us-east-1"),
        SealedDefaults::None,
    )
    .expect("credentials");
    // The plain SDK client, configured as the adapter's put client is: same HTTP client
    // kind (hyper + rustls/ring), no checksum, no retry, no stalled-stream protection.
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(TlsProvider::Rustls(CryptoMode::Ring))
                    .build_https(),
            )
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                KEY, SECRET, None, None, "bench",
            ))
            .region(Region::new("us-east-1"))
            .endpoint_url(server.endpoint())
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .retry_config(RetryConfig::disabled())
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .build(),
    );

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "upload bench: {uploads} concurrent uploads x {mib} MiB in {chunk_kib} KiB chunks, {rounds} rounds, {cores} cores, s3s-fs at {}",
        server.endpoint()
    );
    let (rss, hwm) = memory();
    println!("before: VmRSS {rss:.1} MiB, VmHWM {hwm:.1} MiB");
    let peak_reset = reset_peak();
    if !peak_reset {
        println!("note: /proc/self/clear_refs not writable: VmHWM figures are cumulative");
    }

    // Warm-up, not counted.
    runtime.block_on(through_adapter(&store, &credentials, &shape, usize::MAX));
    runtime.block_on(direct(&client, &shape, usize::MAX));
    let _ = std::fs::remove_dir_all(bucket_dir.join("adapter"));
    let _ = std::fs::remove_dir_all(bucket_dir.join("direct"));

    let mut adapter_total = Duration::ZERO;
    let mut direct_total = Duration::ZERO;
    let mut adapter_peak: f64 = 0.0;
    let mut direct_peak: f64 = 0.0;
    for round in 0..rounds {
        let sides = if round % 2 == 0 {
            [Side::Adapter, Side::Direct]
        } else {
            [Side::Direct, Side::Adapter]
        };
        for side in sides {
            reset_peak();
            let took = match side {
                Side::Adapter => {
                    runtime.block_on(through_adapter(&store, &credentials, &shape, round))
                }
                Side::Direct => runtime.block_on(direct(&client, &shape, round)),
            };
            let (_, hwm) = memory();
            let (total, peak, name) = match side {
                Side::Adapter => (&mut adapter_total, &mut adapter_peak, "adapter"),
                Side::Direct => (&mut direct_total, &mut direct_peak, "direct"),
            };
            *total += took;
            *peak = peak.max(hwm);
            println!(
                "round {round} {name:<8} {:>7.3} s  {:>7.1} MiB/s  VmHWM {hwm:.1} MiB",
                took.as_secs_f64(),
                shape.total_mib() / took.as_secs_f64()
            );
            let _ = std::fs::remove_dir_all(bucket_dir.join(name));
        }
    }
    let adapter = shape.total_mib() * rounds as f64 / adapter_total.as_secs_f64();
    let direct = shape.total_mib() * rounds as f64 / direct_total.as_secs_f64();
    println!(
        "overall: adapter {adapter:.1} MiB/s, direct {direct:.1} MiB/s, ratio adapter/direct {:.3}; peak VmHWM adapter {adapter_peak:.1} MiB, direct {direct_peak:.1} MiB",
        adapter / direct
    );
}
