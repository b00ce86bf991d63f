//! The image import (`HelpCenterCatalogue`) of all six providers against the local fakes of
//! their article APIs (`integrations-provider-fakes`), whose `expected_images()` is the truth.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is a failed test

use std::collections::HashMap;
use std::time::{Duration, Instant};

use integrations_domain::credentials::SealedDefaults;
use integrations_domain::{
    Credentials, CredentialsInput, FailureReason, HelpCenterCatalogue, ImagePage, ImageRef,
    Provider, VerificationFailure,
};
use integrations_helpcenter::{HelpcenterVerifier, CALL_BUDGET};
use integrations_provider_fakes as fakes;
use integrations_provider_fakes::{
    Datasets, ExpectedImage, FakeConfig, FakeHelpCenters, Fault, RateLimitStyle, SeenRequest,
    GOOD_SECRET, KNOWLEDGEOWL_PROJECT, ZENDESK_EMAIL,
};

const ALL: [Provider; 6] = [
    Provider::Zendesk,
    Provider::Intercom,
    Provider::Helpscout,
    Provider::Helpjuice,
    Provider::Freshdesk,
    Provider::Knowledgeowl,
];

fn fake_of(p: Provider) -> fakes::Provider {
    match p {
        Provider::Zendesk => fakes::Provider::Zendesk,
        Provider::Intercom => fakes::Provider::Intercom,
        Provider::Helpscout => fakes::Provider::Helpscout,
        Provider::Helpjuice => fakes::Provider::Helpjuice,
        Provider::Freshdesk => fakes::Provider::Freshdesk,
        Provider::Knowledgeowl => fakes::Provider::Knowledgeowl,
        other => panic!("{other} is not a help center"),
    }
}

/// Large enough that every provider's listing spans several pages at the page size the
/// adapter asks for (Intercom 250, its maximum; the others 100: the maximum of Zendesk, Help
/// Scout and Freshdesk, and Helpjuice's on purpose, see its module), with Help Scout
/// collections on two pages (50 each) and Freshdesk folders that are empty, exactly one page
/// long, and one article past a page.
fn large() -> Datasets {
    let mut helpscout = vec![150, 0, 101];
    helpscout.extend([1; 49]);
    helpscout.push(3);
    Datasets {
        zendesk: 250,
        intercom: 520,
        helpscout,
        helpjuice: 250,
        freshdesk: vec![vec![150, 0, 100], vec![3], vec![], vec![0, 101]],
        knowledgeowl: 250,
    }
}

fn empty() -> Datasets {
    Datasets {
        zendesk: 0,
        intercom: 0,
        helpscout: vec![],
        helpjuice: 0,
        freshdesk: vec![],
        knowledgeowl: 0,
    }
}

fn start(datasets: Datasets) -> FakeHelpCenters {
    FakeHelpCenters::start(FakeConfig {
        datasets,
        ..FakeConfig::default()
    })
}

fn catalogue(fake: &FakeHelpCenters, timeout: Duration) -> HelpcenterVerifier {
    HelpcenterVerifier::pointed_at(&fake.base_url, timeout).expect("config")
}

fn credentials(provider: Provider, secret: &str) -> Credentials {
    let fields: Vec<(&str, &str)> = match provider {
        Provider::Zendesk => vec![
            ("username", ZENDESK_EMAIL),
            ("token", secret),
            ("subdomain", "acme"),
        ],
        Provider::Intercom => vec![("token", secret)],
        Provider::Helpscout => vec![("apiKey", secret)],
        Provider::Helpjuice | Provider::Freshdesk => {
            vec![("subdomain", "acme"), ("apiKey", secret)]
        }
        Provider::Knowledgeowl => vec![("apiKey", secret), ("projectId", KNOWLEDGEOWL_PROJECT)],
        other => panic!("{other} is not a help center"),
    };
    let input = fields
        .iter()
        .fold(CredentialsInput::new(), |i, (k, v)| i.with(k, v));
    Credentials::parse(provider, &input, SealedDefaults::None).expect("valid credentials")
}

fn good(provider: Provider) -> Credentials {
    credentials(provider, GOOD_SECRET)
}

fn as_expected(r: &ImageRef) -> ExpectedImage {
    ExpectedImage {
        article_id: r.article_id.clone(),
        article_title: r.article_title.clone(),
        article_url: r.article_url.clone(),
        image_url: r.image_url.clone(),
        alt: r.alt.clone(),
    }
}

