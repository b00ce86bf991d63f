//! A TCP proxy that can be cut and restored on the same port: the database "goes away" for the
//! app under test without touching the real server other tests use.

use std::net::SocketAddr;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    target: SocketAddr,
    task: Option<JoinHandle<()>>,
}

fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(128)
}

async fn serve(listener: tokio::net::TcpListener, target: SocketAddr) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        conns.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
    // Dropping the task (abort) drops the JoinSet, which aborts every connection.
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = bind(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        Proxy {
            port,
            target,
            task: Some(tokio::spawn(serve(listener, target))),
        }
    }

    /// Closes the listener and every open connection.
    pub async fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match bind(self.port) {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot rebind proxy port {}: {e}", self.port),
            }
        };
        self.task = Some(tokio::spawn(serve(listener, self.target)));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
