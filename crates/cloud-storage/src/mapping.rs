//! From a failed S3 call to the user's answer: the SDK error is first reduced to a
//! [`CallError`] (what the wire said), then [`map`] turns it into a cause and a message.
//!
//! Messages name the cause precisely and never contain a secret: they may name the bucket,
//! the object (or marker) key, the endpoint and the access key id's last four characters.
//! Verification and export share this mapping, so a cause reads the same in both.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use integrations_domain::credentials::{R2Jurisdiction, S3Region};
use integrations_domain::{FailureReason, VerificationFailure};
use std::error::Error as StdError;
use std::time::Duration;

/// Which storage service a check talks to (for messages and hints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    S3,
    R2,
}

impl Service {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Service::S3 => "S3",
            Service::R2 => "R2",
        }
    }
}

/// The calls of a check (list, marker write, marker delete) and of an export (the same
/// list as the bucket check, then the object's write or delete).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// ListObjectsV2, at most one key: proves key, secret, bucket and read.
    List,
    /// PutObject of the zero-byte marker: proves write.
    PutMarker,
    /// DeleteObject of the marker: proves delete and leaves nothing behind.
    DeleteMarker,
    /// PutObject of an exported object.
    PutObject,
    /// DeleteObject of an exported object.
    DeleteObject,
}

impl Step {
    /// The IAM action the step needs.
    pub(crate) fn permission(self) -> &'static str {
        match self {
            Step::List => "s3:ListBucket",
            Step::PutMarker | Step::PutObject => "s3:PutObject",
            Step::DeleteMarker | Step::DeleteObject => "s3:DeleteObject",
        }
    }

    fn doing(self) -> &'static str {
        match self {
            Step::List => "listing objects",
            Step::PutMarker => "writing the marker object",
            Step::DeleteMarker => "deleting the marker object",
            Step::PutObject => "writing the object",
            Step::DeleteObject => "deleting the object",
        }
    }
}

/// An error answer of the service, reduced to what the mapping needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorAnswer {
    pub(crate) status: u16,
    /// `<Code>` of the XML body (`NotFound` for a bodiless 404, as the SDK sets it).
    pub(crate) code: Option<String>,
    /// `<Message>` of the XML body.
    pub(crate) message: Option<String>,
    /// The bucket's region when the answer names it (header `x-amz-bucket-region`, `<Region>`
    /// or the `expecting '…'` part of `AuthorizationHeaderMalformed`), validated.
    pub(crate) region: Option<String>,
    /// The wait a throttling answer asked for (`Retry-After`: seconds or an HTTP date).
    pub(crate) retry_after: Option<u64>,
}

/// A failed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallError {
    /// A connect or operation timeout of the SDK.
    Timeout,
    /// No connection: refused, DNS failure, TLS failure.
    Unreachable { detail: String },
    /// The service answered with an error status.
    Answer(ErrorAnswer),
    /// The request could not be built, or the answer could not be read.
    Other { detail: String },
}

impl CallError {
    pub(crate) fn from_sdk<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        match err {
            SdkError::TimeoutError(_) => CallError::Timeout,
            SdkError::DispatchFailure(d) => {
                if d.is_timeout() {
                    CallError::Timeout
                } else {
                    let detail = d
                        .as_connector_error()
                        .map(|c| root_cause(c))
                        .unwrap_or_else(|| "connection failed".to_owned());
                    CallError::Unreachable { detail }
                }
            }
            SdkError::ServiceError(se) => {
                let raw = se.raw();
                let meta = se.err();
                CallError::Answer(answer_from(
                    raw,
                    meta.code().map(str::to_owned),
                    meta.message().map(str::to_owned),
                ))
            }
            SdkError::ResponseError(re) => {
                let answer = answer_from(re.raw(), None, None);
                if answer.status >= 300 {
                    CallError::Answer(answer)
                } else {
                    CallError::Other {
                        detail: format!("unreadable answer (HTTP {})", answer.status),
                    }
                }
            }
            SdkError::ConstructionFailure(_) => CallError::Other {
                detail: "the request could not be built".to_owned(),
            },
            _ => CallError::Other {
                detail: root_cause(err),
            },
        }
    }

    /// True when the request may have taken effect although it failed (the marker may
    /// exist after a failed put).
    pub(crate) fn is_ambiguous(&self) -> bool {
        match self {
            CallError::Timeout | CallError::Other { .. } => true,
            CallError::Unreachable { .. } => false,
            CallError::Answer(a) => a.status >= 500,
        }
    }
}

