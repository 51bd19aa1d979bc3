//! Process facts the load tool reports: resident memory from `/proc/<pid>/status` and the fd limit.

/// Resident set sizes of one process, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rss {
    /// Resident now (`VmRSS`).
    pub now_kib: u64,
    /// Peak resident so far (`VmHWM`).
    pub peak_kib: u64,
}

/// The memory of process `pid` (`None`: this process), or `None` where `/proc` is missing.
pub fn rss(pid: Option<u32>) -> Option<Rss> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    Some(parse_status(&text))
}

/// `VmRSS` and `VmHWM` of a `/proc/<pid>/status` text.
pub fn parse_status(text: &str) -> Rss {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Rss {
        now_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    }
}

/// CPU time (user + system) process `pid` (`None`: this process) has used so far.
pub fn cpu_time(pid: Option<u32>) -> Option<std::time::Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let ticks = parse_stat_ticks(&text)?;
    let per_sec = rustix::param::clock_ticks_per_second().max(1);
    Some(std::time::Duration::from_secs_f64(
        ticks as f64 / per_sec as f64,
    ))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/<pid>/stat` line, in clock ticks.
fn parse_stat_ticks(text: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let rest = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Raises the soft limit on open files towards the hard limit so that `wanted` descriptors
/// fit; returns the soft limit in force afterwards (`None`: unknown).
pub fn raise_fd_limit(wanted: u64) -> Option<u64> {
    use rustix::process::Resource;
    let limit = rustix::process::getrlimit(Resource::Nofile);
    let current = limit.current?;
    if current >= wanted {
        return Some(current);
    }
    let target = match limit.maximum {
        Some(max) => max.min(wanted.max(current)),
        None => wanted,
    };
    let raised = rustix::process::Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    match rustix::process::setrlimit(Resource::Nofile, raised) {
        Ok(()) => Some(target),
        Err(_) => Some(current),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks_skip_a_command_with_spaces() {
        let text = "42 (fan out) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(parse_stat_ticks(text), Some(300));
    }

    #[test]
    fn status_fields_are_read_in_kib() {
        let text = "Name:\tfanout\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(
            parse_status(text),
            Rss {
                now_kib: 102_400,
                peak_kib: 204_800
            }
        );
    }
}