/// One call of a walk: what it returned and the requests it made.
struct Call {
    page: ImagePage,
    requests: Vec<SeenRequest>,
}

/// Calls `images` from the start until `next` is `None`, with the limit `limit(n)` for call
/// `n`, checking every page against the contract on the way.
async fn walk(
    fake: &FakeHelpCenters,
    cat: &HelpcenterVerifier,
    provider: Provider,
    limit: impl Fn(usize) -> u32,
) -> Vec<Call> {
    let creds = good(provider);
    let mut calls: Vec<Call> = Vec::new();
    let mut position: Option<Vec<u8>> = None;
    loop {
        assert!(calls.len() < 20_000, "{provider}: the walk does not end");
        let n = calls.len();
        fake.clear_requests();
        let page = cat
            .images(&creds, position.as_deref(), limit(n))
            .await
            .unwrap_or_else(|f| panic!("{provider}: call {n} failed: {f}"));
        let requests = fake.requests();
        assert!(
            requests.len() <= CALL_BUDGET as usize,
            "{provider}: call {n} made {} provider calls",
            requests.len()
        );
        assert!(
            page.items.len() <= limit(n) as usize,
            "{provider}: call {n}"
        );
        if page.items.is_empty() {
            // Only the end, or a page whose call budget ran out.
            assert!(
                page.next.is_none() || requests.len() == CALL_BUDGET as usize,
                "{provider}: call {n} returned nothing with budget left"
            );
        }
        if let Some(next) = &page.next {
            assert_ne!(
                Some(next),
                position.as_ref(),
                "{provider}: call {n} did not move"
            );
        }
        position = page.next.clone();
        calls.push(Call { page, requests });
        if position.is_none() {
            return calls;
        }
    }
}

fn images_of(calls: &[Call]) -> Vec<ExpectedImage> {
    calls
        .iter()
        .flat_map(|c| c.page.items.iter().map(as_expected))
        .collect()
}

/// Container lists: read at most once per call, and not article pages.
fn is_container_list(path_and_query: &str) -> bool {
    let path = path_and_query.split('?').next().unwrap_or_default();
    path == "/v1/collections"
        || path == "/api/v2/solutions/categories"
        || (path.starts_with("/api/v2/solutions/categories/") && path.ends_with("/folders"))
}

/// A resumed call never goes back: over the whole walk, the article pages requested (and,
/// separately, the single articles: Help Scout) are in the order they were first requested,
/// each one re-read only while it is the current one.
fn assert_never_goes_back(provider: Provider, calls: &[Call]) {
    let mut ordinal: HashMap<&str, usize> = HashMap::new();
    // The last ordinal of article pages [0] and of single articles [1].
    let mut last = [0, 0];
    for (n, call) in calls.iter().enumerate() {
        let mut containers: Vec<&str> = Vec::new();
        for r in &call.requests {
            let key = r.path_and_query.as_str();
            if is_container_list(key) {
                assert!(
                    !containers.contains(&key),
                    "{provider}: call {n} read {key} twice"
                );
                containers.push(key);
                continue;
            }
            let class = usize::from(key.starts_with("/v1/articles/"));
            let next = ordinal.len();
            let o = *ordinal.entry(key).or_insert(next);
            assert!(
                o >= last[class],
                "{provider}: call {n} went back to {key} (first read before the current one)"
            );
            last[class] = o;
        }
    }
}

fn assert_same(provider: Provider, limit: &str, got: &[ExpectedImage], want: &[ExpectedImage]) {
    if got != want {
        let first = got
            .iter()
            .zip(want)
            .position(|(g, w)| g != w)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{provider} with limit {limit}: {} images instead of {}; first difference at {first}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            got.get(first),
            want.get(first)
        );
    }
}

