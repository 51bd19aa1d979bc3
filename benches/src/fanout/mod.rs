//! The fan-out load (robot.txt "Messages"): one publisher, N subscribers on one topic, end-to-end latency.
//!
//! The publisher stamps every message with its sequence number and the nanoseconds since
//! a process-wide origin (`{"seq": s, "t_ns": t}` as the payload's `data`); each subscriber
//! reads the same clock on receipt, so receive - send is the end-to-end latency through
//! the server. [`Fleet::connect`] opens and subscribes every client (the server is then
//! idle), [`Fleet::run`] publishes at a fixed rate and waits for the deliveries.

pub mod histogram;
pub mod proc;

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::sync::mpsc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub use histogram::Histogram;

/// The robot scenario the load runs against: one topic, no device traffic, acks on,
/// room for 20 000 connections and no practical per-connection rate limit.
pub const LOAD_SCENARIO: &str = include_str!("../../../fixtures/scenarios/load/robot.toml");

/// The topic every subscriber joins and the publisher publishes on.
pub const TOPIC: &str = "fanout";

/// How long one client may take to connect and have its subscription acknowledged.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Nanoseconds since the process-wide origin: the clock both ends of a message read.
pub fn now_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    let origin = ORIGIN.get_or_init(Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// What a load run is told.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The WebSocket URL with its `?token=`.
    pub url: String,
    /// Subscribers to open.
    pub clients: usize,
    /// Messages published per second (each one goes to every subscriber).
    pub rate: u32,
    /// How long to publish.
    pub duration: Duration,
    /// Stop after this many publishes even if `duration` has not passed.
    pub max_messages: Option<u64>,
    /// Connections opened at once.
    pub connect_concurrency: usize,
    /// After the last publish, wait at most this long without a new delivery.
    pub drain_idle: Duration,
    /// Print progress to stderr every second.
    pub progress: bool,
    /// Bytes of filler added to every published message (a realistic payload size).
    pub padding: usize,
}

impl LoadConfig {
    /// `clients` subscribers on `url`, 150 publishes/s for 10 s, quiet.
    pub fn new(url: impl Into<String>, clients: usize) -> Self {
        Self {
            url: url.into(),
            clients,
            rate: 150,
            duration: Duration::from_secs(10),
            max_messages: None,
            connect_concurrency: 64,
            drain_idle: Duration::from_secs(2),
            progress: false,
            padding: 0,
        }
    }
}

/// What the subscribers share: counters, the latency histogram, the time of the last receipt.
#[derive(Debug, Default)]
struct Tally {
    delivered: AtomicU64,
    last_rx_ns: AtomicU64,
    latency: Histogram,
}

/// A delivered message as the subscriber parses it: acks and log lines have no stamp.
#[derive(Deserialize)]
struct Incoming {
    #[serde(default)]
    data: Option<Stamp>,
}

#[derive(Deserialize)]
struct Stamp {
    #[allow(dead_code)]
    seq: u64,
    t_ns: u64,
}

/// Connected, subscribed clients waiting for the publisher.
#[derive(Debug)]
pub struct Fleet {
    subscribers: Vec<JoinHandle<u64>>,
    /// Subscribers whose subscription the server acknowledged.
    pub connected: usize,
    /// The first reason a client could not connect or subscribe.
    pub first_error: Option<String>,
    /// Clients that failed.
    pub failed: usize,
    /// Time to connect and subscribe them all.
    pub connect_time: Duration,
    tally: Arc<Tally>,
    stop: watch::Sender<bool>,
}

/// The outcome of one run.
#[derive(Debug)]
pub struct LoadReport {
    /// Subscribers connected.
    pub connected: usize,
    /// Messages the publisher sent.
    pub published: u64,
    /// Messages the subscribers received (all of them together).
    pub delivered: u64,
    /// What each subscriber received, in connection order.
    pub per_client: Vec<u64>,
    /// From the first publish to the last delivery.
    pub window: Duration,
    /// End-to-end latencies, in nanoseconds.
    pub latency: Histogram,
}

