//! Decode and encode of every API's hot path, each beside a `serde_json::Value` baseline on
//! the same bytes. Run: `cargo bench -p telewire-benches --bench codecs`.
//!
//! One iteration handles one message, so criterion's time is the time per message and its
//! throughput line gives bytes/s and messages/s.

use std::hint::black_box;

use criterion::BenchmarkGroup;
use criterion::Criterion;
use criterion::Throughput;
use criterion::criterion_group;
use criterion::criterion_main;
use criterion::measurement::WallTime;
use telewire_benches as inputs;
use telewire_protocols::molecule::DataFrame;
use telewire_protocols::molecule::LabelCache;
use telewire_protocols::molecule::Telemetry;
use telewire_protocols::mosaic;
use telewire_protocols::robot;
use telewire_protocols::valtronics;
use telewire_protocols::webmacs;

/// A group measuring one message of `bytes` bytes per iteration.
fn group<'c>(c: &'c mut Criterion, name: &str, bytes: usize) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::ElementsAndBytes {
        elements: 1,
        bytes: bytes as u64,
    });
    group
}

/// The baseline every typed decoder is compared with: a generic JSON tree of the same text.
fn value_baseline(group: &mut BenchmarkGroup<'_, WallTime>, text: &str) {
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(text)))
    });
}

fn molecule(c: &mut Criterion) {
    // The frame without JSON: header, trailing-null strip, UTF-8 validation.
    for (label, size) in [("1KiB", 1024), ("64KiB", 64 * 1024)] {
        let frame = inputs::molecule_frame_of_size(size, 1);
        let mut g = group(c, &format!("molecule/frame/{label}"), frame.len());
        g.bench_function("decode+utf8", |b| {
            b.iter(|| {
                DataFrame::decode(black_box(&frame))
                    .and_then(|f| f.text())
                    .map(str::len)
            })
        });
        g.finish();
    }
    // The type-100 payload: typed borrowing decode (and the label cache) vs a Value tree.
    for items in [20, 200] {
        let text = inputs::molecule_telemetry(items, items / 10, 1);
        let frame = inputs::molecule_frame(100, text.as_bytes());
        let mut g = group(c, &format!("molecule/telemetry/{items}"), frame.len());
        g.bench_function("decode", |b| {
            b.iter(|| Telemetry::decode(black_box(&text)).map(|t| t.items.len()))
        });
        let mut cache = LabelCache::new();
        g.bench_function("frame+decode+labels", |b| {
            b.iter(|| {
                let frame = DataFrame::decode(black_box(&frame)).ok()?;
                let telemetry = Telemetry::decode(frame.text().ok()?).ok()?;
                Some(cache.resolve(&telemetry).count())
            })
        });
        value_baseline(&mut g, &text);
        let decoded = Telemetry::decode(&text).ok();
        let mut out = Vec::with_capacity(frame.len());
        g.bench_function("encode", |b| {
            b.iter(|| {
                out.clear();
                if let Some(t) = &decoded {
                    t.encode(&mut out);
                }
                out.len()
            })
        });
        g.finish();
    }
}

fn webmacs(c: &mut Criterion) {
    let batch = inputs::webmacs_batch(500, 1);
    let mut g = group(c, "webmacs/controller-batch/500", batch.len());
    g.bench_function("decode", |b| {
        b.iter(|| webmacs::ClientMessage::decode(black_box(&batch)).is_ok())
    });
    g.bench_function("decode-batch-only", |b| {
        b.iter(|| webmacs::TelemetryBatch::decode(black_box(&batch)).is_ok())
    });
    value_baseline(&mut g, &batch);
    g.finish();

    let broadcast = inputs::webmacs_broadcast(500, 1);
    let mut g = group(c, "webmacs/datapoints-batch/500", broadcast.len());
    let decoded = webmacs::ServerMessage::decode(&broadcast).ok();
    let mut out = Vec::with_capacity(broadcast.len());
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            if let Some(m) = &decoded {
                m.encode(&mut out);
            }
            out.len()
        })
    });
    g.bench_function("decode", |b| {
        b.iter(|| webmacs::ServerMessage::decode(black_box(&broadcast)).is_ok())
    });
    value_baseline(&mut g, &broadcast);
    g.finish();
}

fn valtronics(c: &mut Criterion) {
    let (subscribe, batch) = inputs::valtronics_inbound(50);
    for (label, text) in [("subscribe", &subscribe), ("batch-50", &batch)] {
        let mut g = group(c, &format!("valtronics/inbound/{label}"), text.len());
        g.bench_function("decode", |b| {
            b.iter(|| valtronics::ClientMessage::decode(black_box(text)).is_ok())
        });
        value_baseline(&mut g, text);
        g.finish();
    }
    let update = inputs::valtronics_update(20, 1);
    let mut g = group(c, "valtronics/telemetry-update/20", update.len());
    let decoded = valtronics::ServerMessage::decode(&update).ok();
    let mut out = Vec::with_capacity(update.len());
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            if let Some(m) = &decoded {
                m.encode(&mut out);
            }
            out.len()
        })
    });
    g.finish();
}

fn mosaic(c: &mut Criterion) {
    let (request, subscribe) = inputs::mosaic_inbound();
    for (label, text) in [("request", &request), ("subscribe", &subscribe)] {
        let mut g = group(c, &format!("mosaic/inbound/{label}"), text.len());
        g.bench_function("decode", |b| {
            b.iter(|| mosaic::ClientMessage::decode(black_box(text)).is_ok())
        });
        value_baseline(&mut g, text);
        g.finish();
    }
    let broadcast = inputs::mosaic_broadcast();
    let mut g = group(c, "mosaic/broadcast/timeline", broadcast.len());
    let decoded = mosaic::ServerMessage::decode(&broadcast).ok();
    let mut out = Vec::with_capacity(broadcast.len());
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            if let Some(m) = &decoded {
                m.encode(&mut out);
            }
            out.len()
        })
    });
    g.finish();
}

fn robot(c: &mut Criterion) {
    let publish = inputs::robot_publish(12, 1);
    let mut g = group(c, "robot/inbound/publish", publish.len());
    g.bench_function("decode", |b| {
        b.iter(|| robot::ClientMessage::decode(black_box(&publish)).is_ok())
    });
    value_baseline(&mut g, &publish);
    g.finish();

    let message = inputs::robot_message(12, 1);
    let mut g = group(c, "robot/message", message.len());
    let decoded = robot::ServerMessage::decode(&message).ok();
    let mut out = Vec::with_capacity(message.len());
    g.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            if let Some(m) = &decoded {
                m.encode(&mut out);
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, molecule, webmacs, valtronics, mosaic, robot);
criterion_main!(benches);
