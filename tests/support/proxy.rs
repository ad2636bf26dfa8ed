//! A fault-injection TCP proxy for tests: sits between a client and the reference
//! server on loopback, counts bytes each way, and on command drops every connection,
//! stalls traffic, refuses new connections, or cuts a response after N bytes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Shared switches and counters.
#[derive(Default)]
struct Faults {
    refuse: AtomicBool,
    stall: AtomicBool,
    /// Cut the next response after this many bytes (0 = off).
    cut_after: AtomicUsize,
    to_server: AtomicU64,
    to_client: AtomicU64,
    connections: AtomicU64,
}

/// Handle to a running proxy.
pub struct Proxy {
    addr: SocketAddr,
    faults: Arc<Faults>,
    drop_all: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Start a proxy on 127.0.0.1:0 forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let faults = Arc::new(Faults::default());
        let (drop_all, drop_rx) = watch::channel(0u64);
        let f = Arc::clone(&faults);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                if f.refuse.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                f.connections.fetch_add(1, Ordering::SeqCst);
                let f = Arc::clone(&f);
                let mut drop_rx = drop_rx.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = pump(cr, sw, Arc::clone(&f), true);
                    let down = pump(sr, cw, Arc::clone(&f), false);
                    tokio::select! {
                        _ = async { tokio::join!(up, down) } => {}
                        _ = drop_rx.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, faults, drop_all, task }
    }

    /// Where clients should connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Close every open connection now (both directions, mid-whatever).
    pub fn drop_connections(&self) {
        self.drop_all.send_modify(|n| *n += 1);
    }

    /// Refuse (accept and close) new connections while `on`.
    pub fn refuse(&self, on: bool) {
        self.faults.refuse.store(on, Ordering::SeqCst);
    }

    /// Stop forwarding any bytes while `on` (connections stay open: a dead link).
    pub fn stall(&self, on: bool) {
        self.faults.stall.store(on, Ordering::SeqCst);
    }

    /// Cut the next server→client transfer after `n` bytes (mid-response or mid-frame).
    pub fn cut_next_response_after(&self, n: usize) {
        self.faults.cut_after.store(n, Ordering::SeqCst);
    }

    /// Bytes client→server and server→client so far.
    pub fn bytes(&self) -> (u64, u64) {
        (self.faults.to_server.load(Ordering::SeqCst), self.faults.to_client.load(Ordering::SeqCst))
    }

    /// Connections accepted and forwarded so far.
    pub fn connections(&self) -> u64 {
        self.faults.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.drop_connections();
        self.task.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    faults: Arc<Faults>,
    upstream: bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while faults.stall.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut chunk = &buf[..n];
        let mut cut = false;
        if !upstream {
            let limit = faults.cut_after.swap(0, Ordering::SeqCst);
            if limit > 0 && limit < chunk.len() {
                chunk = &chunk[..limit];
                cut = true;
            }
        }
        let counter = if upstream { &faults.to_server } else { &faults.to_client };
        counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        if to.write_all(chunk).await.is_err() || cut {
            break;
        }
    }
    let _ = to.shutdown().await;
}