impl LoadReport {
    /// Deliveries expected: every publish to every connected subscriber.
    pub fn expected(&self) -> u64 {
        self.published * self.connected as u64
    }

    /// Delivered messages per second over [`Self::window`].
    pub fn delivered_per_sec(&self) -> f64 {
        let secs = self.window.as_secs_f64();
        if secs > 0.0 {
            self.delivered as f64 / secs
        } else {
            0.0
        }
    }
}

/// A small read buffer: deliveries are about a hundred bytes, and the default
/// buffers cost hundreds of KiB per idle connection.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str, config: Option<WebSocketConfig>) -> Result<Ws, String> {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, config, true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(ws)
}

/// Opens one subscriber and waits for the server's `subscribed` acknowledgement.
async fn subscribe(url: &str) -> Result<Ws, String> {
    let mut ws = open(url, Some(client_config())).await?;
    let request = format!(r#"{{"action":"subscribe","topic":"{TOPIC}"}}"#);
    ws.send(Message::Text(request.into()))
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    while let Some(msg) = ws.next().await {
        match msg.map_err(|e| format!("awaiting the subscribe ack: {e}"))? {
            Message::Text(text) if text.as_str().contains(r#""action":"subscribed""#) => {
                return Ok(ws);
            }
            Message::Text(text) if text.as_str().contains(r#""action":"error""#) => {
                return Err(format!("subscribe refused: {}", text.as_str()));
            }
            Message::Close(frame) => return Err(format!("closed by the server: {frame:?}")),
            _ => {}
        }
    }
    Err("closed before the subscribe ack".into())
}

/// A subscriber that never reads after its subscription is acknowledged: a stalled client.
/// The server's queue for it fills; keep the socket to keep it stalled.
pub async fn stalled_subscriber(url: &str) -> Result<impl Send + 'static, String> {
    subscribe(url).await
}

/// Reads deliveries until stopped or closed; returns how many arrived.
async fn receive(mut ws: Ws, tally: Arc<Tally>, mut stop: watch::Receiver<bool>) -> u64 {
    let mut count = 0;
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let now = now_ns();
                    if let Ok(Incoming { data: Some(stamp) }) =
                        serde_json::from_str::<Incoming>(text.as_str())
                    {
                        tally.latency.record(now.saturating_sub(stamp.t_ns));
                        tally.delivered.fetch_add(1, Ordering::Relaxed);
                        tally.last_rx_ns.fetch_max(now, Ordering::Relaxed);
                        count += 1;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            _ = stop.changed() => break,
        }
    }
    count
}