fn answer_from(raw: &HttpResponse, code: Option<String>, message: Option<String>) -> ErrorAnswer {
    let header_region = raw.headers().get("x-amz-bucket-region").map(str::to_owned);
    let body = raw
        .body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let body_region = body.as_deref().and_then(|b| xml_element(b, "Region"));
    let message_region = message.as_deref().and_then(expected_region_in_message);
    let region = [header_region, body_region, message_region]
        .into_iter()
        .flatten()
        .find_map(|r| valid_region(&r));
    let retry_after = raw
        .headers()
        .get("retry-after")
        .and_then(|v| retry_after_secs(v, std::time::SystemTime::now()));
    ErrorAnswer {
        status: raw.status().as_u16(),
        code: code.filter(|c| !c.is_empty()),
        message: message.filter(|m| !m.is_empty()),
        region,
        retry_after,
    }
}

/// `Retry-After` as whole seconds: a number of seconds, or an HTTP date (a date in the past
/// is a wait of 0, clamped later to 1).
fn retry_after_secs(value: &str, now: std::time::SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(now)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or(0),
    )
}

/// The wait of a throttling answer without `Retry-After` (API.md section 6).
pub(crate) const DEFAULT_RETRY_AFTER_SECS: u64 = 60;

/// The innermost message of an error chain (`Connection refused (os error 111)`).
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&close)?;
    Some(body[start..start + len].trim().to_owned())
}

/// `"the region 'us-east-1' is wrong; expecting 'us-west-2'"` → `us-west-2`.
fn expected_region_in_message(message: &str) -> Option<String> {
    let rest = &message[message.find("expecting '")? + "expecting '".len()..];
    Some(rest[..rest.find('\'')?].to_owned())
}

/// Only a well-formed region name may choose the next endpoint (`s3.{region}.amazonaws.com`).
fn valid_region(raw: &str) -> Option<String> {
    match S3Region::parse(raw) {
        Ok(S3Region::Named(r)) => Some(r),
        _ => None,
    }
}

/// What the messages may mention about the check.
#[derive(Clone, Debug)]
pub(crate) struct Context<'a> {
    pub(crate) service: Service,
    pub(crate) bucket: &'a str,
    /// `****` + the access key id's last four characters.
    pub(crate) key_hint: &'a str,
    /// Where requests went (`https://….r2.cloudflarestorage.com`, `S3 region eu-west-1`).
    pub(crate) endpoint: String,
    /// The region requests were signed for.
    pub(crate) region: &'a str,
    pub(crate) jurisdiction: Option<R2Jurisdiction>,
    pub(crate) timeout: Duration,
    /// The marker of a check, or the exported object's key.
    pub(crate) key: &'a str,
}

/// The outcome of mapping a failed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Mapped {
    /// The bucket lives in another region; with region discovery the check continues there.
    WrongRegion(String),
    Failure(VerificationFailure),
}