async fn walk_and_compare(provider: Provider, limits: &[u32]) {
    let fake = start(large());
    let cat = catalogue(&fake, Duration::from_secs(10));
    let want = fake.expected_images(fake_of(provider));
    assert!(want.len() > 300, "{provider}: the dataset is too small");
    for &limit in limits {
        let calls = walk(&fake, &cat, provider, |_| limit).await;
        assert_same(provider, &limit.to_string(), &images_of(&calls), &want);
        assert_never_goes_back(provider, &calls);
        // Full pages are full: only the last one, or one cut short by the call budget, holds
        // fewer images.
        for (n, c) in calls.iter().enumerate() {
            if c.page.next.is_some() && c.page.items.len() < limit as usize {
                assert!(
                    c.requests.len() == CALL_BUDGET as usize,
                    "{provider}: call {n} held {} of {limit} images after only {} provider calls",
                    c.page.items.len(),
                    c.requests.len()
                );
            }
        }
    }
    // Limits changed from one call to the next resume just the same.
    let calls = walk(&fake, &cat, provider, |n| [1, 7, 100, 3][n % 4]).await;
    assert_same(provider, "1/7/100/3", &images_of(&calls), &want);
    fake.stop().await;
}

#[tokio::test]
async fn zendesk_walks_every_page_with_every_limit() {
    walk_and_compare(Provider::Zendesk, &[100, 7, 1]).await;
}

#[tokio::test]
async fn intercom_walks_every_page_with_every_limit() {
    walk_and_compare(Provider::Intercom, &[100, 7, 1]).await;
}

#[tokio::test]
async fn helpscout_walks_every_page_with_every_limit() {
    walk_and_compare(Provider::Helpscout, &[100, 7, 1]).await;
}

#[tokio::test]
async fn helpjuice_walks_every_page_with_every_limit() {
    walk_and_compare(Provider::Helpjuice, &[100, 7, 1]).await;
}

#[tokio::test]
async fn freshdesk_walks_every_page_with_every_limit() {
    walk_and_compare(Provider::Freshdesk, &[100, 7, 1]).await;
}

#[tokio::test]
async fn knowledgeowl_walks_every_page_with_every_limit() {
    walk_and_compare(Provider::Knowledgeowl, &[100, 7, 1]).await;
}

#[tokio::test]
async fn an_empty_help_center_is_one_empty_last_page() {
    let fake = start(empty());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        let page = cat.images(&good(p), None, 50).await.expect("a page");
        assert_eq!(
            page,
            ImagePage {
                items: vec![],
                next: None
            },
            "{p}"
        );
    }
    fake.stop().await;
}

#[tokio::test]
async fn small_help_centers_fit_in_one_page_with_every_template() {
    // The default datasets (8 to 12 articles, every body template, an empty Help Scout
    // collection, an empty Freshdesk folder and a category without folders).
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        let want = fake.expected_images(fake_of(p));
        let calls = walk(&fake, &cat, p, |_| 100).await;
        assert_same(p, "100", &images_of(&calls), &want);
        if p != Provider::Helpscout {
            // Everything fits in one page, and the page knows it is the last.
            assert_eq!(calls.len(), 1, "{p}");
        }
        let seen = fake.requests_to(fake_of(p));
        assert!(seen
            .iter()
            .all(|r| r.method == "GET" && r.authorization_present));
    }
    fake.stop().await;
}

/// A limit out of 1–100 is brought into it, never a panic.
#[tokio::test]
async fn limits_are_clamped() {
    let fake = start(large());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        let one = cat.images(&good(p), None, 0).await.expect("limit 0");
        assert_eq!(one.items.len(), 1, "{p}");
        let many = cat
            .images(&good(p), None, u32::MAX)
            .await
            .expect("limit max");
        assert!(many.items.len() <= 100, "{p}");
        assert!(many.next.is_some(), "{p}");
    }
    fake.stop().await;
}

fn failure(r: Result<ImagePage, VerificationFailure>) -> VerificationFailure {
    match r {
        Ok(page) => panic!("a page came back instead of a failure: {page:?}"),
        Err(f) => f,
    }
}

