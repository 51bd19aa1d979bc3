//! The committed seed corpora, `fuzz/seeds/<target>/`: the fixtures, and a few hand-made step sequences.
//!
//! `cargo test` (in `fuzz/`) checks that the committed files are the ones built here and
//! that every session seed decodes into the steps it was built from;
//! `WRITE_SEEDS=1 cargo test` rewrites them.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::path::PathBuf;

use crate::SEPARATOR;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The fixtures of `api` whose file name starts with one of `prefixes`, by name.
fn fixtures(api: &str, prefixes: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let dir = root().join("../fixtures").join(api);
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p)) {
            out.insert(format!("fixture-{name}"), fs::read(&path).unwrap());
        }
    }
    out
}

/// The 4-byte tag that `arbitrary`'s derive reads as variant `index` of `count`.
fn variant(index: u32, count: u32) -> [u8; 4] {
    let tag = (u64::from(index) << 32).div_ceil(u64::from(count));
    u32::try_from(tag).unwrap().to_le_bytes()
}

/// A sequence of steps, one chunk each.
#[derive(Default)]
struct Sequence {
    chunks: Vec<Vec<u8>>,
}

impl Sequence {
    /// A step: an optional prefix (a side), a variant tag, then its fields' bytes.
    fn step(mut self, prefix: &[u8], index: u32, count: u32, fields: &[u8]) -> Self {
        let mut chunk = prefix.to_vec();
        chunk.extend_from_slice(&variant(index, count));
        chunk.extend_from_slice(fields);
        assert!(
            !chunk.contains(&SEPARATOR),
            "a step may not hold the separator"
        );
        self.chunks.push(chunk);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        self.chunks.join(&SEPARATOR)
    }
}

// Variant indices, in declaration order, and the enums' variant counts.
const TOKEN_GOOD: u8 = 0;
const TOKEN_MISSING: u8 = 3;

fn session_seeds(target: &str) -> BTreeMap<String, Vec<u8>> {
    let mut seeds = BTreeMap::new();
    match target {
        "valtronics_session" => {
            const N: u32 = 10;
            // Text, Binary, Tick, Auth, Subscribe, Unsubscribe, Ping, Batch, Burst, Oversize
            let sub = |channel: u8| [channel, 0, 0, 0, 0, 0, 0];
            let auth = || Sequence::default().step(&[], 3, N, &[TOKEN_GOOD]);
            for (name, text) in fixtures("valtronics", &["client-"]) {
                let seq = auth().step(&[], 0, N, &text);
                seeds.insert(format!("seq-auth-then-{name}"), seq.bytes());
            }
            let all = (0..4).fold(auth(), |seq, c| seq.step(&[], 4, N, &sub(c)));
            seeds.insert("seq-subscribe-all".into(), all.bytes());
            let limits = auth()
                .step(&[], 4, N, &sub(1))
                .step(&[], 8, N, &[221])
                .step(&[], 2, N, &[0xe8, 0x03])
                .step(&[], 7, N, &[221, 0, 0, 0, 0, 0, 0, 0])
                .step(&[], 5, N, &[1, 0])
                .step(&[], 9, N, &[10]);
            seeds.insert("seq-limits".into(), limits.bytes());
            let early = Sequence::default()
                .step(&[], 4, N, &sub(0))
                .step(&[], 3, N, &[1])
                .step(&[], 6, N, &[])
                .step(&[], 1, N, b"\x00\x01");
            seeds.insert("seq-before-auth".into(), early.bytes());
        }
        "mosaic_session" => {
            const N: u32 = 8;
            // Text, Binary, Tick, Wait, Keepalive, Empty, Request, Subscribe
            for secured in [0u8, 1] {
                // The first byte chooses security; then the steps.
                let start = || Sequence::default().step(&[secured], 7, N, &[6, TOKEN_GOOD]);
                for (name, text) in fixtures("mosaic", &["client-"]) {
                    let seq = start().step(&[], 0, N, &text);
                    seeds.insert(format!("seq-{secured}-{name}"), seq.bytes());
                }
                let life = start()
                    .step(&[], 6, N, &[12, 1, 7, 0, TOKEN_GOOD])
                    .step(&[], 6, N, &[0, 0, TOKEN_MISSING])
                    .step(&[], 4, N, &[TOKEN_GOOD])
                    .step(&[], 3, N, &[200])
                    .step(&[], 3, N, &[200])
                    .step(&[], 5, N, &[])
                    .step(&[], 4, N, &[TOKEN_MISSING])
                    .step(&[], 1, N, b"\x01");
                seeds.insert(format!("seq-{secured}-session-lifetime"), life.bytes());
            }
        }
        "robot_session" => {
            const N: u32 = 8;
            // Text, Binary, Tick, Wait, Subscribe, Unsubscribe, Publish, Burst
            for (name, text) in fixtures("robot", &["client-"]) {
                let seq = Sequence::default()
                    .step(&[1], 4, N, &[0])
                    .step(&[0], 0, N, &text)
                    .step(&[1], 0, N, &text);
                seeds.insert(format!("seq-{name}"), seq.bytes());
            }
            let route = Sequence::default()
                .step(&[0], 4, N, &[0])
                .step(&[1], 4, N, &[2])
                .step(&[1], 6, N, &[0, 1, 7, 0])
                .step(&[0], 6, N, &[0, 0, 9, 0])
                .step(&[0], 5, N, &[0])
                .step(&[1], 6, N, &[0, 0, 1, 0])
                .step(&[0], 7, N, &[215])
                .step(&[1], 3, N, &[61])
                .step(&[1], 4, N, &[9]);
            seeds.insert("seq-route".into(), route.bytes());
        }
        "webmacs_session" => {
            const N: u32 = 5;
            // Text, Binary, Tick, Ping, Batch
            for (name, text) in fixtures("webmacs", &["client-"]) {
                let seq = Sequence::default()
                    .step(&[0], 0, N, &text)
                    .step(&[1], 0, N, &text);
                seeds.insert(format!("seq-{name}"), seq.bytes());
            }
            let flow = Sequence::default()
                .step(&[0], 4, N, &[8, 0, 5, 0, 0, 1])
                .step(&[0], 4, N, &[8, 0, 6, 0, 1, 0])
                .step(&[1], 2, N, &[250, 0])
                .step(&[0], 4, N, &[4, 0, 7, 0, 2, 0])
                .step(&[1], 3, N, &[])
                .step(&[0], 4, N, &[0x16, 0xf0, 0, 0, 0, 0])
                .step(&[0], 1, N, b"\x00");
            seeds.insert("seq-batches".into(), flow.bytes());
        }
        "molecule_session" => {
            const N: u32 = 8;
            // Text, Binary, Tick, Wait, Handshake, Command, Frame, Oversize
            let hello = || Sequence::default().step(&[], 4, N, &[1, TOKEN_GOOD]);
            for (name, bytes) in fixtures("molecule", &["client-"]) {
                seeds.insert(
                    format!("seq-{name}"),
                    hello().step(&[], 1, N, &bytes).bytes(),
                );
                let raw = Sequence::default().step(&[], 1, N, &bytes);
                seeds.insert(format!("seq-raw-{name}"), raw.bytes());
            }
            let flow = hello()
                .step(&[], 5, N, b"status")
                .step(&[], 6, N, &[7, b'x'])
                .step(&[], 3, N, &[61])
                .step(&[], 5, N, b"late");
            seeds.insert("seq-commands-then-expiry".into(), flow.bytes());
            let big = hello().step(&[], 7, N, &[1]);
            seeds.insert("seq-oversize-after-auth".into(), big.bytes());
            let refused =
                Sequence::default()
                    .step(&[], 4, N, &[0, TOKEN_GOOD])
                    .step(&[], 5, N, b"late");
            seeds.insert("seq-unknown-gateway".into(), refused.bytes());
            let slow = Sequence::default().step(&[], 2, N, &[0x20, 0x4e]);
            seeds.insert("seq-handshake-timeout".into(), slow.bytes());
        }
        _ => {}
    }
    seeds
}

