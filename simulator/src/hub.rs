//! Fan-out from the simulated devices to every connection, through bounded per-connection
//! queues with a slow-consumer policy.
//!
//! Each connection's queue holds at most `capacity` pushes waiting to be written. A client
//! that reads too slowly (or not at all) fills it; what happens then is the hub's
//! [`Overflow`] policy: drop the oldest queued push and count it (the default: the client
//! keeps the newest data), or close the connection with 1008 or 1011. Either way a stalled
//! client costs at most `capacity` pushes of memory.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use telewire_protocols::frame::Close;
use telewire_protocols::frame::CloseCode;
use tokio::sync::Notify;
use tokio::sync::mpsc;

use crate::link::LinkState;

/// A connection's id, unique within one hub.
pub type ConnId = u64;

/// What a full per-connection queue does with one more push (`--slow-consumer`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overflow {
    /// Drop the oldest queued push and count it; the client keeps the newest data.
    #[default]
    DropOldest,
    /// Close the connection with 1008 (policy violation).
    Close1008,
    /// Close the connection with 1011 (the server cannot go on serving it).
    Close1011,
}

impl Overflow {
    /// Every policy, in `--slow-consumer` spelling.
    pub const ALL: [Overflow; 3] = [
        Overflow::DropOldest,
        Overflow::Close1008,
        Overflow::Close1011,
    ];

    /// The `--slow-consumer` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Overflow::DropOldest => "drop-oldest",
            Overflow::Close1008 => "close-1008",
            Overflow::Close1011 => "close-1011",
        }
    }

    /// What it does, in a sentence (the start-up table and the control page).
    pub fn describe(self) -> &'static str {
        match self {
            Overflow::DropOldest => "a full queue drops its oldest push and counts it",
            Overflow::Close1008 => "a full queue closes the connection with 1008",
            Overflow::Close1011 => "a full queue closes the connection with 1011",
        }
    }

    /// The close frame a full queue of `capacity` ends its connection with, if this policy
    /// closes.
    pub fn close(self, capacity: usize) -> Option<Close> {
        let code = match self {
            Overflow::DropOldest => return None,
            Overflow::Close1008 => CloseCode::POLICY_VIOLATION,
            Overflow::Close1011 => CloseCode::INTERNAL_ERROR,
        };
        Some(Close::new(
            code,
            format!("slow consumer: {capacity} messages queued unread"),
        ))
    }
}

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Overflow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Overflow::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown slow-consumer policy '{s}': expected drop-oldest, close-1008 or close-1011"
                )
            })
    }
}

/// One connection's queue, shared by the hub (sending) and the connection (receiving).
#[derive(Debug)]
struct Queue<P> {
    items: Mutex<VecDeque<P>>,
    capacity: usize,
    ready: Notify,
    /// The hub let go of the queue (unregistered) or the connection dropped its end.
    closed: AtomicBool,
    dropped: AtomicU64,
    /// The connection driving the receiving end, once known: overflow closes reach it.
    link: OnceLock<Arc<LinkState>>,
}

impl<P> Queue<P> {
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_one();
    }
}

/// What offering a push to a queue did.
enum Offered {
    Queued,
    /// Queued, after dropping the oldest.
    Rotated,
    /// Not queued: the queue is full and its policy closes the connection.
    Overflowed,
    Closed,
}

/// The receiving end of a connection's queue: what the driver (or a forwarding task) reads.
#[derive(Debug)]
pub struct Receiver<P> {
    queue: Arc<Queue<P>>,
}

impl<P> Receiver<P> {
    /// The next push; `None` once the hub has let go of this queue and it is empty.
    pub async fn recv(&mut self) -> Option<P> {
        loop {
            if let Some(push) = self.try_recv() {
                return Some(push);
            }
            if self.queue.closed.load(Ordering::Acquire) {
                return self.try_recv();
            }
            self.queue.ready.notified().await;
        }
    }

    /// The next push if one is queued now.
    pub fn try_recv(&mut self) -> Option<P> {
        self.queue.items.lock().ok()?.pop_front()
    }

