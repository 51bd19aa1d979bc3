//! Side by side, in one run: telewire's Molecule telemetry decode, a `serde_json::Value`
//! decode, and the JavaScript decode path printed in molecule.txt (run under Node.js), all
//! on identical frames. Prints each figure and the ratios.
//!
//! Run: `cargo run --release -p telewire-benches --bin js-baseline [-- --rounds N]`
//! (Node.js must be on `PATH`; without it the JavaScript column is reported as missing).

use std::hint::black_box;
use std::io::Write as _;
use std::process::Command;
use std::process::ExitCode;
use std::time::Instant;

use telewire_benches as inputs;
use telewire_protocols::molecule::DataFrame;
use telewire_protocols::molecule::LabelCache;
use telewire_protocols::molecule::Telemetry;

/// Frames per item count: labels on the first frame and every tenth, as a gateway does.
const FRAMES: usize = 100;

/// Frames per second of one decode path.
#[derive(Debug, Clone, Copy)]
struct Rate {
    frames_per_s: f64,
    bytes_per_s: f64,
}

impl Rate {
    fn of(frames: usize, bytes: usize, seconds: f64) -> Self {
        let seconds = seconds.max(f64::MIN_POSITIVE);
        Self {
            frames_per_s: frames as f64 / seconds,
            bytes_per_s: bytes as f64 / seconds,
        }
    }
}

fn frames_for(items: usize) -> Vec<Vec<u8>> {
    (0..FRAMES)
        .map(|i| {
            let labelled = if i % 10 == 0 { items } else { 0 };
            let text = inputs::molecule_telemetry(items, labelled, i as u64);
            inputs::molecule_frame(100, text.as_bytes())
        })
        .collect()
}

fn time_rust(frames: &[Vec<u8>], rounds: usize) -> Rate {
    let bytes: usize = frames.iter().map(Vec::len).sum();
    let mut cache = LabelCache::new();
    let mut decode = |frame: &[u8]| -> usize {
        let Ok(frame) = DataFrame::decode(frame) else {
            return 0;
        };
        let Ok(telemetry) = frame.text().and_then(Telemetry::decode) else {
            return 0;
        };
        cache.resolve(&telemetry).count()
    };
    for frame in frames {
        black_box(decode(frame));
    }
    let start = Instant::now();
    for _ in 0..rounds {
        for frame in frames {
            black_box(decode(black_box(frame)));
        }
    }
    Rate::of(
        frames.len() * rounds,
        bytes * rounds,
        start.elapsed().as_secs_f64(),
    )
}

fn time_value(frames: &[Vec<u8>], rounds: usize) -> Rate {
    let bytes: usize = frames.iter().map(Vec::len).sum();
    let decode = |frame: &[u8]| -> usize {
        let payload = frame.get(2..frame.len().saturating_sub(1)).unwrap_or(&[]);
        match serde_json::from_slice::<serde_json::Value>(payload) {
            Ok(serde_json::Value::Array(items)) => items.len(),
            _ => 0,
        }
    };
    let start = Instant::now();
    for _ in 0..rounds {
        for frame in frames {
            black_box(decode(black_box(frame)));
        }
    }
    Rate::of(
        frames.len() * rounds,
        bytes * rounds,
        start.elapsed().as_secs_f64(),
    )
}

fn time_js(frames: &[Vec<u8>], rounds: usize) -> Result<Rate, String> {
    let mut file = std::env::temp_dir();
    file.push(format!("telewire-js-baseline-{}.bin", std::process::id()));
    let mut data = Vec::new();
    for frame in frames {
        let len = u32::try_from(frame.len()).map_err(|_| "frame too large".to_owned())?;
        data.extend_from_slice(&len.to_le_bytes());
        data.extend_from_slice(frame);
    }
    std::fs::File::create(&file)
        .and_then(|mut f| f.write_all(&data))
        .map_err(|e| format!("writing {}: {e}", file.display()))?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/js/molecule_decode.mjs");
    let output = Command::new("node")
        .arg(script)
        .arg(&file)
        .arg(rounds.to_string())
        .output();
    let _ = std::fs::remove_file(&file);
    let output = output.map_err(|e| format!("running node: {e} (is Node.js installed?)"))?;
    if !output.status.success() {
        return Err(format!(
            "node failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("reading node's figures: {e}"))?;
    let field = |name: &str| line.get(name).and_then(serde_json::Value::as_f64);
    match (field("frames"), field("bytes"), field("seconds")) {
        (Some(frames), Some(bytes), Some(seconds)) => {
            Ok(Rate::of(frames as usize, bytes as usize, seconds))
        }
        _ => Err(format!(
            "unexpected node output: {}",
            String::from_utf8_lossy(&output.stdout)
        )),
    }
}

fn main() -> ExitCode {
    let mut rounds = 200;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|v| v.parse::<usize>())) {
            ("--rounds", Some(Ok(n))) if n > 0 => rounds = n,
            _ => {
                eprintln!("usage: js-baseline [--rounds N]  (N > 0, default 200)");
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "Molecule type-100 decode (frame, UTF-8, JSON, label cache), {FRAMES} frames x {rounds} rounds"
    );
    println!(
        "{:<7} {:>16} {:>16} {:>16} {:>10} {:>10}",
        "items", "telewire msg/s", "Value msg/s", "node msg/s", "vs Value", "vs node"
    );
    let mut failed = false;
    for items in [20, 200] {
        let frames = frames_for(items);
        let rounds = if items == 200 { rounds / 10 } else { rounds }.max(1);
        let rust = time_rust(&frames, rounds);
        let value = time_value(&frames, rounds);
        let (js, js_ratio) = match time_js(&frames, rounds) {
            Ok(js) => (
                format!("{:.0}", js.frames_per_s),
                format!("{:.2}x", rust.frames_per_s / js.frames_per_s),
            ),
            Err(e) => {
                eprintln!("JavaScript baseline unavailable: {e}");
                failed = true;
                ("-".into(), "-".into())
            }
        };
        println!(
            "{items:<7} {:>16.0} {:>16.0} {:>16} {:>10} {:>10}",
            rust.frames_per_s,
            value.frames_per_s,
            js,
            format!("{:.2}x", rust.frames_per_s / value.frames_per_s),
            js_ratio
        );
        println!(
            "        {:>13.1} MB/s {:>11.1} MB/s",
            rust.bytes_per_s / 1e6,
            value.bytes_per_s / 1e6
        );
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
