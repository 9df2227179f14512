//! What a connection may cost: silent and half-sent connections are closed after the header
//! deadline, one client IP cannot hold more than its share, and a refused connection gets a
//! 503 at once. The real server on a real socket.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{write_fake_assets, TestServer};
use porchlight_server::app::config::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

async fn server_with(limits: &str) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    write_fake_assets(&dir.path().join("dist"));
    let toml = format!("{}\n{limits}\n", common::config(0));
    let server = TestServer::start(&toml, dir.path()).await;
    (server, dir)
}

/// A connection from another loopback address (Linux routes all of 127/8 to lo), so a test can
/// be two clients.
async fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection (or `limit` passes); returns what was read and
/// whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn silent_and_half_sent_connections_are_closed_after_the_header_deadline() {
    let (server, _dir) = server_with("[limits]\nheader_timeout_secs = 2").await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(8)).await;
    assert!(closed, "a connection that sends nothing is closed");
    let (_, closed) = read_until_closed(&mut half, Duration::from_secs(8)).await;
    assert!(closed, "half a request head is not waited for forever");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8), "{waited:?}");

    // A keep-alive connection that goes quiet after a request is closed the same way.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (answer, closed) = read_until_closed(&mut idle, Duration::from_secs(8)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed, "an idle keep-alive connection is closed");
    server.assert_alive().await;
}

#[tokio::test]
async fn hundreds_of_silent_sockets_from_one_client_do_not_lock_out_another() {
    let (server, _dir) = server_with("[limits]\nheader_timeout_secs = 30\nconnections_per_ip = 50").await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..300 {
        held.push(connect_from("127.0.0.2", server.addr).await);
    }
    // Those past the per-IP cap are told so at once, and closed.
    for stream in held.iter_mut().skip(50) {
        let (answer, closed) = read_until_closed(stream, Duration::from_secs(5)).await;
        if answer.starts_with("HTTP/1.1 503") && closed {
            refused += 1;
        }
    }
    assert_eq!(refused, 250, "every connection past the cap of 50 gets a 503");
    // Another client is served at once while the 50 silent ones are still open.
    let started = Instant::now();
    let response = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
}

#[test]
fn limits_come_from_the_config_and_bad_ones_are_refused() {
    let s = Settings::from_toml(
        "trusted_proxies = [\"127.0.0.1\"]\n[limits]\nheader_timeout_secs = 5\nmax_connections = 100\nconnections_per_ip = 7\n",
    )
    .unwrap();
    assert_eq!(s.limits.header_timeout, Duration::from_secs(5));
    assert_eq!((s.limits.max_connections, s.limits.connections_per_ip), (Some(100), 7));
    assert_eq!(s.limits.trusted_proxies, vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
    let e = Settings::from_toml("trusted_proxies = [\"proxy.example\"]\n").unwrap_err().to_string();
    assert!(e.contains("trusted_proxies"), "{e}");
    let e = Settings::from_toml("[limits]\nconnections_per_ip = 0\n").unwrap_err().to_string();
    assert!(e.contains("connections_per_ip"), "{e}");
}
