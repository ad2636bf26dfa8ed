//! A fault-injection TCP proxy for tests: sits between a client and the reference
//! server on loopback, counts bytes each way and HTTP requests by request line, and on
//! command drops every connection, stalls traffic, refuses new connections, or cuts the
//! response that carries a given text after N bytes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Shared switches and counters.
#[derive(Default)]
struct Faults {
    refuse: AtomicBool,
    stall: AtomicBool,
    /// The armed cut, if any.
    cut: Mutex<Option<Cut>>,
    to_server: AtomicU64,
    to_client: AtomicU64,
    connections: AtomicU64,
    requests: Mutex<Vec<Request>>,
}

/// Cut the first server→client chunk that contains `marker` (any chunk when it is empty)
/// and is longer than `after`, `after` bytes in.
struct Cut {
    marker: Vec<u8>,
    after: usize,
}

impl Faults {
    /// Where to cut `chunk`, if it is the one the armed cut waits for (disarming it).
    fn cut_point(&self, chunk: &[u8]) -> Option<usize> {
        let mut armed = self.cut.lock().ok()?;
        let cut = armed.as_ref()?;
        let carries =
            cut.marker.is_empty() || chunk.windows(cut.marker.len()).any(|w| w == cut.marker.as_slice());
        let hit = cut.after < chunk.len() && carries;
        if hit {
            armed.take().map(|c| c.after)
        } else {
            None
        }
    }
}

/// One HTTP request seen going upstream.
#[derive(Debug, Clone)]
pub struct Request {
    /// When its head was complete.
    pub at: Instant,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path without the query.
    pub path: String,
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
                // Only drops ordered from now on concern this connection.
                drop_rx.borrow_and_update();
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

    /// Cut the next server→client transfer longer than `n` bytes after `n` bytes
    /// (mid-response or mid-frame), whatever it carries.
    pub fn cut_next_response_after(&self, n: usize) {
        self.cut_response_containing("", n);
    }

    /// Cut the next server→client transfer that carries `marker` after `n` bytes
    /// (mid-response or mid-frame) and close its connection. Keyed to the text rather than
    /// to whatever comes next: a late answer on another connection (a catch-up fetch, a
    /// stalled socket's backlog) must not take the cut meant for a push frame.
    pub fn cut_response_containing(&self, marker: &str, n: usize) {
        if let Ok(mut armed) = self.faults.cut.lock() {
            *armed = Some(Cut { marker: marker.as_bytes().to_vec(), after: n });
        }
    }

    /// Bytes client→server and server→client so far.
    pub fn bytes(&self) -> (u64, u64) {
        (self.faults.to_server.load(Ordering::SeqCst), self.faults.to_client.load(Ordering::SeqCst))
    }

    /// Every HTTP request seen so far (websocket frames are not requests).
    pub fn requests(&self) -> Vec<Request> {
        self.faults.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Requests whose path starts with `prefix` since `since`.
    pub fn count(&self, prefix: &str, since: Instant) -> usize {
        self.requests().iter().filter(|r| r.at >= since && r.path.starts_with(prefix)).count()
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
    let mut parser = RequestParser::default();
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
            if let Some(limit) = faults.cut_point(chunk) {
                chunk = &chunk[..limit];
                cut = true;
            }
        }
        if upstream {
            for (method, path) in parser.feed(chunk) {
                if let Ok(mut r) = faults.requests.lock() {
                    r.push(Request { at: Instant::now(), method, path });
                }
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

/// Finds request lines in a client→server byte stream: reads each head, skips its
/// `Content-Length` body, and stops at a websocket upgrade (frames follow, not requests).
#[derive(Default)]
struct RequestParser {
    head: Vec<u8>,
    body_left: usize,
    opaque: bool,
}

impl RequestParser {
    fn feed(&mut self, mut data: &[u8]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        while !data.is_empty() && !self.opaque {
            if self.body_left > 0 {
                let n = self.body_left.min(data.len());
                self.body_left -= n;
                data = &data[n..];
                continue;
            }
            self.head.extend_from_slice(data);
            data = &[];
            let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else { break };
            let head = String::from_utf8_lossy(&self.head[..end]).into_owned();
            let rest = self.head[end + 4..].to_vec();
            self.head.clear();
            let mut lines = head.split("\r\n");
            let mut words = lines.next().unwrap_or_default().split(' ');
            let method = words.next().unwrap_or_default().to_string();
            let target = words.next().unwrap_or_default();
            let path = target.split('?').next().unwrap_or_default().to_string();
            found.push((method, path));
            for line in lines {
                let Some((name, value)) = line.split_once(':') else { continue };
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    self.body_left = value.trim().parse().unwrap_or(0);
                } else if name == "upgrade" && value.trim().eq_ignore_ascii_case("websocket") {
                    self.opaque = true;
                }
            }
            // What followed the head is body or the next request: go round with it.
            let n = self.body_left.min(rest.len());
            self.body_left -= n;
            self.head.extend_from_slice(&rest[n..]);
            if self.opaque {
                self.head.clear();
            }
            if !self.head.is_empty() {
                data = &[];
                let pending = std::mem::take(&mut self.head);
                found.extend(self.feed(&pending));
            }
        }
        found
    }
}