const THROTTLING_CODES: &[&str] = &[
    "SlowDown",
    "TooManyRequests",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// Maps a failed call of `step` to the answer for the user.
pub(crate) fn map(step: Step, error: &CallError, cx: &Context<'_>) -> Mapped {
    let failure = match error {
        CallError::Timeout => VerificationFailure::new(
            FailureReason::Timeout,
            format!(
                "{} at {} did not answer in time (deadline {} ms).",
                cx.service.name(),
                cx.endpoint,
                cx.timeout.as_millis()
            ),
        ),
        CallError::Unreachable { detail } => VerificationFailure::new(
            FailureReason::Unreachable,
            format!(
                "Could not connect to {} at {}: {detail}.",
                cx.service.name(),
                cx.endpoint
            ),
        ),
        CallError::Other { detail } => VerificationFailure::new(
            FailureReason::ProviderError,
            format!(
                "{} at {} gave an answer that could not be understood while {}: {detail}.",
                cx.service.name(),
                cx.endpoint,
                step.doing()
            ),
        ),
        CallError::Answer(answer) => match map_answer(step, answer, cx) {
            Mapped::Failure(f) => f,
            wrong_region => return wrong_region,
        },
    };
    Mapped::Failure(match step {
        Step::DeleteMarker if error.is_ambiguous() => VerificationFailure {
            message: format!(
                "{} Removing the marker object '{}' is retried in the background; if it remains in bucket '{}', delete it by hand.",
                failure.message, cx.key, cx.bucket
            ),
            ..failure
        },
        Step::DeleteMarker => VerificationFailure {
            message: format!(
                "{} The marker object '{}' was left in bucket '{}': delete it by hand.",
                failure.message, cx.key, cx.bucket
            ),
            ..failure
        },
        Step::List | Step::PutMarker | Step::PutObject | Step::DeleteObject => failure,
    })
}

fn map_answer(step: Step, a: &ErrorAnswer, cx: &Context<'_>) -> Mapped {
    let service = cx.service.name();
    let code = a.code.as_deref().unwrap_or("");
    let described = describe(a);
    let fail = |reason, message: String| Mapped::Failure(VerificationFailure::new(reason, message));

    if a.status == 429 || THROTTLING_CODES.contains(&code) {
        let wait = a.retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS);
        return Mapped::Failure(
            VerificationFailure::new(
                FailureReason::RateLimited,
                format!("{service} is throttling requests ({described}): try again later."),
            )
            .with_retry_after(wait),
        );
    }
    let redirect = matches!(a.status, 301 | 307)
        || (matches!(
            code,
            "PermanentRedirect" | "TemporaryRedirect" | "AuthorizationHeaderMalformed"
        ) && a.region.is_some());
    if redirect {
        return match &a.region {
            Some(region) if region != cx.region => Mapped::WrongRegion(region.clone()),
            _ => fail(
                FailureReason::NotFound,
                format!(
                    "Bucket '{}' is not in region '{}' and {service} did not say which region it is in ({described}): check the region.",
                    cx.bucket, cx.region
                ),
            ),
        };
    }
    if a.status == 401 || matches!(code, "InvalidAccessKeyId" | "NotSignedUp" | "Unauthorized") {
        return fail(
            FailureReason::InvalidCredentials,
            format!(
                "The access key id {} is unknown to {service}: check the access key id.",
                cx.key_hint
            ),
        );
    }
    if code == "SignatureDoesNotMatch" {
        return fail(
            FailureReason::InvalidCredentials,
            format!(
                "The secret access key does not match the access key id {}: check the secret access key.",
                cx.key_hint
            ),
        );
    }
    if matches!(
        code,
        "ExpiredToken" | "ExpiredRequest" | "TokenRefreshRequired" | "InvalidToken"
    ) {
        return fail(
            FailureReason::InvalidCredentials,
            format!(
                "{service} no longer accepts the access key id {} ({described}): create a new key.",
                cx.key_hint
            ),
        );
    }
    if code == "InvalidArgument"
        && a.message
            .as_deref()
            .is_some_and(|m| m.contains("Credential access key"))
    {
        return fail(
            FailureReason::InvalidCredentials,
            format!(
                "{service} rejects the access key id {} as malformed ({described}): check the access key id.",
                cx.key_hint
            ),
        );
    }
    if a.status == 404 || matches!(code, "NoSuchBucket" | "NotFound") {
        return fail(
            FailureReason::NotFound,
            format!(
                "The specified bucket does not exist.{}",
                jurisdiction_hint(cx)
            ),
        );
    }
    if a.status == 403 || code == "AccessDenied" {
        let detail = if code.is_empty() {
            " (HTTP 403 without details)".to_owned()
        } else {
            String::new()
        };
        let r2 = match cx.service {
            Service::R2 => format!(
                " R2 needs an API token with Object Read & Write access to this bucket.{}",
                jurisdiction_hint(cx)
            ),
            Service::S3 => String::new(),
        };
        return fail(
            FailureReason::InsufficientPermissions,
            format!(
                "Access denied{detail}: the access key id {} lacks the {} permission on bucket '{}', needed for {}.{r2}",
                cx.key_hint,
                step.permission(),
                cx.bucket,
                step.doing()
            ),
        );
    }
    if a.status >= 500 {
        return fail(
            FailureReason::ProviderError,
            format!(
                "{service} failed while {} ({described}): try again later.",
                step.doing()
            ),
        );
    }
    fail(
        FailureReason::ProviderError,
        format!("{service} refused {} ({described}).", step.doing()),
    )
}