#[tokio::test]
async fn positions_not_made_here_are_provider_errors() {
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_secs(10));
    // A real position of each provider, taken after its first page of one image.
    let mut real = Vec::new();
    for p in ALL {
        let page = cat.images(&good(p), None, 1).await.expect("first page");
        real.push((p, page.next.expect("more than one image")));
    }
    for (i, p) in ALL.into_iter().enumerate() {
        let (other, others) = &real[(i + 1) % real.len()];
        let provider_name = p.as_str();
        let forged = [
            b"garbage \xff\x00".to_vec(),
            Vec::new(),
            b"{}".to_vec(),
            b"null".to_vec(),
            // Another provider's position.
            others.clone(),
            // This provider's name on another's position.
            String::from_utf8(others.clone())
                .unwrap()
                .replace(other.as_str(), provider_name)
                .into_bytes(),
            // Negative, huge and fractional numbers, unknown fields.
            format!(r#"{{"v":1,"p":"{provider_name}","at":{{"page":-1}}}}"#).into_bytes(),
            format!(
                r#"{{"v":1,"p":"{provider_name}","at":{{"page":1e99,"slot":{{"a":0,"i":0}}}}}}"#
            )
            .into_bytes(),
            format!(r#"{{"v":9,"p":"{provider_name}","at":{{}}}}"#).into_bytes(),
            vec![b'['; 100_000],
        ];
        for bad in forged {
            fake.clear_requests();
            let f = failure(cat.images(&good(p), Some(&bad), 10).await);
            assert_eq!(f.reason, FailureReason::ProviderError, "{p}: {f}");
            assert!(
                fake.requests().is_empty(),
                "{p}: a forged position reached the provider"
            );
        }
    }
    fake.stop().await;
}

#[tokio::test]
async fn a_forged_id_in_a_position_never_reaches_a_url() {
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_secs(10));
    let helpscout = br#"{"v":1,"p":"helpscout","at":{"cp":1,"c":0,"collection":"../../v1/sites?x=","ap":1,"a":0,"i":0}}"#;
    let freshdesk = br#"{"v":1,"p":"freshdesk","at":{"c":0,"category":"1/folders/../../agents/me","f":0,"folder":null,"page":1,"slot":{"a":0,"i":0}}}"#;
    for (p, bad) in [
        (Provider::Helpscout, &helpscout[..]),
        (Provider::Freshdesk, &freshdesk[..]),
    ] {
        fake.clear_requests();
        let f = failure(cat.images(&good(p), Some(bad), 10).await);
        assert_eq!(f.reason, FailureReason::ProviderError, "{p}: {f}");
        assert!(fake.requests().is_empty(), "{p}: {:?}", fake.requests());
    }
    // A Zendesk cursor is a query value: encoded, whatever it holds.
    let zendesk =
        br#"{"v":1,"p":"zendesk","at":{"after":"x&page[size]=1000#","slot":{"a":0,"i":0}}}"#;
    fake.clear_requests();
    let f = failure(
        cat.images(&good(Provider::Zendesk), Some(zendesk), 10)
            .await,
    );
    assert_eq!(f.reason, FailureReason::ProviderError, "{f}");
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0]
            .path_and_query
            .contains("page%5Bafter%5D=x%26page%5Bsize%5D%3D1000%23"),
        "{}",
        seen[0].path_and_query
    );
    fake.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_invalid_credentials_and_never_quoted() {
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_secs(10));
    let wrong = "wrong-secret-9876";
    for p in ALL {
        let f = failure(cat.images(&credentials(p, wrong), None, 10).await);
        assert_eq!(f.reason, FailureReason::InvalidCredentials, "{p}: {f}");
        assert!(!f.message.contains(wrong) && !f.message.contains(GOOD_SECRET));
        assert_eq!(f.retry_after_secs, None);
    }
    fake.stop().await;
}

/// Runs one call of `p` with `fault` on its next request, and returns the failure.
async fn faulted(
    fake: &FakeHelpCenters,
    cat: &HelpcenterVerifier,
    p: Provider,
    fault: Fault,
) -> VerificationFailure {
    fake.clear_faults();
    fake.set_fault(fake_of(p), fault, 1);
    let f = failure(cat.images(&good(p), None, 10).await);
    assert_eq!(fake.pending_faults(), 0, "{p}: the fault was not reached");
    assert!(!f.message.contains(GOOD_SECRET), "{p}: {f}");
    f
}

#[tokio::test]
async fn statuses_map_to_reasons() {
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        for (fault, reason) in [
            (Fault::Status(401), FailureReason::InvalidCredentials),
            (Fault::Status(403), FailureReason::InsufficientPermissions),
            (Fault::Status(404), FailureReason::NotFound),
            (Fault::Status(500), FailureReason::ProviderError),
            (Fault::Status(502), FailureReason::ProviderError),
            (Fault::Status(503), FailureReason::ProviderError),
            // A page that is not the expected JSON.
            (Fault::Html(200), FailureReason::ProviderError),
            (Fault::Status(400), FailureReason::ProviderError),
        ] {
            let f = faulted(&fake, &cat, p, fault).await;
            assert_eq!(f.reason, reason, "{p} {fault:?}: {f}");
            assert_eq!(f.retry_after_secs, None, "{p} {fault:?}");
        }
    }
    fake.stop().await;
}

