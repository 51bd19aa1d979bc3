//! "System Status Channel": the simulator process's own figures, read from `/proc` with std only.
//!
//! `cpu_usage` is the process's share of all cores since the previous sample,
//! `memory_usage` its resident memory as a share of the host's, `disk_usage` the file
//! system of its working directory, `load_average` the host's one-minute load.
//! Every figure that cannot be read (no `/proc`, no `df`) is left out of the update; the
//! connection count and the process uptime are always there.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use serde_json::Number;
use telewire_protocols::time::Timestamp;
use telewire_protocols::valtronics::Channel;
use telewire_protocols::valtronics::ConnectionRegistry;
use telewire_protocols::valtronics::Extra;
use telewire_protocols::valtronics::ServerMessage;
use telewire_protocols::valtronics::SystemStatusUpdate;
use tokio::time::MissedTickBehavior;

use crate::clock::Clock;
use crate::hub::Hub;
use crate::shutdown::Shutdown;
use crate::signals::round_to;

use super::device::Push;

/// Kernel clock ticks per second (`USER_HZ`), 100 on every mainstream Linux ABI.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;
/// How long a disk usage figure is reused before `df` runs again.
const DISK_REFRESH: Duration = Duration::from_secs(30);

/// Samples the process's CPU, memory, disk, load and connection figures.
#[derive(Debug)]
pub struct SystemSampler {
    started: Instant,
    last_cpu: Option<(u64, Instant)>,
    disk: Option<(f64, Instant)>,
    cores: f64,
}

impl Default for SystemSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemSampler {
    /// A sampler; CPU usage is measured from one sample to the next.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut sampler = Self {
            started: Instant::now(),
            last_cpu: None,
            disk: None,
            cores: cores as f64,
        };
        sampler.last_cpu = read_stat().map(|s| (s.cpu_ticks, Instant::now()));
        sampler
    }

    /// The metrics now, with `active_connections` as given.
    pub fn sample(&mut self, active_connections: usize) -> BTreeMap<String, Number> {
        let mut metrics = BTreeMap::new();
        let mut put = |name: &str, value: f64| {
            if let Some(n) = Number::from_f64(round_to(value, 1)) {
                metrics.insert(name.to_owned(), n);
            }
        };
        let now = Instant::now();
        if let Some(stat) = read_stat() {
            if let Some((ticks, at)) = self.last_cpu {
                let secs = now.duration_since(at).as_secs_f64();
                if secs > 0.0 {
                    let used = stat.cpu_ticks.saturating_sub(ticks) as f64 / CLOCK_TICKS_PER_SEC;
                    put(
                        "cpu_usage",
                        (100.0 * used / secs / self.cores).clamp(0.0, 100.0),
                    );
                }
            }
            self.last_cpu = Some((stat.cpu_ticks, now));
            put(
                "process_cpu_seconds",
                stat.cpu_ticks as f64 / CLOCK_TICKS_PER_SEC,
            );
            put("threads", stat.threads as f64);
        }
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let total = kib_field(&meminfo, "MemTotal").filter(|t| *t > 0);
        if let Some(rss) = read_status_kib("VmRSS") {
            put("memory_rss_mb", rss as f64 / 1024.0);
            if let Some(total) = total {
                put("memory_usage", 100.0 * rss as f64 / total as f64);
            }
        }
        if let (Some(total), Some(available)) = (total, kib_field(&meminfo, "MemAvailable")) {
            let used = total.saturating_sub(available);
            put("host_memory_usage", 100.0 * used as f64 / total as f64);
        }
        if let Some(disk) = self.disk_usage(now) {
            put("disk_usage", disk);
        }
        if let Some(load) = read_loadavg() {
            put("load_average", load);
        }
        if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
            put("open_files", entries.count() as f64);
        }
        put(
            "uptime_seconds",
            now.duration_since(self.started).as_secs_f64(),
        );
        metrics.insert(
            "active_connections".to_owned(),
            Number::from(active_connections as u64),
        );
        metrics
    }

    fn disk_usage(&mut self, now: Instant) -> Option<f64> {
        if let Some((value, at)) = self.disk
            && now.duration_since(at) < DISK_REFRESH
        {
            return Some(value);
        }
        let value = read_disk_usage()?;
        self.disk = Some((value, now));
        Some(value)
    }
}