/// `HTTP 503 SlowDown: Please reduce your request rate.`
fn describe(a: &ErrorAnswer) -> String {
    let mut s = format!("HTTP {}", a.status);
    if let Some(code) = &a.code {
        s.push(' ');
        s.push_str(code);
    }
    if let Some(message) = &a.message {
        let message: String = message.chars().take(200).collect();
        s.push_str(": ");
        s.push_str(message.trim_end_matches('.'));
    }
    s
}

/// For R2, a bucket of another jurisdiction answers as missing or denied.
fn jurisdiction_hint(cx: &Context<'_>) -> String {
    match (cx.service, cx.jurisdiction) {
        (Service::S3, _) => String::new(),
        (Service::R2, None) => format!(
            " R2 buckets created in a jurisdiction are reachable only through its endpoint: if bucket '{}' is in the eu or fedramp jurisdiction, set jurisdiction to \"eu\" or \"fedramp\".",
            cx.bucket
        ),
        (Service::R2, Some(j)) => format!(
            " R2 looked in the {} jurisdiction: if bucket '{}' is in the default jurisdiction, leave jurisdiction out.",
            j.as_str(),
            cx.bucket
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error;
    use aws_sdk_s3::types::error::NoSuchBucket;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    const BUCKET: &str = "examplebucket";

    fn cx(service: Service) -> Context<'static> {
        Context {
            service,
            bucket: BUCKET,
            key_hint: "****MPLE",
            endpoint: "s3.us-east-1.amazonaws.com".to_owned(),
            region: "us-east-1",
            jurisdiction: None,
            timeout: Duration::from_secs(10),
            key: ".integration-verify/m",
        }
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        let mut raw = HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(body.to_owned()),
        );
        for (k, v) in headers {
            raw.headers_mut().insert(k.to_string(), v.to_string());
        }
        raw
    }

    /// An SDK service error as the SDK builds it from a recorded answer: code and message
    /// come from the XML body (a bodiless 404 gets the code `NotFound`).
    fn service_error(
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> SdkError<ListObjectsV2Error, HttpResponse> {
        let raw = response(status, headers, body);
        let code = xml_element(body, "Code").or_else(|| (status == 404).then(|| "NotFound".into()));
        let message = xml_element(body, "Message");
        let mut meta = ErrorMetadata::builder();
        if let Some(c) = &code {
            meta = meta.code(c);
        }
        if let Some(m) = &message {
            meta = meta.message(m);
        }
        let err = if code.as_deref() == Some("NoSuchBucket") {
            ListObjectsV2Error::NoSuchBucket(NoSuchBucket::builder().meta(meta.build()).build())
        } else {
            ListObjectsV2Error::generic(meta.build())
        };
        SdkError::service_error(err, raw)
    }

    fn failure(
        step: Step,
        err: &SdkError<ListObjectsV2Error, HttpResponse>,
        service: Service,
    ) -> VerificationFailure {
        match map(step, &CallError::from_sdk(err), &cx(service)) {
            Mapped::Failure(f) => f,
            Mapped::WrongRegion(r) => panic!("unexpected wrong region {r}"),
        }
    }

    fn aws_error(code: &str, message: &str, extra: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{extra}<RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</HostId></Error>"
        )
    }

    #[test]
    fn no_such_bucket() {
        let body = aws_error(
            "NoSuchBucket",
            "The specified bucket does not exist",
            "<BucketName>examplebucket</BucketName>",
        );
        let f = failure(Step::List, &service_error(404, &[], &body), Service::S3);
        assert_eq!(f.reason, FailureReason::NotFound);
        assert_eq!(f.message, "The specified bucket does not exist.");
    }

    #[test]
    fn bodiless_head_404_and_403() {
        let f = failure(Step::List, &service_error(404, &[], ""), Service::S3);
        assert_eq!(f.reason, FailureReason::NotFound);
        assert_eq!(f.message, "The specified bucket does not exist.");

        let f = failure(Step::List, &service_error(403, &[], ""), Service::S3);
        assert_eq!(f.reason, FailureReason::InsufficientPermissions);
        assert!(
            f.message.contains("HTTP 403 without details"),
            "{}",
            f.message
        );
        assert!(f.message.contains("s3:ListBucket"), "{}", f.message);
    }

    #[test]
    fn r2_not_found_suggests_jurisdiction() {
        let body = aws_error("NoSuchBucket", "The specified bucket does not exist.", "");
        let f = failure(Step::List, &service_error(404, &[], &body), Service::R2);
        assert_eq!(f.reason, FailureReason::NotFound);
        assert!(f
            .message
            .starts_with("The specified bucket does not exist."));
        assert!(
            f.message
                .contains("set jurisdiction to \"eu\" or \"fedramp\""),
            "{}",
            f.message
        );

        let mut eu = cx(Service::R2);
        eu.jurisdiction = Some(R2Jurisdiction::Eu);
        let Mapped::Failure(f) = map(
            Step::List,
            &CallError::from_sdk(&service_error(404, &[], &body)),
            &eu,
        ) else {
            panic!("expected a failure")
        };
        assert!(
            f.message.contains("looked in the eu jurisdiction"),
            "{}",
            f.message
        );
    }

    #[test]
    fn unknown_key_in_all_its_forms() {
        let aws = aws_error(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            "<AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>",
        );
        let r2 = aws_error(
            "Unauthorized",
            "Missing or invalid authentication credentials",
            "",
        );
        let s3s = aws_error("NotSignedUp", "Your account is not signed up", "");
        for (status, body) in [(403, aws), (401, r2), (403, s3s), (401, String::new())] {
            let f = failure(Step::List, &service_error(status, &[], &body), Service::S3);
            assert_eq!(f.reason, FailureReason::InvalidCredentials, "{body}");
            assert_eq!(
                f.message,
                "The access key id ****MPLE is unknown to S3: check the access key id."
            );
        }
    }

    #[test]
    fn wrong_secret() {
        let body = aws_error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            "<StringToSign>AWS4-HMAC-SHA256</StringToSign>",
        );
        let f = failure(Step::List, &service_error(403, &[], &body), Service::S3);
        assert_eq!(f.reason, FailureReason::InvalidCredentials);
        assert!(
            f.message.contains("secret access key does not match"),
            "{}",
            f.message
        );
    }

    #[test]
    fn access_denied_names_the_missing_permission() {
        let body = aws_error("AccessDenied", "Access Denied", "");
        for (step, permission) in [
            (Step::List, "s3:ListBucket"),
            (Step::PutMarker, "s3:PutObject"),
            (Step::DeleteMarker, "s3:DeleteObject"),
            (Step::PutObject, "s3:PutObject"),
            (Step::DeleteObject, "s3:DeleteObject"),
        ] {
            let f = failure(step, &service_error(403, &[], &body), Service::S3);
            assert_eq!(f.reason, FailureReason::InsufficientPermissions);
            assert!(f.message.contains(permission), "{}", f.message);
            assert!(f.message.contains("'examplebucket'"), "{}", f.message);
            assert_eq!(
                f.message.contains("was left in bucket"),
                step == Step::DeleteMarker,
                "{}",
                f.message
            );
        }
    }

    #[test]
    fn permanent_redirect_with_region_header() {
        let body = aws_error(
            "PermanentRedirect",
            "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
            "<Endpoint>examplebucket.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>examplebucket</Bucket>",
        );
        let err = service_error(301, &[("x-amz-bucket-region", "eu-west-1")], &body);
        assert_eq!(
            map(Step::List, &CallError::from_sdk(&err), &cx(Service::S3)),
            Mapped::WrongRegion("eu-west-1".into())
        );
        // Bodiless (a HEAD): the header alone is enough.
        let err = service_error(301, &[("x-amz-bucket-region", "ap-south-1")], "");
        assert_eq!(
            map(Step::List, &CallError::from_sdk(&err), &cx(Service::S3)),
            Mapped::WrongRegion("ap-south-1".into())
        );
        // No region at all: the user is told to check it.
        let f = failure(Step::List, &service_error(301, &[], ""), Service::S3);
        assert_eq!(f.reason, FailureReason::NotFound);
        assert!(
            f.message.contains("not in region 'us-east-1'"),
            "{}",
            f.message
        );
    }

    #[test]
    fn authorization_header_malformed_names_the_region() {
        let with_element = aws_error(
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'us-west-2'",
            "<Region>us-west-2</Region>",
        );
        let err = service_error(400, &[], &with_element);
        assert_eq!(
            map(Step::List, &CallError::from_sdk(&err), &cx(Service::S3)),
            Mapped::WrongRegion("us-west-2".into())
        );
        let message_only = aws_error(
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; the region 'auto' is wrong; expecting 'eu-central-1'",
            "",
        );
        let err = service_error(400, &[], &message_only);
        assert_eq!(
            map(Step::List, &CallError::from_sdk(&err), &cx(Service::S3)),
            Mapped::WrongRegion("eu-central-1".into())
        );
    }

    #[test]
    fn a_malformed_region_never_chooses_an_endpoint() {
        let err = service_error(301, &[("x-amz-bucket-region", "evil.example.com/x")], "");
        let CallError::Answer(a) = CallError::from_sdk(&err) else {
            panic!("expected an answer")
        };
        assert_eq!(a.region, None);
    }

    #[test]
    fn throttling_and_server_errors() {
        let slow = aws_error("SlowDown", "Please reduce your request rate.", "");
        let f = failure(
            Step::PutMarker,
            &service_error(503, &[], &slow),
            Service::S3,
        );
        assert_eq!(f.reason, FailureReason::RateLimited);
        assert!(f.message.contains("HTTP 503 SlowDown"), "{}", f.message);
        assert_eq!(f.retry_after_secs, Some(60), "no Retry-After: 60 s");

        let f = failure(
            Step::PutObject,
            &service_error(429, &[("Retry-After", "7")], ""),
            Service::R2,
        );
        assert_eq!(f.reason, FailureReason::RateLimited);
        assert_eq!(f.retry_after_secs, Some(7));

        let f = failure(
            Step::PutObject,
            &service_error(503, &[("Retry-After", "86400")], &slow),
            Service::S3,
        );
        assert_eq!(f.retry_after_secs, Some(3600), "clamped to an hour");

        let internal = aws_error(
            "InternalError",
            "We encountered an internal error. Please try again.",
            "",
        );
        let f = failure(Step::List, &service_error(500, &[], &internal), Service::S3);
        assert_eq!(f.reason, FailureReason::ProviderError);
        assert!(
            f.message.contains("HTTP 500 InternalError"),
            "{}",
            f.message
        );

        let f = failure(
            Step::List,
            &service_error(502, &[], "<html>bad gateway</html>"),
            Service::S3,
        );
        assert_eq!(f.reason, FailureReason::ProviderError);
    }

    #[test]
    fn r2_malformed_key_and_expired_token() {
        let body = aws_error(
            "InvalidArgument",
            "Credential access key has length 20, should be 32",
            "",
        );
        let f = failure(Step::List, &service_error(400, &[], &body), Service::R2);
        assert_eq!(f.reason, FailureReason::InvalidCredentials);
        let body = aws_error("ExpiredToken", "The provided token has expired.", "");
        let f = failure(Step::List, &service_error(400, &[], &body), Service::S3);
        assert_eq!(f.reason, FailureReason::InvalidCredentials);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after_secs("120", now), Some(120));
        assert_eq!(retry_after_secs(" 0 ", now), Some(0));
        assert_eq!(
            retry_after_secs("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(30)
        );
        assert_eq!(
            retry_after_secs("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_secs("soon", now), None);
        assert_eq!(retry_after_secs("-5", now), None);
    }

    #[test]
    fn export_steps_keep_the_verify_messages_without_marker_hints() {
        let body = aws_error("AccessDenied", "Access Denied", "");
        let f = failure(
            Step::DeleteObject,
            &service_error(403, &[], &body),
            Service::S3,
        );
        assert_eq!(f.reason, FailureReason::InsufficientPermissions);
        assert!(f.message.contains("s3:DeleteObject"), "{}", f.message);
        assert!(f.message.contains("deleting the object"), "{}", f.message);
        assert!(!f.message.contains("marker"), "{}", f.message);
        let nsb = aws_error("NoSuchBucket", "The specified bucket does not exist", "");
        let f = failure(Step::PutObject, &service_error(404, &[], &nsb), Service::S3);
        assert_eq!(f.reason, FailureReason::NotFound);
        assert_eq!(f.message, "The specified bucket does not exist.");
    }

    #[test]
    fn only_failures_that_may_have_taken_effect_are_ambiguous() {
        assert!(CallError::Timeout.is_ambiguous());
        assert!(!CallError::Unreachable {
            detail: String::new()
        }
        .is_ambiguous());
        let answer = |status| {
            CallError::Answer(ErrorAnswer {
                status,
                ..Default::default()
            })
        };
        assert!(answer(500).is_ambiguous());
        assert!(!answer(403).is_ambiguous());
    }
}