#[tokio::test]
async fn rate_limits_carry_each_providers_own_wait() {
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        // The provider's own documented signal (Helpjuice: none at all → 60 s).
        let f = faulted(
            &fake,
            &cat,
            p,
            Fault::RateLimited(RateLimitStyle::native(fake_of(p), 42)),
        )
        .await;
        assert_eq!(f.reason, FailureReason::RateLimited, "{p}: {f}");
        let wait = f.retry_after_secs.expect("a wait");
        match p {
            Provider::Helpjuice => assert_eq!(wait, 60, "{p}"),
            // A reset given as a UNIX time loses up to a second to the clock.
            Provider::Intercom => assert!((41..=42).contains(&wait), "{p}: {wait}"),
            _ => assert_eq!(wait, 42, "{p}"),
        }
        // The other styles are understood from every provider.
        for (style, range) in [
            (RateLimitStyle::RetryAfterSeconds(7), 7..=7),
            (RateLimitStyle::RetryAfterHttpDate(90), 88..=90),
            (RateLimitStyle::ResetUnixTime(120), 119..=120),
            (RateLimitStyle::ResetSeconds(17), 17..=17),
        ] {
            let f = faulted(&fake, &cat, p, Fault::RateLimited(style)).await;
            assert_eq!(f.reason, FailureReason::RateLimited, "{p} {style:?}");
            let wait = f.retry_after_secs.expect("a wait");
            assert!(range.contains(&wait), "{p} {style:?}: {wait}");
        }
        let f = faulted(&fake, &cat, p, Fault::RateLimited(RateLimitStyle::NoHeader)).await;
        assert_eq!(f.retry_after_secs, Some(60), "{p}: no header means 60 s");
    }
    fake.stop().await;
}

#[tokio::test]
async fn a_slow_page_times_out_at_the_deadline() {
    let fake = start(Datasets::default());
    let cat = catalogue(&fake, Duration::from_millis(300));
    for p in ALL {
        let started = Instant::now();
        let f = faulted(&fake, &cat, p, Fault::Delay(Duration::from_secs(2))).await;
        assert_eq!(f.reason, FailureReason::Timeout, "{p}: {f}");
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{p}: {:?}",
            started.elapsed()
        );
    }
    fake.stop().await;
}

/// The article page after the first of each provider (in the large dataset).
fn second_page(p: Provider) -> &'static str {
    match p {
        Provider::Zendesk => "/api/v2/help_center/articles.json?page[after]",
        Provider::Intercom => "/articles?page=2",
        Provider::Helpscout => "/v1/collections/?page=2",
        Provider::Helpjuice => "/api/v3/articles?page=2",
        Provider::Freshdesk => "/api/v2/solutions/folders/?page=2",
        Provider::Knowledgeowl => "/api/head/article.json?page=2",
        other => panic!("{other} is not a help center"),
    }
}

#[tokio::test]
async fn a_failing_second_page_fails_after_the_first_and_resumes_once_it_is_back() {
    let fake = start(large());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        let want = fake.expected_images(fake_of(p));
        let creds = good(p);
        for fault in [
            Fault::Status(500),
            Fault::RateLimited(RateLimitStyle::native(fake_of(p), 5)),
        ] {
            fake.clear_faults();
            fake.set_fault_on_path(second_page(p), fault, 1);
            let mut got: Vec<ExpectedImage> = Vec::new();
            let mut position: Option<Vec<u8>> = None;
            let mut failed = false;
            loop {
                match cat.images(&creds, position.as_deref(), 100).await {
                    Ok(page) => {
                        got.extend(page.items.iter().map(as_expected));
                        position = page.next;
                        if position.is_none() {
                            break;
                        }
                    }
                    Err(f) => {
                        assert!(!failed, "{p}: failed twice: {f}");
                        failed = true;
                        let want_reason = match fault {
                            Fault::RateLimited(_) => FailureReason::RateLimited,
                            _ => FailureReason::ProviderError,
                        };
                        assert_eq!(f.reason, want_reason, "{p}: {f}");
                        assert!(!got.is_empty(), "{p}: the first page came back before");
                        assert!(position.is_some());
                        // The same position again: the fault is gone.
                    }
                }
            }
            assert!(failed, "{p}: the second page was never requested");
            assert_same(p, "100 with a failed page", &got, &want);
        }
    }
    fake.stop().await;
}

