//! The datasets: every provider's articles, in that provider's listing order, with ids that are
//! deliberately *not* in listing order (an importer must follow the listing, not sort by id).

use crate::content::{article_body, title, Expected};
use crate::{Datasets, Provider};

/// A permutation-like scramble of `k` (injective for `k < 100_003`): ids are unique but their
/// order is not the listing order.
pub(crate) fn scramble(k: usize) -> u64 {
    (k as u64 * 61_543) % 100_003
}

#[derive(Clone, Debug)]
pub(crate) struct Article {
    /// The id as the importer reports it (`articleId`).
    pub id: String,
    /// The id as the provider's JSON carries it (number or string).
    pub id_json: serde_json::Value,
    pub title: String,
    /// The public address when the provider's API gives one.
    pub public_url: Option<String>,
    pub html: String,
    pub expected: Vec<Expected>,
    /// 0-based index in the provider's listing order.
    pub k: usize,
    /// Unix seconds; consistent with the provider's default order where it is by time.
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Folder {
    pub id: u64,
    pub name: String,
    pub articles: Vec<Article>,
}

#[derive(Clone, Debug)]
pub(crate) struct Category {
    pub id: u64,
    pub name: String,
    pub folders: Vec<Folder>,
}

#[derive(Clone, Debug)]
pub(crate) struct Collection {
    pub id: String,
    pub number: usize,
    pub name: String,
    pub articles: Vec<Article>,
}

#[derive(Clone, Debug)]
pub(crate) struct Data {
    pub zendesk: Vec<Article>,
    pub intercom: Vec<Article>,
    pub helpscout: Vec<Collection>,
    pub helpjuice: Vec<Article>,
    pub freshdesk: Vec<Category>,
    pub knowledgeowl: Vec<Article>,
}

/// 2021-01-01T00:00:00Z, the base of every timestamp.
const T0: i64 = 1_609_459_200;

fn base(provider: Provider, origin: &str, k: usize) -> (String, String, Vec<Expected>) {
    let t = title(k);
    let (html, expected) = article_body(provider, origin, k, &t);
    (t, html, expected)
}

fn slug(k: usize) -> String {
    format!("article-{}", k + 1)
}

impl Data {
    pub(crate) fn generate(origin: &str, sizes: &Datasets) -> Data {
        // Zendesk: listed by `position` ascending (the default `sort_by`), positions follow the
        // listing; created_at is scrambled so a client sorting by time would get it wrong.
        let zendesk = (0..sizes.zendesk)
            .map(|k| {
                let (title, html, expected) = base(Provider::Zendesk, origin, k);
                let id = 360_000_000_000_u64 + scramble(k);
                Article {
                    id: id.to_string(),
                    id_json: id.into(),
                    title,
                    public_url: Some(format!("{origin}/hc/en-us/articles/{id}-{}", slug(k))),
                    html,
                    expected,
                    k,
                    created_at: T0 + scramble(k) as i64 * 60,
                    updated_at: T0 + scramble(k) as i64 * 90,
                }
            })
            .collect();

        // Intercom: sorted by `updated_at` descending (documented); every fifth article has
        // `url: null`.
        let intercom = (0..sizes.intercom)
            .map(|k| {
                let (title, html, expected) = base(Provider::Intercom, origin, k);
                let id = 7_000_000_u64 + scramble(k);
                Article {
                    id: id.to_string(),
                    id_json: id.to_string().into(),
                    title,
                    public_url: (k % 5 != 4).then(|| {
                        format!(
                            "https://intercom.help/fake-workspace/en/articles/{id}-{}",
                            slug(k)
                        )
                    }),
                    html,
                    expected,
                    k,
                    created_at: T0 + scramble(k) as i64 * 60,
                    updated_at: T0 + 50_000_000 - k as i64 * 3_600,
                }
            })
            .collect();

        // Help Scout: collections in `order`; in each, articles in their `order` (default sort).
        let mut k = 0;
        let helpscout = sizes
            .helpscout
            .iter()
            .enumerate()
            .map(|(c, &count)| Collection {
                id: format!("{:024x}", 0x5c00_0000_u64 + c as u64),
                number: c + 1,
                name: format!("Collection {}", c + 1),
                articles: (0..count)
                    .map(|_| {
                        let (title, html, expected) = base(Provider::Helpscout, origin, k);
                        let id = format!("{:024x}", 0x5d00_0000_u64 + scramble(k));
                        let a = Article {
                            id: id.clone(),
                            id_json: id.into(),
                            title,
                            public_url: Some(format!(
                                "https://fake.helpscoutdocs.com/article/{}-{}",
                                k + 1,
                                slug(k)
                            )),
                            html,
                            expected,
                            k,
                            created_at: T0 + k as i64 * 60,
                            updated_at: T0 + scramble(k) as i64 * 60,
                        };
                        k += 1;
                        a
                    })
                    .collect(),
            })
            .collect();

        let helpjuice = (0..sizes.helpjuice)
            .map(|k| {
                let (title, html, expected) = base(Provider::Helpjuice, origin, k);
                let id = 120_000_u64 + scramble(k);
                Article {
                    id: id.to_string(),
                    id_json: id.into(),
                    title,
                    public_url: Some(format!("{origin}/en_US/{id}-{}", slug(k))),
                    html,
                    expected,
                    k,
                    created_at: T0 + k as i64 * 60,
                    updated_at: T0 + scramble(k) as i64 * 60,
                }
            })
            .collect();

        let mut k = 0;
        let mut folder_no = 0_u64;
        let freshdesk = sizes
            .freshdesk
            .iter()
            .enumerate()
            .map(|(c, folders)| Category {
                id: 5_000_100_000 + c as u64,
                name: format!("Category {}", c + 1),
                folders: folders
                    .iter()
                    .map(|&count| {
                        folder_no += 1;
                        Folder {
                            id: 5_000_200_000 + folder_no,
                            name: format!("Folder {folder_no}"),
                            articles: (0..count)
                                .map(|_| {
                                    let (title, html, expected) =
                                        base(Provider::Freshdesk, origin, k);
                                    let id = 5_000_300_000_u64 + scramble(k);
                                    let a = Article {
                                        id: id.to_string(),
                                        id_json: id.into(),
                                        title,
                                        public_url: None,
                                        html,
                                        expected,
                                        k,
                                        created_at: T0 + k as i64 * 60,
                                        updated_at: T0 + scramble(k) as i64 * 60,
                                    };
                                    k += 1;
                                    a
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect();

        let knowledgeowl = (0..sizes.knowledgeowl)
            .map(|k| {
                let (title, html, expected) = base(Provider::Knowledgeowl, origin, k);
                let id = format!("{:024x}", 0x5e00_0000_u64 + scramble(k));
                Article {
                    id: id.clone(),
                    id_json: id.into(),
                    title,
                    public_url: None,
                    html,
                    expected,
                    k,
                    created_at: T0 + k as i64 * 60,
                    updated_at: T0 + scramble(k) as i64 * 60,
                }
            })
            .collect();

        Data {
            zendesk,
            intercom,
            helpscout,
            helpjuice,
            freshdesk,
            knowledgeowl,
        }
    }

    /// Every article of a provider, in its listing order.
    pub(crate) fn articles(&self, provider: Provider) -> Vec<&Article> {
        match provider {
            Provider::Zendesk => self.zendesk.iter().collect(),
            Provider::Intercom => self.intercom.iter().collect(),
            Provider::Helpscout => self.helpscout.iter().flat_map(|c| &c.articles).collect(),
            Provider::Helpjuice => self.helpjuice.iter().collect(),
            Provider::Freshdesk => self
                .freshdesk
                .iter()
                .flat_map(|c| &c.folders)
                .flat_map(|f| &f.articles)
                .collect(),
            Provider::Knowledgeowl => self.knowledgeowl.iter().collect(),
        }
    }
}

/// RFC 3339 UTC of a unix time (`2021-01-01T00:00:00Z`).
pub(crate) fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        (secs % 3_600) / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(T0), "2021-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn scramble_is_injective_on_large_datasets() {
        let mut ids: Vec<u64> = (0..5_000).map(scramble).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5_000);
        assert!(
            scramble(1) > scramble(2) && scramble(2) < scramble(3),
            "not monotonic"
        );
    }
}
