//! "lbl is only included periodically": the server's label schedule and the client's cache.

use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroU32;

use super::telemetry::Telemetry;
use super::telemetry::TelemetryItem;

/// The client side: "Always cache it the first time you see it for a given key and reuse it
/// when subsequent frames omit it."
///
/// Like the document's `if (item.lbl) labels[item.key] = item.lbl`, an empty label is not
/// cached (an empty string is falsy in JavaScript).
///
/// Frames of one gateway repeat the same keys in the same order, so [`LabelCache::resolve`]
/// remembers what each position of the last frame held: an item whose key matches its
/// position's is resolved with one string comparison, and only a new or moved key is
/// looked up in the (SipHash, collision-resistant) map.
#[derive(Debug, Clone, Default)]
pub struct LabelCache {
    /// Key to its slot in `slots`.
    index: HashMap<String, usize>,
    /// (key, label) pairs, in the order the keys were first labelled.
    slots: Vec<(String, String)>,
    /// For each item position of the last resolved frame, what its key resolved to.
    recent: Vec<Recent>,
    /// Bumped whenever a key gets its first label: a remembered "no label" from before
    /// is stale.
    generation: u64,
}

/// What one position of the last resolved frame held.
#[derive(Debug, Clone, Default)]
enum Recent {
    /// Nothing known.
    #[default]
    Unknown,
    /// A key with this slot.
    Slot(usize),
    /// A key without a label, as of `generation`.
    Unlabelled { key: String, generation: u64 },
}

impl PartialEq for LabelCache {
    /// Two caches are equal when they hold the same labels (what was resolved recently is
    /// only a speed-up).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .slots
                .iter()
                .all(|(key, label)| other.get(key) == Some(label.as_str()))
    }
}

impl Eq for LabelCache {}

impl LabelCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Caches `item`'s label when it has a non-empty one.
    pub fn observe(&mut self, item: &TelemetryItem<'_>) {
        let slot = self.index.get(&*item.key).copied();
        self.learn(slot, item);
    }

    /// Caches `item`'s non-empty label in `slot` (the key's, if it has one); the key's slot
    /// afterwards.
    fn learn(&mut self, slot: Option<usize>, item: &TelemetryItem<'_>) -> Option<usize> {
        let Some(lbl) = item.lbl.as_deref().filter(|l| !l.is_empty()) else {
            return slot;
        };
        match slot.and_then(|s| self.slots.get_mut(s)) {
            Some((_, label)) => {
                if label != lbl {
                    lbl.clone_into(label);
                }
                slot
            }
            None => {
                let slot = self.slots.len();
                self.slots.push((item.key.to_string(), lbl.to_owned()));
                self.index.insert(item.key.to_string(), slot);
                self.generation += 1;
                Some(slot)
            }
        }
    }

    /// The slot of `key`, trying first what position `at` held in the last frame.
    fn slot_at(&self, recent: &[Recent], at: usize, key: &str) -> Option<usize> {
        match recent.get(at) {
            Some(&Recent::Slot(slot)) if self.slots.get(slot).is_some_and(|(k, _)| k == key) => {
                return Some(slot);
            }
            Some(Recent::Unlabelled { key: k, generation })
                if *generation == self.generation && k == key =>
            {
                return None;
            }
            _ => {}
        }
        self.index.get(key).copied()
    }

    /// The cached label of `key`, if one was seen.
    pub fn get(&self, key: &str) -> Option<&str> {
        let slot = self.index.get(key)?;
        self.slots.get(*slot).map(|(_, label)| label.as_str())
    }

    /// "labels[item.key] ?? item.key": the cached label, or the key itself.
    pub fn label_for<'k>(&'k self, key: &'k str) -> &'k str {
        self.get(key).unwrap_or(key)
    }

    /// Caches every label in `telemetry`, then resolves each item's label.
    pub fn apply(&mut self, telemetry: &Telemetry<'_>) -> Vec<Reading> {
        telemetry
            .items
            .iter()
            .map(|item| {
                self.observe(item);
                Reading {
                    label: self.label_for(&item.key).to_owned(),
                    key: item.key.to_string(),
                    value: item.val.to_string(),
                }
            })
            .collect()
    }

    /// Caches every label in `telemetry`, then yields each item with its resolved label,
    /// borrowing both (no allocation per item; [`LabelCache::apply`] is the owning form).
    ///
    /// As in the document's loop, an item with a non-empty label resolves to it, and an
    /// item whose key has no cached label when it is reached resolves to its key. Any
    /// other item resolves to its key's label as cached once the whole frame was seen:
    /// that differs from [`LabelCache::apply`] only when one frame labels a key twice,
    /// differently, around an unlabelled occurrence.
    pub fn resolve<'s>(
        &'s mut self,
        telemetry: &'s Telemetry<'_>,
    ) -> impl Iterator<Item = (&'s str, &'s TelemetryItem<'s>)> + 's {
        let mut recent = std::mem::take(&mut self.recent);
        recent.resize(telemetry.items.len(), Recent::Unknown);
        for (at, item) in telemetry.items.iter().enumerate() {
            let slot = self.slot_at(&recent, at, &item.key);
            let slot = self.learn(slot, item);
            if let Some(entry) = recent.get_mut(at) {
                match (slot, entry) {
                    (Some(slot), entry) => *entry = Recent::Slot(slot),
                    (None, Recent::Unlabelled { key, generation }) => {
                        if *key != *item.key {
                            (*item.key).clone_into(key);
                        }
                        *generation = self.generation;
                    }
                    (None, entry) => {
                        *entry = Recent::Unlabelled {
                            key: item.key.to_string(),
                            generation: self.generation,
                        }
                    }
                }
            }
        }
        self.recent = recent;
        let cache: &'s Self = self;
        telemetry.items.iter().enumerate().map(move |(at, item)| {
            if let Some(lbl) = item.lbl.as_deref().filter(|l| !l.is_empty()) {
                return (lbl, item);
            }
            let label = match cache.recent.get(at) {
                Some(&Recent::Slot(slot)) => cache.slots.get(slot).map(|(_, l)| l.as_str()),
                _ => None,
            };
            (label.unwrap_or(&*item.key), item)
        })
    }

    /// Number of cached labels.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no label is cached.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// A telemetry value with its label resolved through a [`LabelCache`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The item's key.
    pub key: String,
    /// The cached label, or the key when none was ever sent.
    pub label: String,
    /// The value, as sent.
    pub value: String,
}

