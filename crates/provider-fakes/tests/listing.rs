//! Every provider's documented article listing walks to the end at the documented maximum page
//! size and yields exactly the fake's articles, in order; bigger pages are refused with 400.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{get, id_of, json};
use integrations_provider_fakes::{
    Datasets, FakeConfig, FakeHelpCenters, Provider, GOOD_SECRET, KNOWLEDGEOWL_PROJECT,
    TEMPLATE_COUNT,
};
use serde_json::Value;
use std::collections::HashMap;

/// Large enough to span several pages at each maximum page size.
fn big() -> FakeHelpCenters {
    FakeHelpCenters::start(FakeConfig {
        datasets: Datasets {
            zendesk: 130,
            intercom: 260,
            helpscout: vec![150, 0, 3],
            helpjuice: 1_100,
            freshdesk: vec![vec![130, 0], vec![5], vec![]],
            knowledgeowl: 250,
        },
        ..FakeConfig::default()
    })
}

/// Checks the walk against the fake's own list, and that every expected image of an article
/// names a file that its body really mentions (a consistency check, not a parse).
fn check(fake: &FakeHelpCenters, p: Provider, walked: &[(String, String)]) {
    let ids: Vec<String> = walked.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, fake.article_ids(p), "{p}: article order");
    let bodies: HashMap<&str, &str> = walked
        .iter()
        .map(|(id, body)| (id.as_str(), body.as_str()))
        .collect();
    let expected = fake.expected_images(p);
    assert!(!expected.is_empty());
    for img in expected {
        let body = bodies[img.article_id.as_str()];
        let file = img
            .image_url
            .split('?')
            .next()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        assert!(
            body.contains(file),
            "{p}: {file} not in article {}",
            img.article_id
        );
    }
}

