//! The control page's state as JSON: simulators, live clients with their rates, the data
//! preview and the slow-consumer policy (`GET /api/state` and every `/ws` push).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;
use telewire_protocols::molecule::frames::DataFrame;

use super::Control;
use super::preview::Sample;
use crate::link::LinkId;
use crate::link::LinkInfo;
use crate::serve::Api;

/// Rates are recomputed from counter deltas at most this often.
const RATE_WINDOW_SECS: f64 = 0.5;

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// When it was taken, in Unix milliseconds.
    pub generated_unix_ms: u64,
    /// The data seed.
    pub seed: u64,
    /// The slow-consumer policy in words, when one is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Each running simulator, in port order.
    pub simulators: Vec<Simulator>,
}

/// One running simulator.
#[derive(Debug, Clone, Serialize)]
pub struct Simulator {
    /// Its name (`robot`).
    pub api: &'static str,
    /// Its bound address.
    pub addr: String,
    /// WebSocket URLs.
    pub ws_urls: Vec<String>,
    /// HTTP endpoints, as `METHOD URL`.
    pub http: Vec<String>,
    /// Credentials, in words.
    pub credentials: String,
    /// A ready-to-paste token (or handshake data).
    pub token: String,
    /// Other lines of the start-up table.
    pub notes: Vec<String>,
    /// Broken profiles in effect on it.
    pub breaks: Vec<String>,
    /// The faults it takes (the admin API's catalog).
    pub faults: Vec<crate::faults::CatalogEntry>,
    /// The lasting faults in effect.
    pub active: Vec<ActiveFault>,
    /// Its live clients, by id.
    pub clients: Vec<Client>,
    /// Its latest sampled outbound data frames, oldest first.
    pub preview: Vec<PreviewFrame>,
}

/// A lasting fault in effect.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveFault {
    /// Its spec (`latency=250ms`).
    pub fault: String,
    /// The connection it acts on; `None`: every client of the API.
    pub client: Option<LinkId>,
}

/// One live client: the registry's view plus its message rates.
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    /// Id, path, peer, auth, subscriptions, counters, dropped.
    #[serde(flatten)]
    pub info: LinkInfo,
    /// Frames received per second, over the last half second or more.
    pub in_per_s: f64,
    /// Frames written per second, over the last half second or more.
    pub out_per_s: f64,
}

/// One sampled outbound data frame.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewFrame {
    /// When it was written, in Unix milliseconds.
    pub at_unix_ms: u64,
    /// The connection it went to.
    pub client: LinkId,
    /// `text` or `binary`.
    pub kind: &'static str,
    /// Its full length in bytes.
    pub len: usize,
    /// Whether only its first bytes are shown.
    pub truncated: bool,
    /// Its text: the frame itself, or a Molecule frame decoded (`TELEMETRY (0x64): [...]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Its bytes in hex, for a binary frame that does not decode to text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
}

impl Control {
    /// The state now; marks the preview as watched (sampling goes on for a while).
    pub fn snapshot(&self) -> Snapshot {
        let previews = self.links.previews();
        previews.watch();
        let clients = self.links.list(None);
        let rated = self.rates.rate(clients);
        let simulators = self
            .apis
            .iter()
            .map(|running| {
                let api = running.api;
                let info = &running.info;
                Simulator {
                    api: api.name(),
                    addr: running.addr.to_string(),
                    ws_urls: info.ws_urls.clone(),
                    http: info.http.clone(),
                    credentials: info.credentials.clone(),
                    token: info.token.clone(),
                    notes: info.notes.clone(),
                    breaks: self
                        .breaks
                        .iter()
                        .filter(|(a, _)| *a == api)
                        .map(|(_, b)| b.clone())
                        .collect(),
                    faults: crate::faults::catalog(api),
                    active: self
                        .faults
                        .iter()
                        .filter(|control| control.api() == api)
                        .flat_map(|control| control.active())
                        .map(|(fault, client)| ActiveFault {
                            fault: fault.to_string(),
                            client,
                        })
                        .collect(),
                    clients: rated
                        .iter()
                        .filter(|c| c.info.api == api.name())
                        .cloned()
                        .collect(),
                    preview: previews
                        .of(api)
                        .frames()
                        .iter()
                        .map(|sample| preview_frame(api, sample))
                        .collect(),
                }
            })
            .collect();
        Snapshot {
            generated_unix_ms: crate::link::unix_ms(),
            seed: self.seed,
            policy: self.policy.clone(),
            simulators,
        }
    }
}

/// How a sampled frame is shown: text as it is; a Molecule binary frame decoded when its
/// payload is text; any other binary frame in hex.
pub fn preview_frame(api: Api, sample: &Sample) -> PreviewFrame {
    let truncated = sample.head.len() < sample.len;
    let (text, hex) = if !sample.binary {
        (
            Some(String::from_utf8_lossy(&sample.head).into_owned()),
            None,
        )
    } else {
        match molecule_text(api, &sample.head) {
            Some(text) => (Some(text), None),
            None => (None, Some(hex(&sample.head))),
        }
    };
    PreviewFrame {
        at_unix_ms: sample.at_unix_ms,
        client: sample.link,
        kind: if sample.binary { "binary" } else { "text" },
        len: sample.len,
        truncated,
        text,
        hex,
    }
}

