//! One shutdown signal shared by every listener and connection of a `telewire serve` run.

use tokio::sync::watch;

/// The sending half: trigger once to stop every server and close every connection (1001).
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// The receiving half, cloned into every task.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// A new trigger and its signal.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Signals shutdown to every holder of the signal.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Waits until every holder of the signal (each connection, listener and task) has
    /// dropped it, at most `within`; whether they all did. Upgraded WebSocket connections
    /// outlive their HTTP server, so this is what lets their close frames go out before the
    /// process exits.
    pub async fn drained(&self, within: std::time::Duration) -> bool {
        tokio::time::timeout(within, self.0.closed()).await.is_ok()
    }

    /// A new signal receiver.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// Whether shutdown has been signalled.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once shutdown is signalled (or the trigger is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn drained_waits_for_every_holder() {
        let (trigger, signal) = channel();
        let mut held = signal.clone();
        drop(signal);
        let task = tokio::spawn(async move {
            held.wait().await;
        });
        assert!(!trigger.drained(Duration::from_millis(10)).await);
        trigger.trigger();
        task.await.unwrap();
        assert!(trigger.drained(Duration::from_secs(1)).await);
    }
}