#[tokio::test]
async fn zendesk_cursor_pagination() {
    let fake = big();
    let p = Provider::Zendesk;
    let path = "/api/v2/help_center/articles.json";
    let mut walked = Vec::new();
    let mut url = format!("{}{path}?page[size]=100", fake.base_url);
    let mut pages = 0;
    loop {
        let v = json(get(&fake, p, &url).send().await.unwrap()).await;
        pages += 1;
        let arts = v["articles"].as_array().unwrap();
        for a in arts {
            assert!(a["html_url"]
                .as_str()
                .unwrap()
                .contains("/hc/en-us/articles/"));
            walked.push((id_of(a), a["body"].as_str().unwrap().to_owned()));
        }
        assert!(v["links"]["prev"].is_string());
        if !v["meta"]["has_more"].as_bool().unwrap() {
            // The last page still carries a cursor; following it gives an empty page.
            let next = v["links"]["next"].as_str().unwrap();
            assert_eq!(
                next,
                format!(
                    "{}{path}?page[size]=100&page[after]={}",
                    fake.base_url,
                    v["meta"]["after_cursor"].as_str().unwrap()
                )
            );
            let empty = json(get(&fake, p, next).send().await.unwrap()).await;
            assert_eq!(empty["articles"].as_array().unwrap().len(), 0);
            assert_eq!(empty["meta"]["has_more"], false);
            assert!(empty["meta"]["after_cursor"].is_null());
            assert!(empty["links"]["next"].is_null());
            break;
        }
        assert_eq!(arts.len(), 100);
        url = v["links"]["next"].as_str().unwrap().to_owned();
    }
    assert_eq!(pages, 2);
    assert_eq!(walked.len(), 130);
    check(&fake, p, &walked);

    // page[after] from meta (percent-encoded by reqwest) works like links.next.
    let v = json(
        get(&fake, p, path)
            .query(&[("page[size]", "100")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let after = v["meta"]["after_cursor"].as_str().unwrap().to_owned();
    let v2 = json(
        get(&fake, p, path)
            .query(&[("page[size]", "100"), ("page[after]", after.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v2["articles"].as_array().unwrap().len(), 30);
    // And page[before] walks back.
    let before = v2["meta"]["before_cursor"].as_str().unwrap().to_owned();
    let back = json(
        get(&fake, p, path)
            .query(&[("page[size]", "10"), ("page[before]", before.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let back_ids: Vec<String> = back["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(back_ids, fake.article_ids(p)[90..100]);

    // page[size] > 100 (and other invalid values) → 400 JSON.
    for size in ["101", "1000", "0", "ten"] {
        let resp = get(&fake, p, path)
            .query(&[("page[size]", size)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{size}");
        let v = json(resp).await;
        assert_eq!(v["errors"][0]["code"], "InvalidPaginationParameter");
    }
    let resp = get(
        &fake,
        p,
        &format!("{path}?page[size]=10&page[after]=garbage"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);

    // Without page[size]: offset pagination, 30 per page by default.
    let v = json(get(&fake, p, path).send().await.unwrap()).await;
    assert_eq!(v["articles"].as_array().unwrap().len(), 30);
    assert_eq!(v["count"], 130);
    assert_eq!(v["page_count"], 5);
    assert!(v.get("meta").is_none());
    assert_eq!(
        v["next_page"],
        format!("{}{path}?page=2&per_page=30", fake.base_url)
    );
    // The locale form and one article.
    let v = json(
        get(
            &fake,
            p,
            "/api/v2/help_center/en-us/articles.json?page[size]=5",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let first = &v["articles"][0];
    let one = json(
        get(
            &fake,
            p,
            &format!("/api/v2/help_center/articles/{}.json", id_of(first)),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(&one["article"], first);
    fake.stop().await;
}

#[tokio::test]
async fn intercom_page_pagination() {
    let fake = big();
    let p = Provider::Intercom;
    let mut walked = Vec::new();
    let mut url = format!("{}/articles?per_page=250", fake.base_url);
    let mut pages = 0;
    loop {
        let v = json(get(&fake, p, &url).send().await.unwrap()).await;
        pages += 1;
        assert_eq!(v["type"], "list");
        assert_eq!(v["total_count"], 260);
        assert_eq!(v["pages"]["total_pages"], 2);
        assert_eq!(v["pages"]["page"], pages);
        for a in v["data"].as_array().unwrap() {
            assert!(a["id"].is_string());
            walked.push((id_of(a), a["body"].as_str().unwrap().to_owned()));
        }
        match v["pages"]["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    check(&fake, p, &walked);
    // updated_at descending (the documented order).
    let v = json(get(&fake, p, "/articles?per_page=50").send().await.unwrap()).await;
    let times: Vec<i64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["updated_at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]));
    // Some articles have no public URL.
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["url"].is_null()));

    // Defaults: 15 for 2.11, 25 for later versions.
    let v = json(get(&fake, p, "/articles").send().await.unwrap()).await;
    assert_eq!(v["pages"]["per_page"], 15);
    let v = json(
        common::client()
            .get(format!("{}/articles", fake.base_url))
            .bearer_auth(GOOD_SECRET)
            .header("Intercom-Version", "2.14")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["pages"]["per_page"], 25);
    assert_eq!(v["data"].as_array().unwrap().len(), 25);

    for bad in ["251", "0", "x"] {
        let resp = get(&fake, p, &format!("/articles?per_page={bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(json(resp).await["type"], "error.list");
    }
    // One article, and an unknown one.
    let id = &fake.article_ids(p)[3];
    let v = json(
        get(&fake, p, &format!("/articles/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["type"], "article");
    assert_eq!(&id_of(&v), id);
    let resp = get(&fake, p, "/articles/1").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(json(resp).await["errors"][0]["code"], "not_found");
    fake.stop().await;
}

#[tokio::test]
async fn helpscout_collections_refs_and_articles() {
    let fake = big();
    let p = Provider::Helpscout;
    let cols = json(get(&fake, p, "/v1/collections").send().await.unwrap()).await;
    let items = cols["collections"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(cols["collections"]["count"], 3);
    let mut walked = Vec::new();
    let mut requests_per_collection = Vec::new();
    for col in items {
        let id = col["id"].as_str().unwrap();
        let mut page = 1;
        loop {
            let v = json(
                get(
                    &fake,
                    p,
                    &format!("/v1/collections/{id}/articles?page={page}&pageSize=100"),
                )
                .send()
                .await
                .unwrap(),
            )
            .await;
            let env = &v["articles"];
            for r in env["items"].as_array().unwrap() {
                assert!(r.get("text").is_none(), "ArticleRef has no body");
                let full = json(
                    get(&fake, p, &format!("/v1/articles/{}", id_of(r)))
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                assert_eq!(full["article"]["name"], r["name"]);
                assert!(full["article"]["publicUrl"].is_string());
                walked.push((
                    id_of(r),
                    full["article"]["text"].as_str().unwrap().to_owned(),
                ));
            }
            if page >= env["pages"].as_u64().unwrap() as usize {
                break;
            }
            page += 1;
        }
        requests_per_collection.push(page);
    }
    assert_eq!(requests_per_collection, [2, 1, 1]);
    assert_eq!(walked.len(), 153);
    check(&fake, p, &walked);

    let id = items[0]["id"].as_str().unwrap();
    let resp = get(
        &fake,
        p,
        &format!("/v1/collections/{id}/articles?pageSize=101"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(json(resp).await["code"], 400);
    // Every Help Scout answer has a Correlation-Id.
    let resp = get(&fake, p, "/v1/articles/nope").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(resp.headers().contains_key("correlation-id"));
    fake.stop().await;
}

#[tokio::test]
async fn helpjuice_articles_pagination_and_answer_shapes() {
    let fake = big();
    let p = Provider::Helpjuice;
    let mut walked = Vec::new();
    let (mut objects, mut arrays) = (0, 0);
    let mut page = 1;
    loop {
        let v = json(
            get(
                &fake,
                p,
                &format!("/api/v3/articles?page={page}&limit=1000"),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(v["meta"]["current"], page);
        assert_eq!(v["meta"]["limit"], 1000);
        assert_eq!(v["meta"]["total_count"], 1_100);
        for a in v["articles"].as_array().unwrap() {
            let body = match &a["answer"] {
                Value::Array(list) => {
                    arrays += 1;
                    assert_eq!(list.len(), 1);
                    list[0]["body"].as_str().unwrap().to_owned()
                }
                Value::Object(o) => {
                    objects += 1;
                    o["body"].as_str().unwrap().to_owned()
                }
                other => panic!("answer: {other}"),
            };
            walked.push((id_of(a), body));
        }
        if page >= v["meta"]["total_pages"].as_u64().unwrap() as usize {
            break;
        }
        page += 1;
    }
    assert_eq!(page, 2);
    assert!(objects > 0 && arrays > 0);
    check(&fake, p, &walked);
    let v = json(get(&fake, p, "/api/v3/articles").send().await.unwrap()).await;
    assert_eq!(v["meta"]["limit"], 25);
    let resp = get(&fake, p, "/api/v3/articles?limit=1001")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    fake.stop().await;
}

#[tokio::test]
async fn freshdesk_categories_folders_articles() {
    let fake = big();
    let p = Provider::Freshdesk;
    let cats = json(
        get(&fake, p, "/api/v2/solutions/categories")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let cats = cats.as_array().unwrap();
    assert_eq!(cats.len(), 3);
    let mut walked = Vec::new();
    let mut empty_folders = 0;
    let mut categories_without_folders = 0;
    for cat in cats {
        let folders = json(
            get(
                &fake,
                p,
                &format!("/api/v2/solutions/categories/{}/folders", cat["id"]),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        let folders = folders.as_array().unwrap();
        if folders.is_empty() {
            categories_without_folders += 1;
        }
        for f in folders {
            let mut page = 1;
            loop {
                let resp = get(
                    &fake,
                    p,
                    &format!(
                        "/api/v2/solutions/folders/{}/articles?per_page=100&page={page}",
                        f["id"]
                    ),
                )
                .send()
                .await
                .unwrap();
                if resp.status() == 204 {
                    empty_folders += 1;
                    assert_eq!(resp.text().await.unwrap(), "");
                    break;
                }
                assert_eq!(resp.status(), 200);
                let link = resp
                    .headers()
                    .get("link")
                    .map(|l| l.to_str().unwrap().to_owned());
                let arts = json(resp).await;
                let arts = arts.as_array().unwrap();
                for a in arts {
                    assert_eq!(a["status"], 2);
                    walked.push((id_of(a), a["description"].as_str().unwrap().to_owned()));
                }
                if arts.len() < 100 {
                    assert_eq!(link, None);
                    break;
                }
                assert!(link
                    .unwrap()
                    .ends_with(&format!("page={}&per_page=100>; rel=\"next\"", page + 1)));
                page += 1;
            }
        }
    }
    assert_eq!(empty_folders, 1);
    assert_eq!(categories_without_folders, 1);
    assert_eq!(walked.len(), 135);
    check(&fake, p, &walked);

    let folder = json(
        get(
            &fake,
            p,
            &format!("/api/v2/solutions/categories/{}/folders", cats[0]["id"]),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let fid = &folder[0]["id"];
    let resp = get(
        &fake,
        p,
        &format!("/api/v2/solutions/folders/{fid}/articles?per_page=101"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 400);
    let v = json(resp).await;
    assert_eq!(v["errors"][0]["field"], "per_page");
    // Default 30 per page; a page past the end of a non-empty folder is [].
    let v = json(
        get(
            &fake,
            p,
            &format!("/api/v2/solutions/folders/{fid}/articles"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(v.as_array().unwrap().len(), 30);
    let v = json(
        get(
            &fake,
            p,
            &format!("/api/v2/solutions/folders/{fid}/articles?page=9"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(v, serde_json::json!([]));
    fake.stop().await;
}

#[tokio::test]
async fn knowledgeowl_article_json_pagination() {
    let fake = big();
    let p = Provider::Knowledgeowl;
    let mut walked = Vec::new();
    let mut page = 1;
    loop {
        let v = json(
            get(
                &fake,
                p,
                &format!(
                    "/api/head/article.json?project_id={KNOWLEDGEOWL_PROJECT}&page={page}&limit=100"
                ),
            )
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(v["valid"], true);
        assert_eq!(v["page_stats"]["current_page"], page);
        assert_eq!(v["page_stats"]["total_records"], 250);
        for a in v["data"].as_array().unwrap() {
            walked.push((
                id_of(a),
                a["current_version"]["en"]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
        }
        if page >= v["page_stats"]["total_pages"].as_u64().unwrap() as usize {
            break;
        }
        page += 1;
    }
    assert_eq!(page, 3);
    check(&fake, p, &walked);

    // Filters as a JSON body on the GET, as the public exporter sends them.
    let v = json(
        get(&fake, p, "/api/head/article.json")
            .header("Content-Type", "application/json")
            .body(
                serde_json::json!({"project_id": KNOWLEDGEOWL_PROJECT, "page": 3, "limit": 100,
                    "status": {"$in": ["published"]}})
                .to_string(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["page_stats"]["current_page"], 3);
    assert_eq!(v["data"].as_array().unwrap().len(), 50);
    let v = json(
        get(&fake, p, "/api/head/article.json")
            .body(serde_json::json!({"project_id": "nope"}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["valid"], false);
    fake.stop().await;
}

#[tokio::test]
async fn default_datasets_are_small_and_cover_every_template() {
    let fake = FakeHelpCenters::start(FakeConfig::default());
    let counts: Vec<usize> = Provider::ALL
        .iter()
        .map(|p| fake.article_ids(*p).len())
        .collect();
    assert_eq!(counts, [12, 9, 8, 8, 9, 8]);
    for p in Provider::ALL {
        let imgs = fake.expected_images(p);
        // Templates 3 and 7 have no image: those articles are absent from the truth.
        let with_images: std::collections::HashSet<&str> =
            imgs.iter().map(|i| i.article_id.as_str()).collect();
        let n = fake.article_ids(p).len();
        let imageless = (0..n).filter(|k| k % TEMPLATE_COUNT == 3 || k % TEMPLATE_COUNT == 7);
        assert_eq!(with_images.len(), n - imageless.count(), "{p}");
        for i in &imgs {
            assert!(
                i.image_url.starts_with("http://") || i.image_url.starts_with("https://"),
                "{p}: {}",
                i.image_url
            );
            assert!(!i.image_url.to_ascii_lowercase().starts_with("data:"));
        }
        // Once per article.
        let mut seen = std::collections::HashSet::new();
        assert!(imgs
            .iter()
            .all(|i| seen.insert((&i.article_id, &i.image_url))));
        // alt: missing, empty and set all occur.
        assert!(imgs.iter().any(|i| i.alt.is_none()));
        assert!(imgs.iter().any(|i| i.alt.as_deref() == Some("")));
        assert!(imgs.iter().any(|i| i.alt.as_deref() == Some("Dashboard")));
        // Unicode titles.
        assert!(imgs.iter().any(|i| !i.article_title.is_ascii()));
    }
    // Article URLs where the API gives one.
    let urls = |p| {
        fake.expected_images(p)
            .iter()
            .all(|i| i.article_url.is_some())
    };
    assert!(urls(Provider::Zendesk) && urls(Provider::Helpscout) && urls(Provider::Helpjuice));
    assert!(fake
        .expected_images(Provider::Freshdesk)
        .iter()
        .all(|i| i.article_url.is_none()));
    assert!(fake
        .expected_images(Provider::Intercom)
        .iter()
        .any(|i| i.article_url.is_none()));
    fake.stop().await;
}