/// What `/proc/self/stat` tells.
struct Stat {
    cpu_ticks: u64,
    threads: u64,
}

fn read_stat() -> Option<Stat> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&text)
}

/// Fields 14 (utime), 15 (stime) and 20 (num_threads) of `proc(5)`, counted after the
/// parenthesised command name, which may itself hold spaces.
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n.checked_sub(3)?)?.parse().ok() };
    Some(Stat {
        cpu_ticks: field(14)?.saturating_add(field(15)?),
        threads: field(20)?,
    })
}

fn read_status_kib(key: &str) -> Option<u64> {
    kib_field(&std::fs::read_to_string("/proc/self/status").ok()?, key)
}

/// The value of a `Key:   1234 kB` line.
fn kib_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key)
            .then(|| v.split_whitespace().next()?.parse().ok())
            .flatten()
    })
}

fn read_loadavg() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Percentage used of the file system holding the working directory, from POSIX `df -P`.
fn read_disk_usage() -> Option<f64> {
    let output = std::process::Command::new("df")
        .args(["-P", "-k", "."])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_df(&String::from_utf8_lossy(&output.stdout))
}

/// The `Capacity` column (`42%`) of the second line of `df -P` output.
fn parse_df(text: &str) -> Option<f64> {
    let line = text.lines().nth(1)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let used: f64 = fields.get(2)?.parse().ok()?;
    let available: f64 = fields.get(3)?.parse().ok()?;
    let total = used + available;
    (total > 0.0).then(|| 100.0 * used / total)
}

/// Runs the sampler until shutdown: one `system_status_update` every `interval` while any
/// connection holds a subscription.
pub async fn run(
    hub: Arc<Hub<Push>>,
    registry: ConnectionRegistry,
    interval: Duration,
    clock: Clock,
    mut shutdown: Shutdown,
) {
    let mut sampler = Some(SystemSampler::new());
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if hub.is_empty() {
                    continue;
                }
                let Some(mut taken) = sampler.take() else { break };
                let active = registry.active();
                // Reading /proc and running `df` block: keep them off the runtime's threads.
                let sampled = tokio::task::spawn_blocking(move || {
                    let metrics = taken.sample(active);
                    (taken, metrics)
                })
                .await;
                let Ok((back, metrics)) = sampled else { break };
                sampler = Some(back);
                let update = ServerMessage::SystemStatusUpdate(system_update(metrics, clock.now()));
                let queued = hub.broadcast(&Arc::new(update));
                tracing::debug!(queued, "valtronics system status push");
            }
            () = shutdown.wait() => break,
        }
    }
}

/// A `system_status_update` of `metrics` sampled at `now`.
pub fn system_update(metrics: BTreeMap<String, Number>, now: Timestamp) -> SystemStatusUpdate {
    SystemStatusUpdate {
        channel: Channel::SYSTEM,
        metrics,
        timestamp: now.to_rfc3339_secs(),
        extra: Extra::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_formats_parse() {
        let stat = "1234 (tele wire) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 7 0 100 0 0";
        let s = parse_stat(stat).unwrap();
        assert_eq!(s.cpu_ticks, 300);
        assert_eq!(s.threads, 7);
        assert!(parse_stat("garbage").is_none());
        assert_eq!(
            kib_field("Name:\tx\nVmRSS:\t  2048 kB\n", "VmRSS"),
            Some(2048)
        );
        assert_eq!(kib_field("VmRSS: lots\n", "VmRSS"), None);
        let df =
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 100 25 75 25% /\n";
        assert_eq!(parse_df(df), Some(25.0));
        assert_eq!(parse_df("nothing"), None);
    }

    #[test]
    fn a_sample_always_has_connections_and_uptime() {
        let mut sampler = SystemSampler::new();
        let metrics = sampler.sample(3);
        assert_eq!(metrics["active_connections"], Number::from(3u64));
        assert!(metrics.contains_key("uptime_seconds"));
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(metrics.contains_key("memory_usage"), "{metrics:?}");
            assert!(metrics.contains_key("cpu_usage"), "{metrics:?}");
        }
    }
}