impl Fleet {
    /// Opens `config.clients` subscribers, `config.connect_concurrency` at a time.
    pub async fn connect(config: &LoadConfig) -> Fleet {
        let started = Instant::now();
        let tally = Arc::new(Tally::default());
        let (stop, stop_rx) = watch::channel(false);
        let gate = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
        let mut subscribers = Vec::with_capacity(config.clients);
        for _ in 0..config.clients {
            let url = config.url.clone();
            let gate = gate.clone();
            let ready = ready_tx.clone();
            let tally = tally.clone();
            let stop = stop_rx.clone();
            subscribers.push(tokio::spawn(async move {
                let joined = {
                    let _permit = gate.acquire().await;
                    tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&url))
                        .await
                        .unwrap_or_else(|_| Err("timed out connecting".into()))
                };
                match joined {
                    Ok(ws) => {
                        let _ = ready.send(Ok(()));
                        drop(ready);
                        receive(ws, tally, stop).await
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        0
                    }
                }
            }));
        }
        drop(ready_tx);
        let mut fleet = Fleet {
            subscribers,
            connected: 0,
            first_error: None,
            failed: 0,
            connect_time: Duration::ZERO,
            tally,
            stop,
        };
        let mut last_print = Instant::now();
        for _ in 0..config.clients {
            let Some(result) = ready_rx.recv().await else {
                break;
            };
            match result {
                Ok(()) => fleet.connected += 1,
                Err(e) => {
                    fleet.failed += 1;
                    fleet.first_error.get_or_insert(e);
                }
            }
            if config.progress && last_print.elapsed() >= Duration::from_secs(1) {
                last_print = Instant::now();
                eprintln!(
                    "  connecting: {} of {} subscribed, {} failed",
                    fleet.connected, config.clients, fleet.failed
                );
            }
        }
        fleet.connect_time = started.elapsed();
        fleet
    }

    /// Publishes at `config.rate` for `config.duration` (or `config.max_messages`), waits
    /// for the deliveries to arrive, then stops every subscriber.
    pub async fn run(self, config: &LoadConfig) -> Result<LoadReport, String> {
        let publisher = open(&config.url, None).await?;
        // Acknowledge-and-discard: the publisher's acks must be read or its socket fills.
        let (mut sink, mut acks) = publisher.split();
        let drain_acks = async { while let Some(Ok(_)) = acks.next().await {} };
        let tally = self.tally.clone();
        let publish = async {
            let start = Instant::now();
            let start_ns = now_ns();
            let mut sent: u64 = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last_print = Instant::now();
            let limit = config.max_messages.unwrap_or(u64::MAX);
            let pad = "x".repeat(config.padding);
            loop {
                tick.tick().await;
                let elapsed = start.elapsed();
                let due = ((config.rate as f64 * elapsed.as_secs_f64()) as u64).min(limit);
                let mut fed = false;
                while sent < due {
                    sent += 1;
                    let text = format!(
                        r#"{{"action":"publish","topic":"{TOPIC}","data":{{"name":"fanout","type":"json","data":{{"seq":{sent},"t_ns":{},"pad":"{pad}"}}}}}}"#,
                        now_ns()
                    );
                    sink.feed(Message::Text(text.into()))
                        .await
                        .map_err(|e| format!("publish: {e}"))?;
                    fed = true;
                }
                if fed {
                    sink.flush().await.map_err(|e| format!("publish: {e}"))?;
                }
                if config.progress && last_print.elapsed() >= Duration::from_secs(1) {
                    last_print = Instant::now();
                    let delivered = tally.delivered.load(Ordering::Relaxed);
                    eprintln!(
                        "  {:>5.1} s: published {sent}, delivered {delivered} ({:.0}/s)",
                        elapsed.as_secs_f64(),
                        delivered as f64 / elapsed.as_secs_f64().max(1e-9)
                    );
                }
                if elapsed >= config.duration || sent >= limit {
                    break;
                }
            }
            Ok::<_, String>((sent, start_ns))
        };
        let (sent, start_ns) = tokio::select! {
            result = publish => result?,
            () = drain_acks => return Err("the server closed the publisher".into()),
        };
        drop(tally);
        let expected = sent * self.connected as u64;
        let mut last = self.tally.delivered.load(Ordering::Relaxed);
        let mut idle_since = Instant::now();
        while last < expected && idle_since.elapsed() < config.drain_idle {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let now = self.tally.delivered.load(Ordering::Relaxed);
            if now != last {
                last = now;
                idle_since = Instant::now();
            }
        }
        let _ = self.stop.send(true);
        let mut per_client = Vec::with_capacity(self.subscribers.len());
        for handle in self.subscribers {
            per_client.push(handle.await.unwrap_or(0));
        }
        drop(sink);
        let last_rx = self.tally.last_rx_ns.load(Ordering::Relaxed);
        let tally = Arc::try_unwrap(self.tally).map_err(|_| "subscribers still running")?;
        Ok(LoadReport {
            connected: self.connected,
            published: sent,
            delivered: tally.delivered.load(Ordering::Relaxed),
            per_client,
            window: Duration::from_nanos(last_rx.saturating_sub(start_ns)),
            latency: tally.latency,
        })
    }
}
