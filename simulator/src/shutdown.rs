//! One shutdown signal shared by every listener and connection of a `telewire serve` run.

use std::sync::Arc;

use tokio::sync::watch;

/// The sending half: trigger once to stop every server and close every connection (1001).
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    stop: watch::Sender<bool>,
    live: watch::Receiver<usize>,
}

/// The receiving half, cloned into every task.
#[derive(Debug, Clone)]
pub struct Shutdown {
    stop: watch::Receiver<bool>,
    live: Arc<watch::Sender<usize>>,
}

/// Held by each open connection: shutdown waits (bounded) until every guard is dropped.
#[derive(Debug)]
pub struct ConnectionGuard(Arc<watch::Sender<usize>>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A new trigger and its signal.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (stop, stop_rx) = watch::channel(false);
    let (live, live_rx) = watch::channel(0usize);
    (
        ShutdownTrigger {
            stop,
            live: live_rx,
        },
        Shutdown {
            stop: stop_rx,
            live: Arc::new(live),
        },
    )
}

impl ShutdownTrigger {
    /// Signals shutdown to every holder of the signal.
    pub fn trigger(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until every open connection (each [`ConnectionGuard`]) has ended, at most
    /// `within`; whether they all did. Upgraded WebSocket connections outlive their HTTP
    /// server, so this is what lets their close frames go out before the process exits.
    pub async fn drained(&self, within: std::time::Duration) -> bool {
        let mut live = self.live.clone();
        tokio::time::timeout(within, live.wait_for(|n| *n == 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Open connections right now.
    pub fn open_connections(&self) -> usize {
        *self.live.borrow()
    }
}

impl Shutdown {
    /// Whether shutdown has been signalled.
    pub fn is_triggered(&self) -> bool {
        *self.stop.borrow()
    }

    /// Registers an open connection until the guard is dropped.
    pub fn connection(&self) -> ConnectionGuard {
        self.live.send_modify(|n| *n += 1);
        ConnectionGuard(self.live.clone())
    }

    /// Resolves once shutdown is signalled (or the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.stop.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn drained_waits_for_every_open_connection() {
        let (trigger, signal) = channel();
        assert!(trigger.drained(Duration::from_millis(10)).await);
        let mut held = signal.clone();
        let task = tokio::spawn(async move {
            let _guard = held.connection();
            held.wait().await;
        });
        tokio::task::yield_now().await;
        assert_eq!(trigger.open_connections(), 1);
        assert!(!trigger.drained(Duration::from_millis(10)).await);
        trigger.trigger();
        task.await.unwrap();
        // Other holders of the signal (listeners, device state) do not delay shutdown.
        assert!(trigger.drained(Duration::from_secs(1)).await);
        drop(signal);
    }
}
