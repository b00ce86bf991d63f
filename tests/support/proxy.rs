//! A TCP proxy in front of the test database that can be cut (connections closed, port
//! refusing) or frozen (connections kept open, nothing forwarded: a network partition) and
//! restored on the same port, without touching the real server other tests use.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    target: SocketAddr,
    frozen: Arc<AtomicBool>,
    task: Option<JoinHandle<()>>,
}

fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(128)
}

/// Copies one direction, holding data back while frozen.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, target: SocketAddr, frozen: Arc<AtomicBool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let frozen = frozen.clone();
        conns.spawn(async move {
            if let Ok(outbound) = TcpStream::connect(target).await {
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                let up = pump(ri, wo, frozen.clone());
                let down = pump(ro, wi, frozen);
                tokio::join!(up, down);
            }
        });
    }
    // Aborting this task drops the JoinSet, which aborts every connection.
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = bind(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(AtomicBool::new(false));
        Proxy {
            port,
            target,
            task: Some(tokio::spawn(serve(listener, target, frozen.clone()))),
            frozen,
        }
    }

    /// Closes the listener and every open connection.
    pub async fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Keeps every connection open but forwards nothing.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }

    pub fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match bind(self.port) {
                Ok(l) => break l,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot rebind proxy port {}: {e}", self.port),
            }
        };
        self.task = Some(tokio::spawn(serve(
            listener,
            self.target,
            self.frozen.clone(),
        )));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
