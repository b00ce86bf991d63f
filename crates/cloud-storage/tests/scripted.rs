//! The verifier against a scripted local HTTP server replaying recorded S3 answers: region
//! discovery, bounded retries, deadlines, unreachable endpoints and marker cleanup.

// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use integrations_cloud_storage::{ConfigError, StorageVerifier, MARKER_PREFIX};
use integrations_domain::credentials::SealedDefaults;
use integrations_domain::{
    ConnectionVerifier, Credentials, CredentialsInput, FailureReason, Provider,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BUCKET: &str = "examplebucket";

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path without the query (`/examplebucket/.integration-verify/…`).
    path: String,
    /// The region of the SigV4 credential scope.
    region: String,
}

enum Action {
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Accept the request and never answer.
    Hang,
}

fn reply(status: u16, body: &str) -> Action {
    Action::Reply {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
    }
}

fn error_body(code: &str, message: &str, extra: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{extra}<RequestId>4442587FB7D0A2F9</RequestId></Error>"
    )
}

const LIST_OK: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>examplebucket</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>";

/// Answers list, put and delete as S3 does for a bucket that accepts everything.
fn happy(seen: &Seen) -> Action {
    match seen.method.as_str() {
        "GET" => reply(200, LIST_OK),
        "PUT" => Action::Reply {
            status: 200,
            headers: vec![("ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"".into())],
            body: String::new(),
        },
        "DELETE" => reply(204, ""),
        _ => reply(405, ""),
    }
}

type Handler = dyn Fn(&Seen) -> Action + Send + Sync;

struct FakeS3 {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeS3 {
    async fn start(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> FakeS3 {
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
        FakeS3 { addr, seen }
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

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
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
    let target = request_line.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let mut region = String::new();
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => {
                // AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/s3/aws4_request, ...
                region = value.split('/').nth(2).unwrap_or_default().to_owned();
            }
            "content-length" => length = value.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let seen = Seen {
        method,
        path,
        region,
    };
    log.lock().unwrap().push(seen.clone());
    match handler(&seen) {
        Action::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
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

fn verifier(url: &str, timeout: Duration) -> StorageVerifier {
    StorageVerifier::new(timeout, &local(url)).unwrap()
}

fn s3(region: Option<&str>) -> Credentials {
    let mut input = CredentialsInput::new()
        .with("bucket", BUCKET)
        .with("accessKeyId", KEY)
        .with("secretAccessKey", SECRET);
    if let Some(region) = region {
        input = input.with("region", region);
    }
    Credentials::parse(Provider::S3, &input, SealedDefaults::None).unwrap()
}

/// Both providers pointed at `url`, private networks allowed (the server is on loopback).
fn local(url: &str) -> integrations_cloud_storage::ProvidersConfig {
    integrations_cloud_storage::ProvidersConfig {
        allow_private_networks: true,
        ..Default::default()
    }
    .with("s3", "base_url", url)
    .with("r2", "base_url", url)
}

const GENEROUS: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_check_lists_writes_and_deletes_one_marker() {
    let server = FakeS3::start(happy).await;

    let result = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("eu-west-1")))
        .await;

    assert_eq!(result, Ok(()));
    let seen = server.seen();
    assert_eq!(server.methods(), ["GET", "PUT", "DELETE"]);
    assert_eq!(seen[0].path.trim_end_matches('/'), format!("/{BUCKET}"));
    let marker_prefix = format!("/{BUCKET}/{MARKER_PREFIX}");
    assert!(seen[1].path.starts_with(&marker_prefix), "{:?}", seen[1]);
    assert_eq!(seen[1].path, seen[2].path);
    assert!(seen.iter().all(|s| s.region == "eu-west-1"), "{seen:?}");
}

#[tokio::test]
async fn region_auto_follows_a_301_with_the_region_header() {
    let server = FakeS3::start(|seen: &Seen| {
        if seen.region == "us-east-1" {
            Action::Reply {
                status: 301,
                headers: vec![("x-amz-bucket-region", "eu-west-1".into())],
                body: error_body(
                    "PermanentRedirect",
                    "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
                    "<Endpoint>examplebucket.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>examplebucket</Bucket>",
                ),
            }
        } else {
            happy(seen)
        }
    })
    .await;

    let result = verifier(&server.url(), GENEROUS).verify(&s3(None)).await;

    assert_eq!(result, Ok(()));
    let regions: Vec<_> = server
        .seen()
        .into_iter()
        .map(|s| (s.method, s.region))
        .collect();
    assert_eq!(
        regions,
        [
            ("GET".to_owned(), "us-east-1".to_owned()),
            ("GET".to_owned(), "eu-west-1".to_owned()),
            ("PUT".to_owned(), "eu-west-1".to_owned()),
            ("DELETE".to_owned(), "eu-west-1".to_owned()),
        ]
    );
}

#[tokio::test]
async fn region_auto_follows_authorization_header_malformed() {
    let server = FakeS3::start(|seen: &Seen| {
        if seen.region != "ap-southeast-2" {
            reply(
                400,
                &error_body(
                    "AuthorizationHeaderMalformed",
                    "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-southeast-2'",
                    "<Region>ap-southeast-2</Region>",
                ),
            )
        } else {
            happy(seen)
        }
    })
    .await;

    let result = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("auto")))
        .await;

    assert_eq!(result, Ok(()));
    assert_eq!(server.methods(), ["GET", "GET", "PUT", "DELETE"]);
}

#[tokio::test]
async fn an_explicit_wrong_region_names_the_expected_one() {
    let server = FakeS3::start(|_: &Seen| Action::Reply {
        status: 301,
        headers: vec![("x-amz-bucket-region", "eu-west-1".into())],
        body: error_body("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.", ""),
    })
    .await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("us-west-2")))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");
    assert!(failure.message.contains("'us-west-2'"), "{failure}");
    assert!(
        failure.message.contains("expects region 'eu-west-1'"),
        "{failure}"
    );
    assert_eq!(server.methods(), ["GET"]);
}

#[tokio::test]
async fn a_region_that_keeps_redirecting_fails_instead_of_looping() {
    let server = FakeS3::start(|seen: &Seen| Action::Reply {
        status: 301,
        headers: vec![(
            "x-amz-bucket-region",
            if seen.region == "us-east-1" {
                "eu-west-1"
            } else {
                "eu-west-3"
            }
            .into(),
        )],
        body: String::new(),
    })
    .await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(None))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::NotFound, "{failure}");
    assert_eq!(server.methods(), ["GET", "GET"]);
}

