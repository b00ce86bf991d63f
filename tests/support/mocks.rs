//! Local stand-ins for providers, following their documented behaviour.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::net::TcpListener;

/// A Zendesk account: `GET /api/v2/users/me.json` answers the agent for the right
/// `{email}/token:{token}` Basic credentials, and (as Zendesk does) **200 with an anonymous
/// user** for anything else.
pub struct MockZendesk {
    pub base_url: String,
    handle: actix_web::dev::ServerHandle,
}

pub const ZENDESK_EMAIL: &str = "agent@example.com";

impl MockZendesk {
    pub fn start(token: &str) -> MockZendesk {
        let expected = format!(
            "Basic {}",
            STANDARD.encode(format!("{ZENDESK_EMAIL}/token:{token}"))
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let expected = expected.clone();
            App::new().route(
                "/api/v2/users/me.json",
                web::get().to(move |req: HttpRequest| {
                    let ok = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        == Some(expected.as_str());
                    async move {
                        if ok {
                            HttpResponse::Ok().json(serde_json::json!({"user": {
                                "id": 1234, "name": "Agent", "email": ZENDESK_EMAIL,
                                "role": "admin", "active": true}}))
                        } else {
                            HttpResponse::Ok().json(serde_json::json!({"user": {
                                "id": null, "name": "Anonymous user",
                                "email": "invalid@example.com", "role": "end-user"}}))
                        }
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        MockZendesk {
            base_url: format!("http://127.0.0.1:{port}"),
            handle,
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// A TCP server that accepts connections and never answers (deadline tests).
pub async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("http://{addr}"), task)
}

/// One local stand-in answering the probe of every help-center provider, each only with the
/// documented authentication of that provider (anything else is 401, or Zendesk's anonymous
/// 200). Point every `providers.<name>.base_url` at `base_url`.
pub struct MockHelpCenters {
    pub base_url: String,
    handle: actix_web::dev::ServerHandle,
}

/// The one secret each provider accepts.
pub const GOOD_SECRET: &str = "good-secret-123";

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

impl MockHelpCenters {
    pub fn start() -> MockHelpCenters {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(|| {
            let auth = |req: &HttpRequest| {
                req.headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let unauthorized = || HttpResponse::Unauthorized().json(serde_json::json!({"error": "unauthorized"}));
            App::new()
                .route(
                    "/api/v2/users/me.json",
                    web::get().to(move |req: HttpRequest| async move {
                        if auth(&req) == Some(basic(&format!("{ZENDESK_EMAIL}/token"), GOOD_SECRET)) {
                            HttpResponse::Ok().json(serde_json::json!({"user": {"id": 7, "role": "agent"}}))
                        } else {
                            HttpResponse::Ok().json(serde_json::json!({"user": {"id": null, "role": "end-user"}}))
                        }
                    }),
                )
                .route(
                    "/me",
                    web::get().to(move |req: HttpRequest| async move {
                        let versioned = req.headers().contains_key("intercom-version");
                        if versioned && auth(&req) == Some(format!("Bearer {GOOD_SECRET}")) {
                            HttpResponse::Ok().json(serde_json::json!({"type": "admin", "id": "1", "email": "a@example.com"}))
                        } else {
                            HttpResponse::Unauthorized().json(serde_json::json!({"type": "error.list",
                                "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]}))
                        }
                    }),
                )
                .route(
                    "/v1/sites",
                    web::get().to(move |req: HttpRequest| async move {
                        if auth(&req) == Some(basic(GOOD_SECRET, "X")) {
                            HttpResponse::Ok().json(serde_json::json!({"sites": {"page": 1, "pages": 1, "count": 1, "items": [{"id": "s1"}]}}))
                        } else {
                            unauthorized()
                        }
                    }),
                )
                .route(
                    "/api/v3/settings/account",
                    web::get().to(move |req: HttpRequest| async move {
                        if auth(&req).as_deref() == Some(GOOD_SECRET) {
                            HttpResponse::Ok().json(serde_json::json!({"name": "Acme", "subdomain": "acme"}))
                        } else {
                            unauthorized()
                        }
                    }),
                )
                .route(
                    "/api/v2/agents/me",
                    web::get().to(move |req: HttpRequest| async move {
                        if auth(&req) == Some(basic(GOOD_SECRET, "X")) {
                            HttpResponse::Ok().json(serde_json::json!({"id": 42, "contact": {"email": "a@example.com"}}))
                        } else {
                            HttpResponse::Unauthorized().json(serde_json::json!({"code": "invalid_credentials",
                                "message": "You have to be logged in to perform this action."}))
                        }
                    }),
                )
                .route(
                    "/api/head/article.json",
                    web::get().to(move |req: HttpRequest| async move {
                        let scoped = req.query_string().contains("project_id=");
                        let ok = auth(&req).is_some_and(|a| {
                            let decoded = a
                                .strip_prefix("Basic ")
                                .and_then(|b| STANDARD.decode(b).ok())
                                .and_then(|b| String::from_utf8(b).ok())
                                .unwrap_or_default();
                            decoded.split_once(':').map(|(u, _)| u) == Some(GOOD_SECRET)
                        });
                        if ok && scoped {
                            HttpResponse::Ok().json(serde_json::json!({"valid": true, "data": []}))
                        } else {
                            unauthorized()
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        MockHelpCenters {
            base_url: format!("http://127.0.0.1:{port}"),
            handle,
        }
    }

    /// The settings that point every help-center provider at this server.
    pub fn overrides(&self) -> Vec<(&'static str, String)> {
        [
            "PROVIDERS__ZENDESK__BASE_URL",
            "PROVIDERS__INTERCOM__BASE_URL",
            "PROVIDERS__INTERCOM__BASE_URL_EU",
            "PROVIDERS__INTERCOM__BASE_URL_AU",
            "PROVIDERS__HELPSCOUT__BASE_URL",
            "PROVIDERS__HELPJUICE__BASE_URL",
            "PROVIDERS__FRESHDESK__BASE_URL",
            "PROVIDERS__KNOWLEDGEOWL__BASE_URL",
        ]
        .into_iter()
        .map(|k| (k, self.base_url.clone()))
        .collect()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
