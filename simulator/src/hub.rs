//! Fan-out from the simulated devices to every connection, through bounded per-connection queues.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

/// A connection's id, unique within one hub.
pub type ConnId = u64;

/// Per-connection bounded queues with drop counting: a slow consumer loses pushes (counted)
/// instead of making the server's memory grow.
#[derive(Debug)]
pub struct Hub<P> {
    conns: Mutex<HashMap<ConnId, mpsc::Sender<P>>>,
    next_id: AtomicU64,
    dropped: AtomicU64,
    capacity: usize,
}

impl<P: Clone> Hub<P> {
    /// A hub whose connections each queue at most `capacity` pushes.
    pub fn new(capacity: usize) -> Self {
        Self {
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            dropped: AtomicU64::new(0),
            capacity: capacity.max(1),
        }
    }

    /// Registers a connection; returns its id and the receiving end of its queue.
    pub fn register(&self) -> (ConnId, mpsc::Receiver<P>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.capacity);
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(id, tx);
        }
        (id, rx)
    }

    /// Removes a connection.
    pub fn unregister(&self, id: ConnId) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&id);
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
        for tx in conns.values() {
            match tx.try_send(push.clone()) {
                Ok(()) => queued += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        queued
    }

    /// Offers `push` to one connection; returns whether it was queued.
    pub fn send_to(&self, id: ConnId, push: P) -> bool {
        let Ok(conns) = self.conns.lock() else {
            return false;
        };
        match conns.get(&id).map(|tx| tx.try_send(push)) {
            Some(Ok(())) => true,
            Some(Err(mpsc::error::TrySendError::Full(_))) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn broadcast_reaches_all_and_counts_drops_when_full() {
        let hub = Hub::new(1);
        let (a, mut ra) = hub.register();
        let (_b, mut rb) = hub.register();
        assert_eq!(hub.broadcast(&1), 2);
        assert_eq!(hub.broadcast(&2), 0, "both queues are full");
        assert_eq!(hub.dropped(), 2);
        assert_eq!(ra.recv().await, Some(1));
        assert!(hub.send_to(a, 3));
        assert_eq!(ra.recv().await, Some(3));
        assert_eq!(rb.recv().await, Some(1));
        hub.unregister(a);
        assert_eq!(hub.len(), 1);
    }
}
