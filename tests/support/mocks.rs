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
