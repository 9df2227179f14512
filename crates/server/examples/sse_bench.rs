//! Live chat benchmark (not a test): N visitor event streams, each receiving one operator
//! message a second, against a release-built `porchlight` on loopback.
//!
//! ```text
//! cargo build --release -p porchlight-server --bin porchlight --example sse_bench
//! ulimit -n 20000   # each process holds ~11,000 sockets at 10,000 streams
//! target/release/examples/sse_bench --streams 1000
//! target/release/examples/sse_bench --streams 10000 --senders 1024 [--rate 1000] [--seconds 70]
//! ```
//!
//! Reports delivery latency (operator POST sent → message event parsed by the visitor's stream)
//! p50 / p99 / max, messages sent and received, and the server's peak RSS (VmRSS from
//! `/proc/<pid>/status`, sampled every 500 ms). The server and this client share the machine.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The same allocator as the server: the client shares the two cores with it, and every cycle
/// it spends in glibc's malloc is one the server does not get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const OPERATOR_TOKEN: &str = "bench-operator-token-0123456789";

struct Args {
    streams: usize,
    seconds: u64,
    server: String,
    senders: usize,
    /// Messages per second over all conversations (default: one per conversation per second).
    rate: Option<usize>,
}

fn args() -> Args {
    let mut args = Args {
        streams: 1000,
        // Long enough for the WAL to start over a few times at 10,000 messages a second (every
        // ~17 s): a 20 s run holds at most one of those stops and flatters p99.
        seconds: 70,
        server: concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/release/porchlight").into(),
        senders: 64,
        rate: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--streams" => args.streams = value.parse().expect("--streams N"),
            "--seconds" => args.seconds = value.parse().expect("--seconds S"),
            "--server" => args.server = value,
            "--senders" => args.senders = value.parse().expect("--senders N"),
            "--rate" => args.rate = Some(value.parse().expect("--rate MESSAGES_PER_SECOND")),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// The process's CPU time so far (user + system), from `/proc/<pid>/stat`, in seconds: the
/// latency figures move a lot with the shared VM's load, CPU per message much less.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11..13).map_or(0, |t| t.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    ticks as f64 / clock_ticks_per_sec()
}

/// The unit of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`; 100 on every common Linux).
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The latencies of `timed` ((sent at, latency) in µs) grouped by window of `width_us` after
/// `start_us`, keyed by the window's number.
fn by_when_sent(timed: &[(u64, u64)], start_us: u64, width_us: u64) -> std::collections::BTreeMap<u64, Vec<u64>> {
    let mut windows = std::collections::BTreeMap::<u64, Vec<u64>>::new();
    for &(sent, latency) in timed {
        windows.entry(sent.saturating_sub(start_us) / width_us).or_default().push(latency);
    }
    windows
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = std::env::temp_dir().join(format!("porchlight-sse-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bench.toml");
    std::fs::write(&config, format!("operator_token = \"{OPERATOR_TOKEN}\"\n[rate_limit]\nwrites_per_minute = 0\n"))
        .unwrap();
    let mut server = Command::new(&args.server)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.join("bench.db"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (build it with --release first)", args.server));
    let pid = server.id();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").expect("listening on line").to_owned();
    println!("server pid {pid} at {base}; idle RSS {} MiB", rss_kib(pid) / 1024);

    let client = reqwest::Client::builder().pool_max_idle_per_host(args.senders * 2).build().unwrap();

    // 1. Conversations.
    let started = Instant::now();
    let conversations: Vec<(String, String)> = {
        let next = Arc::new(AtomicU64::new(0));
        let out = Arc::new(Mutex::new(Vec::with_capacity(args.streams)));
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (client, base, next, out, n) = (client.clone(), base.clone(), next.clone(), out.clone(), args.streams);
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= n {
                        break;
                    }
                    let body = json!({"message": {"client_id": format!("bench-visitor-{i:08}"), "body": "hi"}});
                    let response = client.post(format!("{base}/v1/sites/demo/conversations")).json(&body).send().await;
                    let value: Value = response.unwrap().json().await.unwrap();
                    out.lock().unwrap().push((
                        value["conversation_id"].as_str().unwrap().to_owned(),
                        value["token"].as_str().unwrap().to_owned(),
                    ));
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(out).unwrap().into_inner().unwrap()
    };
    println!("{} conversations in {:.1} s", conversations.len(), started.elapsed().as_secs_f64());

    // 2. Streams.
    let epoch = Instant::now();
    // (sent at, latency), µs since `epoch`.
    let latencies = Arc::new(Mutex::new(Vec::<(u64, u64)>::new()));
    let received = Arc::new(AtomicU64::new(0));
    let opened = Arc::new(AtomicU64::new(0));
    let stream_client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut stream_tasks = Vec::new();
    let opening = Instant::now();
    for (id, token) in &conversations {
        let url = format!("{base}/v1/sites/demo/conversations/{id}/events?token={token}");
        let (client, latencies, received, opened) =
            (stream_client.clone(), latencies.clone(), received.clone(), opened.clone());
        stream_tasks.push(tokio::spawn(async move {
            let mut response = match client.get(&url).send().await {
                Ok(r) if r.status() == 200 => r,
                Ok(r) => return eprintln!("stream: {}", r.status()),
                Err(e) => return eprintln!("stream: {e}"),
            };
            opened.fetch_add(1, Ordering::Relaxed);
            let mut buffer = Vec::new();
            let mut mine = Vec::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                buffer.extend_from_slice(&chunk);
                // Only whole lines; a message event's data carries `"body":"t=<µs>"`.
                let Some(end) = buffer.iter().rposition(|&b| b == b'\n') else { continue };
                for sent in sent_stamps(&buffer[..end]) {
                    let now = epoch.elapsed().as_micros() as u64;
                    mine.push((sent, now.saturating_sub(sent)));
                    received.fetch_add(1, Ordering::Relaxed);
                }
                buffer.drain(..=end);
                if mine.len() >= 64 {
                    latencies.lock().unwrap().append(&mut mine);
                }
            }
            latencies.lock().unwrap().append(&mut mine);
        }));
    }
    while (opened.load(Ordering::Relaxed) as usize) < conversations.len() && opening.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{} streams open in {:.1} s; RSS {} MiB",
        opened.load(Ordering::Relaxed),
        opening.elapsed().as_secs_f64(),
        rss_kib(pid) / 1024
    );

    // 3. One operator message per conversation per second, spread evenly over the second.
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = peak_rss.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let sent = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let conversations = Arc::new(conversations);
    let run = Duration::from_secs(args.seconds);
    let addr = base.strip_prefix("http://").expect("http base").to_owned();
    // The operators' keep-alive connections exist before the clock starts: a console opens
    // its connection once per shift, and 1,024 handshakes in the first 200 ms of the run
    // measured the connect burst, not delivery.
    let mut connections = Vec::with_capacity(args.senders);
    for _ in 0..args.senders {
        connections.push(Connection::open(&addr).await);
    }
    let steal_start = cpu_steal_ticks();
    let disk_start = disk_write_bytes(pid);
    let server_cpu_start = cpu_secs(pid);
    let client_cpu_start = cpu_secs(std::process::id());
    let run_start = Instant::now();
    // Each conversation gets a message every `period`.
    let rate = args.rate.unwrap_or(conversations.len()).max(1);
    let period = Duration::from_secs_f64(conversations.len() as f64 / rate as f64);
    let mut senders = Vec::new();
    for (s, mut connection) in connections.into_iter().enumerate() {
        let (conversations, sent, failed) = (conversations.clone(), sent.clone(), failed.clone());
        let senders_n = args.senders;
        senders.push(tokio::spawn(async move {
            let mine: Vec<usize> = (s..conversations.len()).step_by(senders_n).collect();
            if mine.is_empty() {
                return;
            }
            let gap = period / mine.len() as u32;
            let mut round = 0u64;
            // Senders start spread over one gap, so the asked rate holds from the first second.
            let mut next = run_start + gap * s as u32 / senders_n as u32;
            while run_start.elapsed() < run {
                for &i in &mine {
                    tokio::time::sleep_until(next.into()).await;
                    next += gap;
                    if run_start.elapsed() >= run {
                        return;
                    }
                    let id = &conversations[i].0;
                    let t = epoch.elapsed().as_micros() as u64;
                    let body = format!(r#"{{"client_id":"bench-op-{i:08}-{round:06}","body":"t={t}"}}"#);
                    if connection.post(&format!("/v1/console/conversations/{id}/messages"), body).await {
                        sent.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                round += 1;
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let elapsed = run_start.elapsed();
    // Let the last messages arrive.
    let want = sent.load(Ordering::Relaxed);
    let settle = Instant::now();
    while received.load(Ordering::Relaxed) < want && settle.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_end = rss_kib(pid);
    let server_cpu = cpu_secs(pid) - server_cpu_start;
    let disk_written = disk_write_bytes(pid).zip(disk_start).map(|(end, start)| end.saturating_sub(start));
    let client_cpu = cpu_secs(std::process::id()) - client_cpu_start;
    let run_wall = run_start.elapsed().as_secs_f64();
    let steal = cpu_steal_ticks().zip(steal_start).map(|(end, start)| (end.0 - start.0, end.1 - start.1));
    sampler.abort();
    let _ = server.kill();
    let _ = server.wait();
    for t in stream_tasks {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
    let timed = latencies.lock().unwrap().clone();
    let mut all: Vec<u64> = timed.iter().map(|&(_, latency)| latency).collect();
    all.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "streams {n}, {secs:.1} s: sent {sent} ({rate:.0}/s, target {target}/s), failed {failed}, received {recv}",
        n = conversations.len(),
        target = args.rate.unwrap_or(conversations.len()),
        secs = elapsed.as_secs_f64(),
        sent = want,
        rate = want as f64 / elapsed.as_secs_f64(),
        failed = failed.load(Ordering::Relaxed),
        recv = received.load(Ordering::Relaxed),
    );
    println!(
        "delivery latency (POST sent -> event parsed): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&all, 0.50)),
        ms(percentile(&all, 0.99)),
        ms(all.last().copied().unwrap_or(0))
    );
    println!(
        "server RSS: peak {} MiB, at end {} MiB",
        peak_rss.load(Ordering::Relaxed).max(rss_end) / 1024,
        rss_end / 1024
    );
    // Where the slow deliveries are: spread out (queueing) or bunched (a stall)?
    const SLOW_US: u64 = 50_000;
    let run_start_us = (run_start - epoch).as_micros() as u64;
    let slow_per_half_second: Vec<(u64, usize)> = by_when_sent(&timed, run_start_us, 500_000)
        .into_iter()
        .map(|(w, window)| (w, window.iter().filter(|&&latency| latency > SLOW_US).count()))
        .filter(|&(_, n)| n > 0)
        .collect();
    let slow: usize = slow_per_half_second.iter().map(|&(_, n)| n).sum();
    let mut worst = slow_per_half_second;
    worst.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let worst: Vec<String> = worst
        .iter()
        .take(3)
        .map(|&(w, n)| format!("{n} sent at {:.1}-{:.1} s", w as f64 * 0.5, w as f64 * 0.5 + 0.5))
        .collect();
    println!(
        "slower than 50 ms: {slow} ({:.2}%); worst half-seconds: {}",
        100.0 * slow as f64 / all.len().max(1) as f64,
        worst.join(", ")
    );
    // A long run's p99 mixes steady seconds with the writer's rare stops: per 10 s of sending,
    // both show.
    let windows: Vec<String> = by_when_sent(&timed, run_start_us, 10_000_000)
        .into_iter()
        .map(|(i, mut window)| {
            window.sort_unstable();
            format!("{}-{} s {:.1}", i * 10, i * 10 + 10, ms(percentile(&window, 0.99)))
        })
        .collect();
    println!("p99 (ms) by when sent: {}", windows.join(", "));
    let per_message = |total: f64| if want == 0 { 0.0 } else { total / want as f64 };
    let per_10k = |cpu: f64| per_message(cpu) * 10_000.0;
    println!(
        "server CPU (user+sys) while sending and settling ({run_wall:.1} s): {server_cpu:.2} s, {:.3} CPU-s per 10k messages; client {client_cpu:.2} s ({:.3} per 10k)",
        per_10k(server_cpu),
        per_10k(client_cpu),
    );
    if let Some(written) = disk_written {
        // The WAL, the checkpoints' copies into the database file: what the disk must absorb.
        println!(
            "server disk writes while sending and settling: {:.0} MB, {:.1} KB per message",
            written as f64 / 1e6,
            per_message(written as f64) / 1e3
        );
    }
    if let Some((stolen, total)) = steal {
        // A shared VM's host may take the cores away for a while; latency then says nothing
        // about the server.
        println!(
            "CPU time taken by the VM host (steal) during the run: {:.1}%",
            100.0 * stolen as f64 / total.max(1) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bytes the process has caused to be written to storage so far (`write_bytes` of
/// `/proc/<pid>/io`; page-cache writes count once the kernel writes them back).
fn disk_write_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines().find_map(|l| l.strip_prefix("write_bytes:")).and_then(|v| v.trim().parse().ok())
}

/// (steal, all) jiffies of every CPU so far, from the first line of `/proc/stat`.
fn cpu_steal_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat.lines().next()?.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
    // counted in user.
    Some((*fields.get(7)?, fields.iter().take(8).sum()))
}

/// The send stamps of the message events in `lines` (whole SSE lines): the digits after each
/// `"body":"t=`. The server writes compact JSON, so the marker has no spaces.
fn sent_stamps(lines: &[u8]) -> impl Iterator<Item = u64> + '_ {
    const MARKER: &[u8] = b"\"body\":\"t=";
    lines.windows(MARKER.len()).enumerate().filter(|(_, w)| *w == MARKER).map(move |(at, _)| {
        lines[at + MARKER.len()..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
    })
}

/// One keep-alive HTTP/1 connection of one sender, on hyper's bare client: no pool, no URL
/// parsing, no JSON values. Reconnects if the server closes it.
struct Connection {
    addr: String,
    authorization: String,
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
}

impl Connection {
    async fn open(addr: &str) -> Connection {
        let authorization = format!("Bearer {OPERATOR_TOKEN}");
        Connection { addr: addr.to_owned(), authorization, sender: Self::handshake(addr).await }
    }

    async fn handshake(addr: &str) -> hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>> {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        sender
    }

    /// POSTs `body` as the operator; true on a 2xx.
    async fn post(&mut self, path: &str, body: String) -> bool {
        use http_body_util::BodyExt;
        if self.sender.ready().await.is_err() {
            self.sender = Self::handshake(&self.addr).await;
        }
        let request = hyper::Request::post(path)
            .header("host", &self.addr)
            .header("authorization", &self.authorization)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .unwrap();
        match self.sender.send_request(request).await {
            Ok(response) => {
                let ok = response.status().is_success();
                ok && response.into_body().collect().await.is_ok()
            }
            Err(_) => false,
        }
    }
}
