//! The control page's live data preview: a small ring of sampled outbound data frames per API.
//!
//! The driver offers every outbound frame ([`crate::link::LinkState::sampled`]). While nobody
//! reads the control page's state the offer is one atomic load and nothing else; while
//! someone does, at most one frame per [`SAMPLE_EVERY_MS`] per API is copied (truncated to
//! [`PREVIEW_BYTES`]) into a ring of the last [`PREVIEW_FRAMES`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use telewire_protocols::frame::Outbound;

use crate::link::LinkId;
use crate::serve::Api;

/// Frames kept per API.
pub const PREVIEW_FRAMES: usize = 20;
/// Bytes kept of each frame.
pub const PREVIEW_BYTES: usize = 512;
/// At most one sampled frame per API in this many milliseconds.
pub const SAMPLE_EVERY_MS: u64 = 200;
/// Sampling stays on this long after the last read of the state.
pub const WATCH_FOR_MS: u64 = 10_000;

/// One sampled outbound data frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// When it was sampled, in Unix milliseconds.
    pub at_unix_ms: u64,
    /// The connection it was written to.
    pub link: LinkId,
    /// Whether it was a binary frame (else text).
    pub binary: bool,
    /// Its full length in bytes.
    pub len: usize,
    /// Its first bytes (at most [`PREVIEW_BYTES`], cut on a character boundary for text).
    pub head: Vec<u8>,
}

/// The preview ring of one API.
#[derive(Debug, Default)]
pub struct Preview {
    /// Sampling is on until this Unix millisecond; 0 while nobody watches.
    watched_until_ms: AtomicU64,
    /// The next frame at or after this Unix millisecond is sampled.
    next_sample_ms: AtomicU64,
    frames: Mutex<VecDeque<Sample>>,
}

impl Preview {
    /// Offers a frame written to connection `link`; cheap when nobody watches.
    pub fn offer(&self, link: LinkId, frame: &Outbound) {
        if self.watched_until_ms.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.offer_at(crate::link::unix_ms(), link, frame);
    }

    fn offer_at(&self, now: u64, link: LinkId, frame: &Outbound) {
        let until = self.watched_until_ms.load(Ordering::Relaxed);
        if until == 0 {
            return;
        }
        if now > until {
            // Nobody has looked for a while: back to the one-load fast path.
            let _ = self.watched_until_ms.compare_exchange(
                until,
                0,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            return;
        }
        let (bytes, binary) = match frame {
            Outbound::Text(text) => (text.as_bytes(), false),
            Outbound::Binary(bytes) => (bytes.as_slice(), true),
            Outbound::Close(_) => return,
        };
        let next = self.next_sample_ms.load(Ordering::Relaxed);
        if now < next
            || self
                .next_sample_ms
                .compare_exchange(
                    next,
                    now.saturating_add(SAMPLE_EVERY_MS),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let mut cut = bytes.len().min(PREVIEW_BYTES);
        if let Outbound::Text(text) = frame {
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
        }
        let sample = Sample {
            at_unix_ms: now,
            link,
            binary,
            len: bytes.len(),
            head: bytes.get(..cut).unwrap_or_default().to_vec(),
        };
        if let Ok(mut frames) = self.frames.lock() {
            if frames.len() >= PREVIEW_FRAMES {
                frames.pop_front();
            }
            frames.push_back(sample);
        }
    }

    /// Someone looks at the preview: sample for the next [`WATCH_FOR_MS`].
    pub fn watch(&self) {
        self.watch_at(crate::link::unix_ms());
    }

    fn watch_at(&self, now: u64) {
        self.watched_until_ms
            .store(now.saturating_add(WATCH_FOR_MS), Ordering::Relaxed);
    }

    /// The sampled frames, oldest first.
    pub fn frames(&self) -> Vec<Sample> {
        self.frames
            .lock()
            .map(|frames| frames.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The preview ring of every API.
#[derive(Debug, Default)]
pub struct Previews {
    rings: [Arc<Preview>; Api::ALL.len()],
}

impl Previews {
    /// The ring of `api`.
    pub fn of(&self, api: Api) -> &Arc<Preview> {
        let index = Api::ALL.iter().position(|a| *a == api).unwrap_or(0);
        // `index` comes from `Api::ALL`, which has exactly as many entries as `rings`.
        &self.rings[index]
    }

    /// Someone looks at the page: sample every API's frames for a while.
    pub fn watch(&self) {
        for ring in &self.rings {
            ring.watch();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Outbound {
        Outbound::Text(s.to_owned())
    }

    #[test]
    fn nothing_is_kept_while_nobody_watches() {
        let preview = Preview::default();
        for _ in 0..100 {
            preview.offer(1, &text("data"));
        }
        assert!(preview.frames().is_empty());
    }

    #[test]
    fn watched_frames_are_sampled_bounded_and_stop_after_the_watch() {
        let preview = Preview::default();
        preview.watch_at(1_000);
        preview.offer_at(1_000, 7, &text("first"));
        preview.offer_at(1_050, 7, &text("too soon"));
        preview.offer_at(1_000 + SAMPLE_EVERY_MS, 8, &Outbound::Binary(vec![1, 2]));
        let frames = preview.frames();
        assert_eq!(frames.len(), 2, "{frames:?}");
        assert_eq!(
            (frames[0].link, frames[0].head.as_slice()),
            (7, &b"first"[..])
        );
        assert!(frames[1].binary);
        for i in 0..(PREVIEW_FRAMES as u64 * 2) {
            preview.offer_at(2_000 + i * SAMPLE_EVERY_MS, 9, &text("x"));
        }
        assert_eq!(preview.frames().len(), PREVIEW_FRAMES);
        // Past the watch, offers are dropped and the fast path is back.
        let after = 1_000 + WATCH_FOR_MS + 1;
        preview.offer_at(after + 100_000, 9, &text("late"));
        assert_eq!(preview.watched_until_ms.load(Ordering::Relaxed), 0);
        assert!(preview.frames().iter().all(|f| f.head != b"late"));
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_and_close_frames_are_skipped() {
        let preview = Preview::default();
        preview.watch_at(0);
        let long = "é".repeat(PREVIEW_BYTES);
        preview.offer_at(
            1,
            1,
            &Outbound::Close(telewire_protocols::frame::Close::new(
                telewire_protocols::frame::CloseCode::NORMAL,
                "bye",
            )),
        );
        preview.offer_at(2, 1, &text(&long));
        let frames = preview.frames();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].len, long.len());
        assert!(frames[0].head.len() <= PREVIEW_BYTES);
        assert!(std::str::from_utf8(&frames[0].head).is_ok());
    }

    #[test]
    fn every_api_has_its_own_ring() {
        let previews = Previews::default();
        assert!(!Arc::ptr_eq(
            previews.of(Api::Robot),
            previews.of(Api::Mosaic)
        ));
    }
}
