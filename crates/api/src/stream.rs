//! An export body, from actix's payload (bound to its worker thread) to the domain's
//! `ByteStream` (sendable to the provider's HTTP client), chunk by chunk through a small
//! bounded channel: back-pressure all the way, the body is never held whole. A client that
//! stops sending for `idle` is cut off.

use actix_web::web;
use bytes::Bytes;
use futures_util::StreamExt;
use integrations_domain::{BodyError, ByteStream};
use std::time::Duration;

/// Chunks buffered between the client and the provider.
const CHANNEL_CHUNKS: usize = 4;

pub(crate) fn pump(mut payload: web::Payload, idle: Duration) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BodyError>>(CHANNEL_CHUNKS);
    actix_web::rt::spawn(async move {
        loop {
            let next = match tokio::time::timeout(idle, payload.next()).await {
                Ok(Some(Ok(chunk))) => Ok(chunk),
                Ok(Some(Err(_))) => Err(BodyError(
                    "the client stopped sending the body before its end".into(),
                )),
                Ok(None) => break,
                Err(_) => Err(BodyError(format!(
                    "no body data arrived for {} s",
                    idle.as_secs()
                ))),
            };
            let stop = next.is_err();
            if tx.send(next).await.is_err() || stop {
                break;
            }
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
