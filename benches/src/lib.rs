//! Realistic inputs for the benchmarks of telewire's hot paths, built deterministically so
//! that every run (and the JavaScript baseline) measures identical bytes.
//!
//! The shapes follow the documented examples in `fixtures/`; the sizes follow the issue's
//! targets: Molecule telemetry frames of 20 and 200 items and of 1 KiB and 64 KiB, a
//! 500-datapoint WebMACS batch, and typical inbound messages of the JSON APIs.

pub mod fanout;

use std::fmt::Write as _;

/// A small deterministic generator (SplitMix64), so inputs are the same on every run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        // 53 random bits as a fraction in [0, 1).
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + unit * (hi - lo)
    }
}

/// Metric names and labels of a home battery gateway, cycled to make keys.
const METRICS: [(&str, &str); 10] = [
    ("SOC", "State of Charge"),
    ("GRID", "Grid Power"),
    ("PV", "Solar Power"),
    ("LOAD", "House Load"),
    ("BATP", "Battery Power"),
    ("BATV", "Battery Voltage"),
    ("BATT", "Battery Temperature"),
    ("FREQ", "Grid Frequency"),
    ("INVT", "Inverter Temperature"),
    ("MODE", "Operating Mode"),
];

/// A type-100 telemetry payload (JSON array) of `items` items; labels on the first
/// `labelled` items, as a gateway sends them periodically.
pub fn molecule_telemetry(items: usize, labelled: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from("[");
    for i in 0..items {
        let (key, label) = METRICS[i % METRICS.len()];
        let bank = i / METRICS.len();
        if i > 0 {
            out.push(',');
        }
        let value = rng.range(-5_000.0, 5_000.0);
        let _ = write!(out, r#"{{"key":"{key}{bank}""#);
        if i < labelled {
            let _ = write!(out, r#","lbl":"{label} {bank}""#);
        }
        let _ = write!(out, r#","val":"{value:.2}"}}"#);
    }
    out.push(']');
    out
}

/// A Molecule server data frame: type byte, reserved byte, payload, trailing `0x00`.
pub fn molecule_frame(message_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 3);
    frame.push(message_type);
    frame.push(0);
    frame.extend_from_slice(payload);
    frame.push(0);
    frame
}

/// A type-100 frame of about `bytes` bytes on the wire (never more): as many telemetry
/// items as fit, labels on every tenth.
pub fn molecule_frame_of_size(bytes: usize, seed: u64) -> Vec<u8> {
    let mut items = 1;
    loop {
        let next = molecule_telemetry(items + 1, (items + 1) / 10, seed);
        if next.len() + 3 > bytes {
            break;
        }
        items += 1;
    }
    let payload = molecule_telemetry(items, items / 10, seed);
    molecule_frame(100, payload.as_bytes())
}

/// A WebMACS controller batch of `n` datapoints over 25 events.
pub fn webmacs_batch(n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from(r#"{"datapoints":["#);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let value = rng.range(0.0, 1_200.0);
        let _ = write!(
            out,
            r#"{{"value":{value:.3},"event_public_id":"evt-{:04}"}}"#,
            i % 25
        );
    }
    out.push_str("]}");
    out
}

/// A WebMACS stream broadcast of `n` datapoints, as `/ws/datapoints/stream` sends it.
pub fn webmacs_broadcast(n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from(r#"{"type":"datapoints_batch","datapoints":["#);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let value = rng.range(0.0, 1_200.0);
        let _ = write!(
            out,
            r#"{{"value":{value:.3},"event_public_id":"evt-{:04}","timestamp":"2025-01-15T14:30:00.{:06}","experiment_public_id":"exp-001"}}"#,
            i % 25,
            i % 1_000_000
        );
    }
    out.push_str("]}");
    out
}

/// Typical Valtronics client messages: a filtered subscribe and a batch of `n` subscribes.
pub fn valtronics_inbound(n: usize) -> (String, String) {
    let subscribe = r#"{"type":"subscribe","channel":"telemetry","device_id":1,"filters":{"metrics":["temperature","humidity"],"frequency":"real-time"}}"#.to_owned();
    let mut batch = String::from(r#"{"type":"batch","messages":["#);
    for i in 0..n {
        if i > 0 {
            batch.push(',');
        }
        let _ = write!(
            batch,
            r#"{{"type":"subscribe","channel":"telemetry","device_id":{},"filters":{{"metrics":["temperature","humidity"]}}}}"#,
            i + 1
        );
    }
    batch.push_str("]}");
    (subscribe, batch)
}

/// A Valtronics `telemetry_update` broadcast with `metrics` metrics.
pub fn valtronics_update(metrics: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from(
        r#"{"type":"telemetry_update","channel":"telemetry","device_id":1,"telemetry":{"#,
    );
    for i in 0..metrics {
        if i > 0 {
            out.push(',');
        }
        let value = rng.range(0.0, 100.0);
        let _ = write!(
            out,
            r#""metric_{i}":{{"value":{value:.2},"unit":"°C","timestamp":"2024-01-01T12:00:00Z"}}"#
        );
    }
    out.push_str("}}");
    out
}

/// Typical Mosaic client messages: a request with an id and a range, a subscribe.
pub fn mosaic_inbound() -> (String, String) {
    (
        r#"{"request":"timeline","id":2,"num":"1,2,5-9"}"#.to_owned(),
        r#"{"subscribe":"timeline","id":7,"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"}"#
            .to_owned(),
    )
}

/// A Mosaic timeline broadcast.
pub fn mosaic_broadcast() -> String {
    r#"{"broadcast":"timeline","data":{"num":1,"state":"running","onstage":true,"position":12000}}"#
        .to_owned()
}

/// A robot publish of a pose-like object with `fields` numeric fields.
pub fn robot_publish(fields: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut data = String::from("{");
    for i in 0..fields {
        if i > 0 {
            data.push(',');
        }
        let _ = write!(data, r#""f{i}":{:.4}"#, rng.range(-10.0, 10.0));
    }
    data.push('}');
    format!(
        r#"{{"action":"publish","topic":"robot/pose","data":{{"name":"pose","type":"pose2d","data":{data}}}}}"#
    )
}

/// A robot message as subscribers receive it.
pub fn robot_message(fields: usize, seed: u64) -> String {
    let publish = robot_publish(fields, seed);
    let start = publish.find(r#"{"name""#).unwrap_or(0);
    let end = publish.len().saturating_sub(1);
    publish.get(start..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use telewire_protocols::molecule::DataFrame;
    use telewire_protocols::molecule::Telemetry;
    use telewire_protocols::mosaic;
    use telewire_protocols::robot;
    use telewire_protocols::valtronics;
    use telewire_protocols::webmacs;

    #[test]
    fn every_input_decodes_with_the_protocol_codecs() {
        for items in [20, 200] {
            let text = molecule_telemetry(items, items / 10, 7);
            assert_eq!(Telemetry::decode(&text).unwrap().items.len(), items);
        }
        for size in [1024, 65536] {
            let frame = molecule_frame_of_size(size, 7);
            assert!(
                frame.len() <= size && frame.len() > size - 100,
                "{}",
                frame.len()
            );
            let decoded = DataFrame::decode(&frame).unwrap();
            assert!(decoded.has_trailing_null());
            decoded.content().unwrap();
        }
        let batch = webmacs_batch(500, 7);
        assert_eq!(
            webmacs::TelemetryBatch::decode(&batch)
                .unwrap()
                .datapoints
                .len(),
            500
        );
        webmacs::ServerMessage::decode(&webmacs_broadcast(500, 7)).unwrap();
        let (subscribe, batch) = valtronics_inbound(50);
        valtronics::ClientMessage::decode(&subscribe).unwrap();
        valtronics::ClientMessage::decode(&batch).unwrap();
        valtronics::ServerMessage::decode(&valtronics_update(20, 7)).unwrap();
        let (request, subscribe) = mosaic_inbound();
        mosaic::ClientMessage::decode(&request).unwrap();
        mosaic::ClientMessage::decode(&subscribe).unwrap();
        mosaic::ServerMessage::decode(&mosaic_broadcast()).unwrap();
        robot::ClientMessage::decode(&robot_publish(12, 7)).unwrap();
        robot::ServerMessage::decode(&robot_message(12, 7)).unwrap();
    }

    #[test]
    fn inputs_are_the_same_on_every_run() {
        assert_eq!(molecule_telemetry(20, 2, 9), molecule_telemetry(20, 2, 9));
        assert_ne!(molecule_telemetry(20, 2, 9), molecule_telemetry(20, 2, 10));
    }
}