    /// Pushes dropped from this queue so far.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// Ties the queue to the connection that reads it: its drops count on the connection,
    /// and a closing overflow policy closes it. The first call wins.
    pub fn attach(&self, link: &Arc<LinkState>) {
        if self.queue.link.set(link.clone()).is_ok() {
            link.count_dropped(self.dropped());
        }
    }
}

impl<P> Drop for Receiver<P> {
    fn drop(&mut self) {
        self.queue.closed.store(true, Ordering::Release);
    }
}

tokio::task_local! {
    /// The connection whose driver is running: queues registered from inside it (when a
    /// client authenticates or subscribes) are tied to it.
    pub(crate) static CURRENT_LINK: Arc<LinkState>;
}

/// Per-connection bounded queues with an overflow policy and drop counting: a slow
/// consumer loses pushes (counted) or its connection, instead of making the server's
/// memory grow.
#[derive(Debug)]
pub struct Hub<P> {
    conns: Mutex<HashMap<ConnId, Arc<Queue<P>>>>,
    next_id: AtomicU64,
    dropped: AtomicU64,
    capacity: usize,
    overflow: Overflow,
}

impl<P: Clone> Hub<P> {
    /// A hub whose connections each queue at most `capacity` pushes, dropping the oldest
    /// when full.
    pub fn new(capacity: usize) -> Self {
        Self {
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
            capacity: capacity.max(1),
            overflow: Overflow::default(),
        }
    }

    /// The same hub with `overflow` as its slow-consumer policy.
    #[must_use]
    pub fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// The slow-consumer policy.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// How many pushes each connection may have queued.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Registers a connection; returns its id and the receiving end of its queue. Called
    /// from inside a connection's driver, the queue is tied to that connection.
    pub fn register(&self) -> (ConnId, Receiver<P>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(Queue {
            items: Mutex::new(VecDeque::with_capacity(self.capacity.min(64))),
            capacity: self.capacity,
            ready: Notify::new(),
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            link: OnceLock::new(),
        });
        let _ = CURRENT_LINK.try_with(|link| queue.link.set(link.clone()));
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, queue.clone());
        }
        (id, Receiver { queue })
    }

    /// Removes a connection: its receiver sees the end of the queue.
    pub fn unregister(&self, id: ConnId) {
        let queue = self.conns.lock().ok().and_then(|mut c| c.remove(&id));
        if let Some(queue) = queue {
            queue.close();
        }
    }

    /// Connections registered now.
    pub fn len(&self) -> usize {
        self.conns.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Whether no connection is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes dropped so far because a queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Offers `push` to every connection; returns how many queued it.
    pub fn broadcast(&self, push: &P) -> usize {
        let Ok(conns) = self.conns.lock() else {
            return 0;
        };
        let mut queued = 0;
        for queue in conns.values() {
            match self.offer(queue, push.clone()) {
                Offered::Queued | Offered::Rotated => queued += 1,
                Offered::Overflowed | Offered::Closed => {}
            }
        }
        queued
    }

    /// Offers `push` to one connection; returns whether it was queued.
    pub fn send_to(&self, id: ConnId, push: P) -> bool {
        let queue = match self.conns.lock() {
            Ok(conns) => conns.get(&id).cloned(),
            Err(_) => None,
        };
        queue.is_some_and(|queue| {
            matches!(self.offer(&queue, push), Offered::Queued | Offered::Rotated)
        })
    }

    fn offer(&self, queue: &Queue<P>, push: P) -> Offered {
        if queue.closed.load(Ordering::Acquire) {
            return Offered::Closed;
        }
        let Ok(mut items) = queue.items.lock() else {
            return Offered::Closed;
        };
        let offered = if items.len() < queue.capacity {
            items.push_back(push);
            Offered::Queued
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            queue.dropped.fetch_add(1, Ordering::Relaxed);
            let link = queue.link.get();
            if let Some(link) = link {
                link.count_dropped(1);
            }
            match self.overflow.close(queue.capacity) {
                None => {
                    items.pop_front();
                    items.push_back(push);
                    Offered::Rotated
                }
                Some(close) => {
                    // Nothing more is queued for it; the driver closes it.
                    items.clear();
                    drop(items);
                    queue.closed.store(true, Ordering::Release);
                    if let Some(link) = link {
                        link.request_close(close);
                    }
                    Offered::Overflowed
                }
            }
        };
        queue.ready.notify_one();
        offered
    }
}