/// A Molecule data frame as `TYPE (0xNN): payload`, when its payload is UTF-8.
fn molecule_text(api: Api, bytes: &[u8]) -> Option<String> {
    if api != Api::Molecule {
        return None;
    }
    let frame = DataFrame::decode(bytes).ok()?;
    // A cut frame may end inside a character: show what decodes.
    let payload = match std::str::from_utf8(frame.payload()) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(frame.payload().get(..err.valid_up_to())?).ok()?
        }
        Err(_) => return None,
    };
    Some(format!("{}: {payload}", frame.message_type()))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Messages per second of each client, from the deltas of its frame counters.
#[derive(Debug, Default)]
pub struct Rates {
    last: Mutex<HashMap<LinkId, Rate>>,
}

#[derive(Debug, Clone, Copy)]
struct Rate {
    at: Instant,
    frames_in: u64,
    frames_out: u64,
    in_per_s: f64,
    out_per_s: f64,
}

impl Rates {
    /// `clients` with their rates; forgets clients that are gone.
    pub fn rate(&self, clients: Vec<LinkInfo>) -> Vec<Client> {
        self.rate_at(Instant::now(), crate::link::unix_ms(), clients)
    }

    fn rate_at(&self, now: Instant, now_unix_ms: u64, clients: Vec<LinkInfo>) -> Vec<Client> {
        let Ok(mut last) = self.last.lock() else {
            return Vec::new();
        };
        last.retain(|id, _| clients.iter().any(|c| c.id == *id));
        clients
            .into_iter()
            .map(|info| {
                let rate = match last.get(&info.id).copied() {
                    Some(prev) => {
                        let secs = now.saturating_duration_since(prev.at).as_secs_f64();
                        if secs >= RATE_WINDOW_SECS {
                            Rate {
                                at: now,
                                frames_in: info.frames_in,
                                frames_out: info.frames_out,
                                in_per_s: per_second(info.frames_in, prev.frames_in, secs),
                                out_per_s: per_second(info.frames_out, prev.frames_out, secs),
                            }
                        } else {
                            prev
                        }
                    }
                    None => {
                        // First sight: the average since it connected.
                        let age_ms = now_unix_ms.saturating_sub(info.connected_unix_ms);
                        let secs = age_ms as f64 / 1000.0;
                        let (in_per_s, out_per_s) = if secs >= RATE_WINDOW_SECS {
                            (
                                per_second(info.frames_in, 0, secs),
                                per_second(info.frames_out, 0, secs),
                            )
                        } else {
                            (0.0, 0.0)
                        };
                        Rate {
                            at: now,
                            frames_in: info.frames_in,
                            frames_out: info.frames_out,
                            in_per_s,
                            out_per_s,
                        }
                    }
                };
                last.insert(info.id, rate);
                Client {
                    info,
                    in_per_s: rate.in_per_s,
                    out_per_s: rate.out_per_s,
                }
            })
            .collect()
    }
}

/// `(now - before) / secs`, rounded to a tenth.
fn per_second(now: u64, before: u64, secs: f64) -> f64 {
    let delta = now.saturating_sub(before) as f64;
    (delta / secs * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn info(id: LinkId, frames_in: u64, frames_out: u64) -> LinkInfo {
        LinkInfo {
            id,
            api: "robot",
            path: "/wss".into(),
            peer: "127.0.0.1:5000".into(),
            connected_unix_ms: 10_000,
            auth: "pending".into(),
            subscriptions: Vec::new(),
            frames_in,
            frames_out,
            bytes_in: 0,
            bytes_out: 0,
            dropped: 0,
        }
    }

    #[test]
    fn rates_come_from_counter_deltas_over_at_least_half_a_second() {
        let rates = Rates::default();
        let t0 = Instant::now();
        // Connected 2 s ago with 10 frames out: 5/s on first sight.
        let first = rates.rate_at(t0, 12_000, vec![info(1, 0, 10)]);
        assert_eq!(first[0].out_per_s, 5.0);
        // 100 more frames in one second.
        let later = t0 + Duration::from_secs(1);
        let second = rates.rate_at(later, 13_000, vec![info(1, 4, 110)]);
        assert_eq!((second[0].in_per_s, second[0].out_per_s), (4.0, 100.0));
        // Too soon for a new window: the last rate stands.
        let soon = later + Duration::from_millis(100);
        let third = rates.rate_at(soon, 13_100, vec![info(1, 4, 500)]);
        assert_eq!(third[0].out_per_s, 100.0);
        // A client that is gone is forgotten.
        rates.rate_at(soon, 13_100, Vec::new());
        assert!(rates.last.lock().unwrap().is_empty());
    }

    #[test]
    fn molecule_frames_are_decoded_and_other_binary_is_hex() {
        let telemetry = [100, 0, b'[', b']'];
        let sample = |head: &[u8], len| Sample {
            at_unix_ms: 1,
            link: 3,
            binary: true,
            len,
            head: head.to_vec(),
        };
        let shown = preview_frame(Api::Molecule, &sample(&telemetry, 4));
        assert_eq!(shown.text.as_deref(), Some("TELEMETRY (0x64): []"));
        assert!(!shown.truncated);
        let shown = preview_frame(Api::Molecule, &sample(&[2, 0, 0xff, 0xfe], 4));
        assert_eq!(shown.hex.as_deref(), Some("02 00 ff fe"));
        let shown = preview_frame(Api::Robot, &sample(&telemetry, 9));
        assert_eq!(shown.hex.as_deref(), Some("64 00 5b 5d"));
        assert!(shown.truncated);
    }
}
