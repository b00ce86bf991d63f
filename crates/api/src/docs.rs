//! `GET /docs`: an interactive page over `/openapi.json` (Swagger UI), served by the binary
//! itself. The Swagger UI files are embedded at build time (`utoipa-swagger-ui` with its
//! `vendored` feature: the zip ships in a crate, nothing is downloaded), so the page works
//! offline and needs no CDN. No API key: the page and `/openapi.json` reveal no account data;
//! "Authorize" takes a key for "Try it out".
//!
//! The page itself is `/docs` (its assets are relative: `docs/<file>`, so it also works behind
//! a proxy that adds a path prefix); the assets are `/docs/<file>`, from a fixed list.

use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use std::sync::{Arc, LazyLock};
use utoipa_swagger_ui::Config;

/// The files of the page (everything else under `/docs/` is 404).
pub const ASSETS: [&str; 7] = [
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-initializer.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

/// The 404 message of a file that is not one of [`ASSETS`].
const NO_SUCH_FILE: &str = "No such file of the documentation page.";

/// Swagger UI's settings, written into `swagger-initializer.js`.
static CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        // Relative to the page (`/docs`): `/openapi.json`, also behind a path prefix.
        Config::new(["openapi.json"])
            // No call to the online validator (the page makes no request off this server).
            .validator_url("none")
            .display_operation_id(true)
            .persist_authorization(false)
            .try_it_out_enabled(false)
            .filter(true)
            .doc_expansion("list"),
    )
});

const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Integration API</title>
    <link rel="stylesheet" type="text/css" href="docs/swagger-ui.css">
    <link rel="stylesheet" type="text/css" href="docs/index.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="docs/swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
"#;

/// `GET /docs`
#[utoipa::path(
    get,
    path = "/docs",
    tag = "operations",
    operation_id = "docs",
    summary = "Interactive documentation",
    description = "Swagger UI over `/openapi.json`, served by this server (no CDN). No API key.",
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
    ),
)]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE)
}

/// `GET /docs/{file}`
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "operations",
    operation_id = "docsAsset",
    summary = "A file of the documentation page",
    description = "The stylesheets, scripts and icons of `/docs`, embedded in the binary.",
    params(
        ("file" = String, Path, description = "The file's name.", example = "swagger-ui.css",
            pattern = r"^(swagger-ui\.css|index\.css|swagger-ui-bundle\.js|swagger-ui-standalone-preset\.js|swagger-initializer\.js|favicon-32x32\.png|favicon-16x16\.png)$"),
    ),
    responses(
        (status = 200, description = "The file.", content(
            ("text/css"),
            ("text/javascript"),
            ("image/png"),
        )),
        (status = 404, response = crate::openapi::NotFound),
    ),
)]
pub async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = file.into_inner();
    if !ASSETS.contains(&name.as_str()) {
        return Err(ApiError::NotFound(NO_SUCH_FILE));
    }
    match utoipa_swagger_ui::serve(&name, CONFIG.clone()) {
        Ok(Some(f)) => Ok(HttpResponse::Ok()
            .content_type(content_type(&name))
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(f.bytes.into_owned())),
        Ok(None) => Err(ApiError::NotFound(NO_SUCH_FILE)),
        Err(e) => Err(ApiError::internal(e.as_ref())),
    }
}

/// The content type of an asset, by its extension.
fn content_type(name: &str) -> &'static str {
    if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else if name.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else {
        "image/png"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded() {
        for name in ASSETS {
            let file = utoipa_swagger_ui::serve(name, CONFIG.clone());
            assert!(matches!(file, Ok(Some(_))), "{name} is not embedded");
        }
    }

    #[test]
    fn the_initializer_points_at_the_document_and_no_validator() {
        let Ok(Some(file)) = utoipa_swagger_ui::serve("swagger-initializer.js", CONFIG.clone())
        else {
            panic!("no initializer");
        };
        let text = String::from_utf8_lossy(&file.bytes);
        assert!(text.contains("\"url\": \"openapi.json\""), "{text}");
        assert!(text.contains("\"validatorUrl\": \"none\""), "{text}");
    }
}