/// What a driver reads pushes from: a hub queue, or a plain channel.
#[derive(Debug)]
pub enum Pushes<P> {
    /// A hub's queue.
    Hub(Receiver<P>),
    /// A channel fed by a task of the API (or never, for connections without pushes).
    Channel(mpsc::Receiver<P>),
}

impl<P> Pushes<P> {
    /// The next push; `None` once no more can come.
    pub async fn recv(&mut self) -> Option<P> {
        match self {
            Pushes::Hub(rx) => rx.recv().await,
            Pushes::Channel(rx) => rx.recv().await,
        }
    }

    /// The next push if one is queued now.
    pub fn try_recv(&mut self) -> Option<P> {
        match self {
            Pushes::Hub(rx) => rx.try_recv(),
            Pushes::Channel(rx) => rx.try_recv().ok(),
        }
    }

    /// Ties a hub queue to the connection that reads it (see [`Receiver::attach`]).
    pub fn attach(&self, link: &Arc<LinkState>) {
        if let Pushes::Hub(rx) = self {
            rx.attach(link);
        }
    }
}

impl<P> From<Receiver<P>> for Pushes<P> {
    fn from(rx: Receiver<P>) -> Self {
        Pushes::Hub(rx)
    }
}

impl<P> From<mpsc::Receiver<P>> for Pushes<P> {
    fn from(rx: mpsc::Receiver<P>) -> Self {
        Pushes::Channel(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn broadcast_reaches_all_and_drops_the_oldest_when_full() {
        let hub = Hub::new(2);
        let (a, mut ra) = hub.register();
        let (_b, mut rb) = hub.register();
        assert_eq!(hub.broadcast(&1), 2);
        assert_eq!(hub.broadcast(&2), 2);
        assert_eq!(hub.broadcast(&3), 2, "full queues rotate");
        assert_eq!(hub.dropped(), 2);
        assert_eq!(ra.dropped(), 1);
        assert_eq!(ra.recv().await, Some(2), "the oldest was dropped");
        assert_eq!(ra.recv().await, Some(3));
        assert!(hub.send_to(a, 4));
        assert_eq!(ra.recv().await, Some(4));
        assert_eq!(rb.recv().await, Some(2));
        hub.unregister(a);
        assert_eq!(hub.len(), 1);
        assert_eq!(ra.recv().await, None, "an unregistered queue ends");
    }

    #[tokio::test]
    async fn a_closing_policy_stops_queueing_and_ends_the_queue() {
        let hub = Hub::new(1).with_overflow(Overflow::Close1011);
        let (_a, mut ra) = hub.register();
        assert_eq!(hub.broadcast(&1), 1);
        assert_eq!(hub.broadcast(&2), 0);
        assert_eq!(hub.broadcast(&3), 0, "nothing more is queued");
        assert_eq!(hub.dropped(), 1);
        assert_eq!(ra.recv().await, None);
    }

    #[test]
    fn policies_parse_and_close_with_their_codes() {
        for policy in Overflow::ALL {
            assert_eq!(policy.name().parse::<Overflow>(), Ok(policy));
        }
        assert!(
            "drop-newest"
                .parse::<Overflow>()
                .unwrap_err()
                .contains("close-1011")
        );
        assert_eq!(Overflow::DropOldest.close(8), None);
        assert_eq!(
            Overflow::Close1008.close(8).unwrap().code,
            CloseCode::POLICY_VIOLATION
        );
        assert_eq!(Overflow::Close1011.close(8).unwrap().code.0, 1011);
    }

    #[tokio::test]
    async fn a_dropped_receiver_is_skipped() {
        let hub = Hub::new(4);
        let (_a, ra) = hub.register();
        drop(ra);
        assert_eq!(hub.broadcast(&1), 0);
    }
}
