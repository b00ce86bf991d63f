//! 256 Zendesk verifications in flight against a local provider that answers after 3 s.
//! Prints the total time; with the blocking pool it is about 3 s, not 256 × 3 s.
//!
//! `cargo run -p integrations-helpcenter --example concurrency [-- COUNT DELAY_MS]`

use std::error::Error;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use integrations_domain::{ConnectionVerifier, Credentials, CredentialsInput, Provider};
use integrations_helpcenter::{HelpcenterConfig, HelpcenterVerifier};

/// A provider that answers every request after `delay`, one thread per connection.
fn slow_provider(delay: Duration) -> Result<u16, Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                thread::sleep(delay);
                let body = r#"{"user":{"id":1,"role":"admin"}}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    Ok(port)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(256);
    let delay = Duration::from_millis(args.next().map(|a| a.parse()).transpose()?.unwrap_or(3000));

    let port = slow_provider(delay)?;
    let verifier = HelpcenterVerifier::new(HelpcenterConfig {
        timeout: Duration::from_secs(10),
        allow_private_networks: true,
        zendesk_base_url: format!("http://127.0.0.1:{port}"),
        ..HelpcenterConfig::default()
    })?;
    let input = CredentialsInput::new()
        .with("username", "agent@acme.test")
        .with("token", "example-token")
        .with("subdomain", "acme");
    let credentials = Credentials::parse(Provider::Zendesk, &input, None)
        .map_err(|e| format!("invalid credentials: {e:?}"))?;

    let started = Instant::now();
    let results = join_all((0..count).map(|_| verifier.verify(&credentials))).await;
    let elapsed = started.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!(
        "{count} verifications against a provider answering after {delay:?}: {ok} succeeded, total {elapsed:.2?}"
    );
    for failure in results.iter().filter_map(|r| r.as_ref().err()).take(3) {
        println!("  failure: {failure}");
    }
    Ok(())
}
