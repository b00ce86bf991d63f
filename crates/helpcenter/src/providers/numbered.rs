//! The walk over numbered listing pages that Intercom, Helpjuice and KnowledgeOwl share:
//! `GET {path}?[filter&]page={n}&{size parameter}={size}` from page 1, one call a page. The
//! page count in the answer tells whether more pages follow (without it, a full page does); an
//! empty page ends the listing whatever the count says. Each provider only names its path, its
//! page size and any filter, and reads its answer ([`NumberedPages::page`]). The position
//! holds the page number, the article and the image.

use integrations_domain::VerificationFailure;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{HelpCenter, Walked};
use crate::images::{self, Listed, Session, Slot};
use crate::outcome::Target;

/// Where an import stands: the page number (from 1), and the article and image on it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct At {
    page: u32,
    slot: Slot,
}

impl Default for At {
    fn default() -> Self {
        Self {
            page: 1,
            slot: Slot::default(),
        }
    }
}

/// One listing page, read.
pub(crate) struct Page {
    pub(crate) articles: Vec<Listed>,
    /// How many pages the listing has, when the answer says.
    pub(crate) total_pages: Option<u32>,
}

/// The page count in a listing's answer (`{"total_pages": n}`, under the provider's name).
#[derive(Deserialize)]
pub(crate) struct PageCount {
    #[serde(default)]
    pub(crate) total_pages: Option<u32>,
}

/// A help center whose article listing is numbered pages:
/// `GET {ARTICLES}?[filter&]page={n}&{PER_PAGE.0}={PER_PAGE.1}`.
pub(crate) trait NumberedPages: HelpCenter<At = At> {
    /// The listing's path.
    const ARTICLES: &'static str;
    /// The page size's query parameter and the size asked for (without a page count in the
    /// answer, a full page means more may follow).
    const PER_PAGE: (&'static str, u32);
    /// A listing page as the provider answers it.
    type List: DeserializeOwned;

    /// The query pair before `page`, if any.
    fn filter(_c: &Self::Creds) -> Option<(&'static str, &str)> {
        None
    }

    /// The articles of `list` and its page count, or why the answer is a failure after all.
    fn page(
        c: &Self::Creds,
        target: &Target,
        list: Self::List,
    ) -> Result<Page, VerificationFailure>;
}

/// The [`HelpCenter::walk`] of a [`NumberedPages`] help center.
pub(crate) async fn walk<P: NumberedPages>(
    s: &mut Session<'_>,
    c: &P::Creds,
    mut at: At,
) -> Walked<At> {
    let (size_parameter, size) = P::PER_PAGE;
    let per_page = size.to_string();
    loop {
        if !s.may_call() {
            return Ok(Some(at));
        }
        let page_number = at.page.to_string();
        let mut q = Vec::with_capacity(3);
        q.extend(P::filter(c));
        q.push(("page", page_number.as_str()));
        q.push((size_parameter, per_page.as_str()));
        let list: P::List = s
            .get(
                &format!("{}?{}", P::ARTICLES, images::query(&q)),
                "article list",
            )
            .await?;
        let page = P::page(c, s.target(), list)?;
        let count = page.articles.len();
        if let Some(slot) = s.page(&page.articles, at.slot) {
            at.slot = slot;
            return Ok(Some(at));
        }
        let more = match page.total_pages {
            Some(total) => at.page < total,
            None => count >= size as usize,
        };
        if !more || count == 0 {
            return Ok(None);
        }
        at = At {
            page: at.page.saturating_add(1),
            slot: Slot::default(),
        };
        s.moved();
    }
}
