//! Seeded signal generators: the realistic, repeatable values behind every simulated metric.

use serde::Deserialize;
use serde::Serialize;

use crate::prng::Prng;

/// The shape of a simulated signal, as written in a scenario file (`kind = "..."`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignalSpec {
    /// A sine wave around `mean` with gaussian noise and a linear drift.
    Sine {
        /// Centre value.
        mean: f64,
        /// Half the peak-to-peak swing.
        amplitude: f64,
        /// Period, in samples.
        period: f64,
        /// Standard deviation of the noise.
        #[serde(default)]
        noise: f64,
        /// Drift added per sample.
        #[serde(default)]
        drift: f64,
    },
    /// A bounded random walk.
    RandomWalk {
        /// First value.
        start: f64,
        /// Standard deviation of each step.
        step: f64,
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Holds one of `levels` for `hold` samples, then jumps to another at random.
    Step {
        /// The levels to step between.
        levels: Vec<f64>,
        /// Samples per level.
        hold: u32,
    },
    /// A monotonic counter.
    Counter {
        /// First value.
        start: f64,
        /// Largest increment per sample (increments are uniform in `[0, increment]`).
        increment: f64,
    },
    /// A battery's state of charge in percent, charging and discharging between 10 and 100.
    Battery {
        /// State of charge at the first sample.
        start: f64,
        /// Percentage points per sample.
        rate: f64,
    },
    /// Grid power in watts: a daily load curve with noise and occasional spikes.
    GridPower {
        /// Base load.
        base: f64,
        /// Peak extra load.
        peak: f64,
        /// Samples per simulated day.
        day: f64,
    },
}

/// A running signal: its spec, its own random stream and its sample count.
#[derive(Debug, Clone)]
pub struct Signal {
    spec: SignalSpec,
    prng: Prng,
    n: u64,
    state: f64,
    charging: bool,
}

impl Signal {
    /// A signal following `spec`, seeded by `seed` and its `label` (device and metric), so the
    /// same seed gives the same values in every run.
    pub fn new(spec: SignalSpec, seed: u64, label: &str) -> Self {
        let state = match &spec {
            SignalSpec::RandomWalk { start, .. }
            | SignalSpec::Counter { start, .. }
            | SignalSpec::Battery { start, .. } => *start,
            SignalSpec::Step { levels, .. } => levels.first().copied().unwrap_or(0.0),
            _ => 0.0,
        };
        Self {
            spec,
            prng: Prng::derive(seed, label),
            n: 0,
            state,
            charging: false,
        }
    }

    /// The next sample. Always finite.
    pub fn next_value(&mut self) -> f64 {
        let n = self.n as f64;
        self.n += 1;
        let v = match &self.spec {
            SignalSpec::Sine {
                mean,
                amplitude,
                period,
                noise,
                drift,
            } => {
                let phase = std::f64::consts::TAU * n / period.max(1.0);
                mean + amplitude * phase.sin() + noise * self.prng.normal() + drift * n
            }
            SignalSpec::RandomWalk { step, min, max, .. } => {
                self.state = (self.state + step * self.prng.normal()).clamp(*min, *max);
                self.state
            }
            SignalSpec::Step { levels, hold } => {
                if self.n > 1
                    && (self.n - 1).is_multiple_of(u64::from((*hold).max(1)))
                    && !levels.is_empty()
                {
                    let i = self.prng.below(levels.len() as u64) as usize;
                    self.state = levels.get(i).copied().unwrap_or(self.state);
                }
                self.state
            }
            SignalSpec::Counter { increment, .. } => {
                if self.n > 1 {
                    self.state += self.prng.range_f64(0.0, *increment);
                }
                self.state
            }
            SignalSpec::Battery { rate, .. } => {
                if self.state >= 100.0 {
                    self.charging = false;
                } else if self.state <= 10.0 {
                    self.charging = true;
                }
                let jitter = 1.0 + 0.2 * self.prng.normal();
                let delta = rate * jitter.max(0.0);
                self.state =
                    (self.state + if self.charging { delta } else { -delta }).clamp(0.0, 100.0);
                self.state
            }
            SignalSpec::GridPower { base, peak, day } => {
                let hour = (n / day.max(1.0)).fract() * 24.0;
                // Morning and evening peaks.
                let curve =
                    (-(hour - 8.0).powi(2) / 4.0).exp() + (-(hour - 19.0).powi(2) / 6.0).exp();
                let spike = if self.prng.chance(0.02) {
                    peak * 0.5
                } else {
                    0.0
                };
                (base + peak * curve * 0.8 + spike + base * 0.05 * self.prng.normal()).max(0.0)
            }
        };
        if v.is_finite() { v } else { 0.0 }
    }
}

/// Rounds `v` to `decimals` places, for values as a device would report them.
pub fn round_to(v: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(i32::try_from(decimals).unwrap_or(6));
    (v * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(spec: SignalSpec, seed: u64, n: usize) -> Vec<f64> {
        let mut s = Signal::new(spec, seed, "dev/metric");
        (0..n).map(|_| s.next_value()).collect()
    }

    #[test]
    fn same_seed_same_values_other_seed_other_values() {
        let spec = SignalSpec::Sine {
            mean: 20.0,
            amplitude: 5.0,
            period: 60.0,
            noise: 0.3,
            drift: 0.001,
        };
        assert_eq!(take(spec.clone(), 9, 100), take(spec.clone(), 9, 100));
        assert_ne!(take(spec.clone(), 9, 100), take(spec, 10, 100));
    }

    #[test]
    fn bounded_signals_stay_in_bounds() {
        for v in take(
            SignalSpec::RandomWalk {
                start: 50.0,
                step: 10.0,
                min: 0.0,
                max: 100.0,
            },
            1,
            2_000,
        ) {
            assert!((0.0..=100.0).contains(&v));
        }
        for v in take(
            SignalSpec::Battery {
                start: 74.5,
                rate: 3.0,
            },
            1,
            2_000,
        ) {
            assert!((0.0..=100.0).contains(&v));
        }
        let levels = vec![1.0, 2.0, 3.0];
        for v in take(
            SignalSpec::Step {
                levels: levels.clone(),
                hold: 5,
            },
            1,
            200,
        ) {
            assert!(levels.contains(&v));
        }
        let counter = take(
            SignalSpec::Counter {
                start: 0.0,
                increment: 2.0,
            },
            1,
            200,
        );
        assert!(counter.windows(2).all(|w| w[1] >= w[0]));
        for v in take(
            SignalSpec::GridPower {
                base: 800.0,
                peak: 4000.0,
                day: 1440.0,
            },
            1,
            3_000,
        ) {
            assert!(v >= 0.0 && v.is_finite());
        }
    }

    #[test]
    fn scenario_syntax_parses() {
        let spec: SignalSpec =
            toml::from_str("kind = \"battery\"\nstart = 74.5\nrate = 0.1").unwrap();
        assert_eq!(
            spec,
            SignalSpec::Battery {
                start: 74.5,
                rate: 0.1
            }
        );
        assert!(toml::from_str::<SignalSpec>("kind = \"nope\"").is_err());
    }
}