#[tokio::test]
async fn requests_stay_within_each_providers_page_size_and_auth() {
    let fake = start(large());
    let cat = catalogue(&fake, Duration::from_secs(10));
    for p in ALL {
        fake.clear_requests();
        let page = cat.images(&good(p), None, 100).await.expect("page");
        assert!(!page.items.is_empty());
        let seen = fake.requests_to(fake_of(p));
        assert!(!seen.is_empty());
        for r in &seen {
            assert!(r.authorization_present, "{p}: {}", r.path_and_query);
            assert!(
                !r.path_and_query.contains(GOOD_SECRET),
                "{p}: {}",
                r.path_and_query
            );
        }
        let first = &seen[0].path_and_query;
        let want = match p {
            Provider::Zendesk => "/api/v2/help_center/articles.json?page%5Bsize%5D=100",
            Provider::Intercom => "/articles?page=1&per_page=250",
            Provider::Helpscout => "/v1/collections?page=1",
            Provider::Helpjuice => "/api/v3/articles?page=1&limit=100",
            Provider::Freshdesk => "/api/v2/solutions/categories",
            Provider::Knowledgeowl => {
                "/api/head/article.json?project_id=5a1b2c3d4e5f60718293a4b5&page=1&limit=100"
            }
            other => panic!("{other}"),
        };
        assert_eq!(first, want, "{p}");
    }
    fake.stop().await;
}

#[tokio::test]
async fn cloud_credentials_are_refused() {
    let fake = start(empty());
    let cat = catalogue(&fake, Duration::from_secs(10));
    let input = CredentialsInput::new()
        .with("bucket", "examplebucket")
        .with("accessKeyId", "AKIAIOSFODNN7EXAMPLE")
        .with(
            "secretAccessKey",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        );
    let s3 = Credentials::parse(Provider::S3, &input, SealedDefaults::None).expect("s3");
    let f = failure(cat.images(&s3, None, 10).await);
    assert_eq!(f.reason, FailureReason::ProviderError);
    assert!(fake.requests().is_empty());
    fake.stop().await;
}

/// A slow provider whose calls each answer in time: the page stops early (one verify deadline
/// after it started, once it has something), with fewer images and a `next` to go on from,
/// rather than running into the page's deadline.
#[tokio::test]
async fn a_slow_provider_gets_shorter_pages_not_timeouts() {
    let timeout = Duration::from_millis(400);
    // Help Scout makes one call per article; the small Freshdesk has folders of a few articles.
    for (p, datasets) in [
        (Provider::Helpscout, large()),
        (Provider::Freshdesk, Datasets::default()),
    ] {
        let fake = start(datasets);
        let cat = catalogue(&fake, timeout);
        fake.clear_requests();
        fake.set_fault(fake_of(p), Fault::Delay(Duration::from_millis(150)), 1000);
        let started = Instant::now();
        let page = cat.images(&good(p), None, 100).await.expect("a page");
        let took = started.elapsed();
        let calls = fake.requests().len();
        assert!(!page.items.is_empty(), "{p}");
        assert!(page.items.len() < 100, "{p}: {}", page.items.len());
        let first = page.items.len();
        assert!(page.next.is_some(), "{p}");
        assert!(calls < CALL_BUDGET as usize, "{p}: {calls} calls");
        assert!(took < timeout * 2, "{p}: {took:?}");
        // And the walk goes on from there (a page may be empty when the deadline struck
        // while walking empty folders, but it moved on).
        let mut got: Vec<ExpectedImage> = page.items.iter().map(as_expected).collect();
        let mut position = page.next;
        for _ in 0..5 {
            let more = cat
                .images(&good(p), position.as_deref(), 100)
                .await
                .expect("the next page");
            assert_ne!(more.next, position, "{p}: no progress");
            got.extend(more.items.iter().map(as_expected));
            position = more.next;
            if position.is_none() {
                break;
            }
        }
        assert!(got.len() > first, "{p}: no image after the first page");
        let want = fake.expected_images(fake_of(p));
        assert_same(p, "100 (slow)", &got, &want[..got.len().min(want.len())]);
        fake.stop().await;
    }
}