#[tokio::test]
async fn throttling_is_rate_limited_with_bounded_retries() {
    let server = FakeS3::start(|_: &Seen| {
        reply(
            503,
            &error_body("SlowDown", "Please reduce your request rate.", ""),
        )
    })
    .await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::RateLimited, "{failure}");
    let attempts = server.seen().len();
    assert!((1..=3).contains(&attempts), "{attempts} attempts");
}

#[tokio::test]
async fn server_errors_are_provider_errors() {
    let server = FakeS3::start(|_: &Seen| {
        reply(
            500,
            &error_body(
                "InternalError",
                "We encountered an internal error. Please try again.",
                "",
            ),
        )
    })
    .await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::ProviderError, "{failure}");
    assert!(
        failure.message.contains("HTTP 500 InternalError"),
        "{failure}"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = FakeS3::start(|_: &Seen| reply(403, "")).await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(
        failure.reason,
        FailureReason::InsufficientPermissions,
        "{failure}"
    );
    assert!(failure.message.contains("s3:ListBucket"), "{failure}");
    assert_eq!(server.methods(), ["GET"]);
}

#[tokio::test]
async fn a_refused_write_names_s3_put_object_and_sends_no_delete() {
    let server = FakeS3::start(|seen: &Seen| match seen.method.as_str() {
        "PUT" => reply(403, &error_body("AccessDenied", "Access Denied", "")),
        _ => happy(seen),
    })
    .await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(
        failure.reason,
        FailureReason::InsufficientPermissions,
        "{failure}"
    );
    assert!(failure.message.contains("s3:PutObject"), "{failure}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.methods(), ["GET", "PUT"]);
}

#[tokio::test]
async fn a_refused_delete_says_the_marker_was_left() {
    let server = FakeS3::start(|seen: &Seen| match seen.method.as_str() {
        "DELETE" => reply(403, &error_body("AccessDenied", "Access Denied", "")),
        _ => happy(seen),
    })
    .await;

    let failure = verifier(&server.url(), GENEROUS)
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(
        failure.reason,
        FailureReason::InsufficientPermissions,
        "{failure}"
    );
    assert!(failure.message.contains("s3:DeleteObject"), "{failure}");
    assert!(failure.message.contains(MARKER_PREFIX), "{failure}");
    assert!(failure.message.contains("was left in bucket"), "{failure}");
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_deadline() {
    // Accepts connections and never replies.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });

    let started = Instant::now();
    let failure = verifier(&url, Duration::from_millis(500))
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::Timeout, "{failure}");
    assert!(failure.message.contains("500 ms"), "{failure}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_marker_whose_write_timed_out_is_removed_in_the_background() {
    let server = FakeS3::start(|seen: &Seen| match seen.method.as_str() {
        "PUT" => Action::Hang,
        _ => happy(seen),
    })
    .await;

    let failure = verifier(&server.url(), Duration::from_millis(800))
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::Timeout, "{failure}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let delete = loop {
        let seen = server.seen();
        if let Some(d) = seen.iter().find(|s| s.method == "DELETE") {
            break (d.clone(), seen);
        }
        assert!(Instant::now() < deadline, "no DELETE arrived: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (delete, seen) = delete;
    let put = seen.iter().find(|s| s.method == "PUT").unwrap();
    assert_eq!(delete.path, put.path);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unreachable() {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}");

    let failure = verifier(&url, GENEROUS)
        .verify(&s3(Some("us-east-1")))
        .await
        .unwrap_err();

    assert_eq!(failure.reason, FailureReason::Unreachable, "{failure}");
    assert!(failure.message.contains(&url), "{failure}");
}

#[tokio::test]
async fn r2_requests_are_path_style_signed_for_auto() {
    let server = FakeS3::start(happy).await;
    let input = CredentialsInput::new()
        .with("bucket", "r2-bucket")
        .with("accessKeyId", "0123456789abcdef0123456789abcdef")
        .with(
            "secretAccessKey",
            "3f5c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7",
        )
        .with("accountId", "023e105f4ecef8ad9ca31a8372d0c353");
    let credentials = Credentials::parse(Provider::R2, &input, SealedDefaults::None).unwrap();

    let result = verifier(&server.url(), GENEROUS).verify(&credentials).await;

    assert_eq!(result, Ok(()));
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.region == "auto"), "{seen:?}");
    assert!(
        seen.iter().all(|s| s.path.starts_with("/r2-bucket")),
        "{seen:?}"
    );
}

/// `providers.allow_private_networks = false` holds for cloud storage too: a base URL on
/// loopback, also written as a number, is refused before any connection (a numeric host may
/// already be refused as a configuration error, which is as good).
#[tokio::test]
async fn private_endpoints_are_refused_when_the_guard_is_on() {
    let server = FakeS3::start(happy).await;
    let port = server
        .url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    for url in [
        server.url(),
        format!("http://2130706433:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let mut config = local(&url);
        config.allow_private_networks = false;
        let verifier = match StorageVerifier::new(GENEROUS, &config) {
            Ok(v) => v,
            Err(ConfigError::InvalidBaseUrl { .. }) if url.contains("2130706433") => continue,
            Err(e) => panic!("{url}: {e}"),
        };
        let f = verifier.verify(&s3(None)).await.unwrap_err();
        assert_eq!(f.reason, FailureReason::Unreachable, "{url}: {f}");
        assert!(
            f.message.contains("not allowed") || f.message.contains("non-public"),
            "{url}: {f}"
        );
    }
    assert!(server.seen().is_empty(), "no request may reach the server");
}
