//! The simulator's own log lines as a stream: a `tracing` layer that the CLI installs beside
//! its log output, and that the robot server forwards to its `server_logs` topic.

use std::fmt::Write as _;
use std::sync::OnceLock;

use tokio::sync::broadcast;
use tracing::Event;
use tracing::Level;
use tracing::Subscriber;
use tracing::field::Field;
use tracing::field::Visit;
use tracing_subscriber::layer::Context;
use tracing_subscriber::layer::Layer;

/// Lines kept for a slow reader before the oldest are dropped.
const CAPACITY: usize = 256;

/// One log line of the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// The module that wrote it.
    pub target: String,
    /// The message and its fields, `key=value`.
    pub text: String,
}

fn sender() -> &'static broadcast::Sender<LogLine> {
    static TAP: OnceLock<broadcast::Sender<LogLine>> = OnceLock::new();
    TAP.get_or_init(|| broadcast::channel(CAPACITY).0)
}

/// Every log line the [`LogTap`] sees from now on.
pub fn subscribe() -> broadcast::Receiver<LogLine> {
    sender().subscribe()
}

/// The `tracing` layer feeding [`subscribe`]. Lines of the robot server itself are left
/// out: it writes those to `server_logs` directly.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogTap;

impl<S: Subscriber> Layer<S> for LogTap {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let tx = sender();
        let meta = event.metadata();
        if tx.receiver_count() == 0 || meta.target().starts_with("telewire_simulator::robot") {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let _ = tx.send(LogLine {
            level: *meta.level(),
            target: meta.target().to_owned(),
            text: fields.text(),
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Fields {
    fn text(self) -> String {
        if self.rest.is_empty() {
            self.message
        } else {
            format!("{}{}", self.message, self.rest)
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}