#[derive(Debug, Clone, Default)]
struct KeyState {
    label: Option<String>,
    /// Frames of this key since its label was last sent; `None` until it is first sent.
    since_sent: Option<u32>,
}

/// The server side: "lbl is sent only periodically (first frame for a key, then every N
/// frames)" (specs README).
///
/// The application may pass a label on every item; the schedule keeps the latest label per
/// key and includes it on the key's first frame, on every N-th frame after that, and
/// whenever the label changes (so a client's cache never holds a stale label). A key whose
/// label is not known yet gets it on the first frame once it is. With `every == None` the
/// label is sent only on the first frame and on changes.
#[derive(Debug, Clone)]
pub struct LabelSchedule {
    every: Option<NonZeroU32>,
    keys: HashMap<String, KeyState>,
}

impl LabelSchedule {
    /// A schedule that repeats each label every `every` frames of its key.
    pub fn new(every: Option<NonZeroU32>) -> Self {
        Self {
            every,
            keys: HashMap::new(),
        }
    }

    /// The configured period.
    pub fn every(&self) -> Option<NonZeroU32> {
        self.every
    }

    /// The items to send for `items`: keys and values as given, `lbl` where it is due.
    pub fn apply<'b>(&mut self, items: &'b [TelemetryItem<'_>]) -> Telemetry<'b> {
        let items = items
            .iter()
            .map(|item| {
                let lbl = self.label_due(item).map(Cow::Owned);
                TelemetryItem {
                    key: Cow::Borrowed(&*item.key),
                    lbl,
                    val: Cow::Borrowed(&*item.val),
                }
            })
            .collect();
        Telemetry::new(items)
    }

    /// Records one frame of `item`'s key and says which label, if any, it carries.
    fn label_due(&mut self, item: &TelemetryItem<'_>) -> Option<String> {
        let state = self.keys.entry(item.key.to_string()).or_default();
        let mut changed = false;
        if let Some(lbl) = item.lbl.as_deref()
            && state.label.as_deref() != Some(lbl)
        {
            state.label = Some(lbl.to_owned());
            changed = true;
        }
        let due = changed
            || match (state.since_sent, self.every) {
                (None, _) => true,
                (Some(n), Some(every)) => n >= every.get(),
                (Some(_), None) => false,
            };
        let mut sent = None;
        if due && let Some(label) = &state.label {
            sent = Some(label.clone());
            state.since_sent = Some(0);
        }
        if let Some(n) = state.since_sent.as_mut() {
            *n = n.saturating_add(1);
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item<'a>(key: &'a str, lbl: Option<&'a str>) -> TelemetryItem<'a> {
        TelemetryItem {
            key: key.into(),
            lbl: lbl.map(Into::into),
            val: "1".into(),
        }
    }

    fn labels_sent(schedule: &mut LabelSchedule, frames: usize, lbl: Option<&str>) -> Vec<bool> {
        (0..frames)
            .map(|_| schedule.apply(&[item("SOC", lbl)]).items[0].lbl.is_some())
            .collect()
    }

    #[test]
    fn resolve_borrows_the_same_labels_apply_owns() {
        let first = Telemetry::new(vec![item("SOC", Some("State of Charge")), item("G", None)]);
        let second = Telemetry::new(vec![item("SOC", None), item("G", Some(""))]);
        let mut owning = LabelCache::new();
        let mut borrowing = LabelCache::new();
        for telemetry in [&first, &second] {
            let owned = owning.apply(telemetry);
            let borrowed: Vec<(String, String)> = borrowing
                .resolve(telemetry)
                .map(|(label, item)| (label.to_owned(), item.key.to_string()))
                .collect();
            let expected: Vec<(String, String)> =
                owned.into_iter().map(|r| (r.label, r.key)).collect();
            assert_eq!(borrowed, expected);
        }
        assert_eq!(borrowing.get("SOC"), Some("State of Charge"));
        assert_eq!(borrowing.label_for("G"), "G");
    }

    #[test]
    fn label_on_first_frame_then_every_n() {
        let mut s = LabelSchedule::new(NonZeroU32::new(3));
        assert_eq!(
            labels_sent(&mut s, 7, Some("State of Charge")),
            [true, false, false, true, false, false, true]
        );
    }

    #[test]
    fn without_a_period_only_first_frame_and_changes() {
        let mut s = LabelSchedule::new(None);
        assert_eq!(labels_sent(&mut s, 3, Some("A")), [true, false, false]);
        let changed = [item("SOC", Some("B"))];
        let out = s.apply(&changed);
        assert_eq!(out.items[0].lbl.as_deref(), Some("B"));
        assert_eq!(labels_sent(&mut s, 2, None), [false, false]);
    }

    #[test]
    fn cached_label_is_repeated_when_the_application_omits_it() {
        let mut s = LabelSchedule::new(NonZeroU32::new(2));
        assert_eq!(labels_sent(&mut s, 1, Some("L")), [true]);
        let unlabelled = [item("SOC", None)];
        let sent: Vec<Option<String>> = (0..4)
            .map(|_| {
                s.apply(&unlabelled).items[0]
                    .lbl
                    .as_deref()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(sent, [None, Some("L".into()), None, Some("L".into())]);
    }

    #[test]
    fn unlabelled_key_gets_its_label_as_soon_as_known() {
        let mut s = LabelSchedule::new(NonZeroU32::new(5));
        assert_eq!(labels_sent(&mut s, 2, None), [false, false]);
        assert_eq!(labels_sent(&mut s, 2, Some("L")), [true, false]);
    }

    #[test]
    fn keys_are_scheduled_independently() {
        let mut s = LabelSchedule::new(NonZeroU32::new(2));
        let first = [item("A", Some("a")), item("B", Some("b"))];
        let a = s.apply(&first);
        assert!(a.items.iter().all(|i| i.lbl.is_some()));
        let second = [item("A", Some("a")), item("C", Some("c"))];
        let b = s.apply(&second);
        assert_eq!(b.items[0].lbl, None);
        assert_eq!(b.items[1].lbl.as_deref(), Some("c"));
    }

    #[test]
    fn cache_keeps_labels_and_falls_back_to_the_key() {
        let mut cache = LabelCache::new();
        let first = Telemetry::new(vec![
            item("SOC", Some("State of Charge")),
            item("X", Some("")),
        ]);
        let readings = cache.apply(&first);
        assert_eq!(readings[0].label, "State of Charge");
        assert_eq!(readings[1].label, "X", "empty label is not cached");
        let later = Telemetry::new(vec![item("SOC", None)]);
        assert_eq!(cache.apply(&later)[0].label, "State of Charge");
        assert_eq!(cache.label_for("GRID"), "GRID");
        assert_eq!(cache.len(), 1);
    }
}