/// Every target's seeds, by target and file name.
fn all_seeds() -> BTreeMap<&'static str, BTreeMap<String, Vec<u8>>> {
    let mut all = BTreeMap::new();
    all.insert("molecule_handshake", fixtures("molecule", &["client-"]));
    all.insert(
        "molecule_server_frame",
        fixtures("molecule", &["server-data", "server-auth"]),
    );
    all.insert(
        "molecule_auth_response",
        fixtures("molecule", &["server-auth"]),
    );
    all.insert(
        "mosaic_keepalive",
        fixtures("mosaic", &["server-keepalive"]),
    );
    all.insert(
        "mosaic_message",
        fixtures("mosaic", &["client-", "server-"]),
    );
    all.insert(
        "valtronics_message",
        fixtures("valtronics", &["client-", "server-"]),
    );
    all.insert("webmacs_batch", fixtures("webmacs", &["client-telemetry"]));
    all.insert(
        "webmacs_stream",
        fixtures("webmacs", &["client-", "server-"]),
    );
    all.insert("robot_message", fixtures("robot", &["client-", "server-"]));
    for target in [
        "molecule_session",
        "mosaic_session",
        "robot_session",
        "valtronics_session",
        "webmacs_session",
    ] {
        all.insert(target, session_seeds(target));
    }
    all.retain(|_, seeds| !seeds.is_empty());
    all
}

#[test]
fn session_seeds_decode_into_their_steps() {
    use crate::molecule::MoleculeStep;
    use crate::mosaic::MosaicStep;
    use crate::robot::RobotStep;
    use crate::valtronics::ValtronicsStep;
    use crate::webmacs::WebmacsStep;
    for (target, seeds) in all_seeds() {
        for (name, bytes) in seeds {
            let chunks = bytes.split(|b| *b == SEPARATOR).count();
            fn show<T: std::fmt::Debug>(steps: Vec<T>) -> (usize, String) {
                (steps.len(), format!("{steps:?}"))
            }
            let (count, decoded) = match target {
                "valtronics_session" => show(crate::steps::<ValtronicsStep<'_>>(&bytes)),
                "mosaic_session" => show(crate::steps::<MosaicStep<'_>>(
                    bytes.get(1..).unwrap_or_default(),
                )),
                "robot_session" => show(crate::steps::<RobotStep<'_>>(&bytes)),
                "webmacs_session" => show(crate::steps::<WebmacsStep<'_>>(&bytes)),
                "molecule_session" => show(crate::steps::<MoleculeStep<'_>>(&bytes)),
                _ => continue,
            };
            assert_eq!(count, chunks, "{target}/{name}: every chunk is a step");
            println!("{target}/{name}: {chunks} chunks: {decoded}");
        }
    }
}

#[test]
fn seeds_are_current() {
    let write = std::env::var_os("WRITE_SEEDS").is_some();
    for (target, seeds) in all_seeds() {
        let dir = root().join("seeds").join(target);
        if write {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
        }
        for (name, bytes) in &seeds {
            let path = dir.join(name);
            if write {
                fs::write(&path, bytes).unwrap();
            } else {
                assert_eq!(
                    fs::read(&path).ok().as_ref(),
                    Some(bytes),
                    "{} is stale: run `WRITE_SEEDS=1 cargo test` in fuzz/",
                    path.display()
                );
            }
        }
    }
}
