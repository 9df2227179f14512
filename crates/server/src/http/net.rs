//! The accept loop: what a TCP connection may cost the server before it has sent a request.
//!
//! `axum::serve` keeps a connection that sends nothing (or half a request head) open for as long
//! as the peer likes, so a few hundred silent sockets used up the process's file descriptors and
//! locked everyone else out. Here every connection gets a deadline for its request head (also
//! between keep-alive requests, so idle connections go too), the number of open connections is
//! capped overall and per client IP, and a refused connection gets a short `503` instead of
//! silence. Responses that are streams (SSE) are not affected: they stay open while they are read.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

pub use crate::app::config::{ConnectionLimits, DEFAULT_CONNECTIONS_PER_IP, DEFAULT_HEADER_TIMEOUT};

/// Raises the soft limit on open files to the hard limit and returns the new soft limit: the
/// default 1024 (or 256 on some systems) is far below what a server with event streams needs.
pub fn raise_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        limit.rlim_cur
    }
}

/// Counts open connections, overall and per IP; a [`Slot`] gives its place back when dropped.
#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total -= 1;
        if let Some(ip) = self.ip {
            if let Some(n) = counts.per_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    counts.per_ip.remove(&ip);
                }
            }
        }
    }
}

fn take_slot(counts: &Arc<Mutex<Counts>>, ip: Option<IpAddr>, max: usize, per_ip: usize) -> Option<Slot> {
    let mut c = counts.lock().unwrap_or_else(|p| p.into_inner());
    if c.total >= max {
        return None;
    }
    if let Some(ip) = ip {
        let n = c.per_ip.entry(ip).or_insert(0);
        if *n >= per_ip {
            return None;
        }
        *n += 1;
    }
    c.total += 1;
    Some(Slot { counts: counts.clone(), ip })
}

/// The client a request is from: the TCP peer, or, when the peer is a trusted proxy, the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_addr(peer: SocketAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    match forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)) {
        Some(ip) => SocketAddr::new(ip, 0),
        None => peer,
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits up to `drain` for open
/// requests. Returns whether the drain finished in time.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> bool {
    let file_limit = raise_file_limit();
    let max = limits.max_connections.unwrap_or((file_limit as usize).saturating_mul(3) / 4).max(1);
    tracing::info!(
        open_files = file_limit,
        max_connections = max,
        connections_per_ip = limits.connections_per_ip,
        header_timeout_secs = limits.header_timeout.as_secs(),
        "accepting connections"
    );
    let counts = Arc::new(Mutex::new(Counts::default()));
    let graceful = GracefulShutdown::new();
    let trusted: Arc<[IpAddr]> = limits.trusted_proxies.clone().into();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before accept): wait a moment
                    // rather than spin; open connections will close and free some.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let per_ip_key = (!trusted.contains(&peer.ip())).then_some(peer.ip());
        let Some(slot) = take_slot(&counts, per_ip_key, max, limits.connections_per_ip) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        // A peer that vanished (a laptop put to sleep, a cable pulled) is noticed in about 50 s
        // instead of the ~15 minutes of TCP retransmission, so its event stream ends and an
        // operator behind it is away within the minute.
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(20))
            .with_interval(Duration::from_secs(10))
            .with_retries(3);
        let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        let app = app.clone();
        let trusted = trusted.clone();
        let service = tower::service_fn(move |mut request: axum::http::Request<Incoming>| {
            let client = client_addr(peer, request.headers(), &trusted);
            request.extensions_mut().insert(ConnectInfo(client));
            app.clone().oneshot(request)
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
        let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => true,
        () = tokio::time::sleep(drain) => false,
    }
}

/// A refused connection learns why at once instead of waiting for a timeout.
async fn refuse(mut stream: TcpStream) {
    let answer = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n\
                   Content-Type: text/plain\r\nContent-Length: 21\r\n\r\ntoo many connections\n";
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(answer)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_overall_and_per_ip_and_given_back() {
        let counts = Arc::new(Mutex::new(Counts::default()));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = take_slot(&counts, Some(a), 3, 2).unwrap();
        let _second = take_slot(&counts, Some(a), 3, 2).unwrap();
        assert!(take_slot(&counts, Some(a), 3, 2).is_none(), "a's own cap");
        let _third = take_slot(&counts, Some(b), 3, 2).unwrap();
        assert!(take_slot(&counts, Some(b), 3, 2).is_none(), "the overall cap");
        drop(first);
        assert!(take_slot(&counts, Some(a), 3, 2).is_some(), "a closed connection frees its place");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.7".parse().unwrap());
        let peer = SocketAddr::new(proxy, 5000);
        assert_eq!(client_addr(peer, &headers, &[]).ip(), proxy, "no trusted proxies: the peer");
        // The right-most address not a proxy: the left ones are whatever the client wrote.
        assert_eq!(client_addr(peer, &headers, &[proxy]).ip(), "203.0.113.7".parse::<IpAddr>().unwrap());
        let stranger = SocketAddr::new("198.51.100.1".parse().unwrap(), 5000);
        assert_eq!(client_addr(stranger, &headers, &[proxy]), stranger, "an untrusted peer's header is ignored");
    }
}
