//! Live figures of a cluster: a background sampler per cluster (every second while the cluster
//! is active: always for the embedded one, for a remote one while someone asked about it in
//! the last minutes) takes the end offsets of user topics and every group's committed offsets,
//! and derives the produce rate (end offsets' growth), the consume rate (committed offsets'
//! growth, spread over the time between a group's commits: consumers commit every few seconds,
//! not every second), and each group's lag (kept every 5 s). Owns the history (~10 min of rates, ~1 h of
//! lag) and the broadcast of each new rate sample to `rates/live` sockets. Never serves HTTP.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::topic_partition_list::Offset;
use sluice_api::{LagSample, RateSample};
use tokio::sync::{broadcast, watch};

use crate::clusters::Cluster;
use crate::error::Result;
use crate::kafka::{ClientSet, Tp};

pub const RATE_INTERVAL: Duration = Duration::from_secs(1);
pub const LAG_INTERVAL: Duration = Duration::from_secs(5);
/// 10 minutes of one-second samples.
const RATE_HISTORY: usize = 600;
/// One hour of five-second samples.
const LAG_HISTORY: usize = 720;

/// What one sampling pass saw.
pub struct Snapshot {
    at: Instant,
    ends: HashMap<Tp, i64>,
    /// group → committed offsets
    committed: HashMap<String, HashMap<Tp, i64>>,
}

struct History {
    rates: VecDeque<RateSample>,
    lag: HashMap<String, VecDeque<LagSample>>,
    previous: Option<Snapshot>,
    last_lag_at: Option<Instant>,
    /// Per group and partition, how its committed offset last moved.
    commits: HashMap<(String, Tp), CommitTrack>,
}

/// A committed offset over time. Clients commit periodically (every 5 s by default in
/// librdkafka, the Java client and kafka-python), so between two commits the offset stands
/// still while the group consumes: the rate of the last move holds until the next one, and
/// lapses when no move comes within twice the last interval.
struct CommitTrack {
    offset: i64,
    /// When `offset` was first seen.
    since: Instant,
    /// Records per second of the last move, and how long it took.
    rate: f64,
    interval: Duration,
}

impl CommitTrack {
    fn observe(&mut self, offset: i64, at: Instant) {
        if offset == self.offset {
            return;
        }
        let dt = at.duration_since(self.since);
        if offset > self.offset && !dt.is_zero() {
            self.rate = (offset - self.offset) as f64 / dt.as_secs_f64();
            self.interval = dt;
        } else {
            // Moved back (a reset): no consumption.
            self.rate = 0.0;
            self.interval = Duration::ZERO;
        }
        self.offset = offset;
        self.since = at;
    }

    /// The consumption rate at `at`: the last move's, while the next one is not overdue.
    fn rate_at(&self, at: Instant) -> f64 {
        let overdue = self.interval * 2 + RATE_INTERVAL;
        if at.duration_since(self.since) > overdue {
            0.0
        } else {
            self.rate
        }
    }
}

/// The history of one cluster, and the feed of new rate samples.
pub struct Metrics {
    history: Mutex<History>,
    live: broadcast::Sender<RateSample>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            history: Mutex::new(History {
                rates: VecDeque::new(),
                lag: HashMap::new(),
                previous: None,
                last_lag_at: None,
                commits: HashMap::new(),
            }),
            live: broadcast::channel(64).0,
        }
    }
}

impl Metrics {
    /// Rate samples, oldest first.
    pub fn rates(&self) -> Vec<RateSample> {
        self.history.lock().rates.iter().copied().collect()
    }

    /// A group's lag samples, oldest first (empty for a group never seen).
    pub fn lag(&self, group: &str) -> Vec<LagSample> {
        self.history
            .lock()
            .lag
            .get(group)
            .map(|h| h.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<RateSample> {
        self.live.subscribe()
    }

    /// Forgets the last snapshot, so a pause does not show up as one big rate.
    fn pause(&self) {
        let mut h = self.history.lock();
        h.previous = None;
        h.commits.clear();
    }

    /// Folds a new snapshot into the history; returns the rate sample it produced.
    pub fn record(&self, snap: Snapshot, now_ms: i64) -> Option<RateSample> {
        let mut h = self.history.lock();
        let due = h
            .last_lag_at
            .is_none_or(|t| snap.at.duration_since(t) + Duration::from_millis(100) >= LAG_INTERVAL);
        if due {
            h.last_lag_at = Some(snap.at);
            for (group, committed) in &snap.committed {
                let lag = committed
                    .iter()
                    .map(|(tp, c)| (snap.ends.get(tp).copied().unwrap_or(*c) - c).max(0))
                    .sum();
                let series = h.lag.entry(group.clone()).or_default();
                series.push_back(LagSample { ts_ms: now_ms, lag });
                while series.len() > LAG_HISTORY {
                    series.pop_front();
                }
            }
            let horizon = now_ms - (LAG_HISTORY as i64) * LAG_INTERVAL.as_millis() as i64;
            h.lag
                .retain(|_, s| s.back().is_some_and(|last| last.ts_ms >= horizon));
        }
        let sample = h.previous.as_ref().and_then(|prev| {
            let secs = snap.at.duration_since(prev.at).as_secs_f64();
            if secs <= 0.0 {
                return None;
            }
            let produced: i64 = snap
                .ends
                .iter()
                .filter_map(|(tp, end)| prev.ends.get(tp).map(|p| (end - p).max(0)))
                .sum();
            Some(RateSample {
                ts_ms: now_ms,
                produce_per_sec: produced as f64 / secs,
                consume_per_sec: 0.0,
            })
        });
        // Committed offsets: follow each one's moves (groups and partitions that went away
        // are forgotten).
        let at = snap.at;
        h.commits.retain(|(g, tp), _| {
            snap.committed
                .get(g)
                .is_some_and(|offsets| offsets.contains_key(tp))
        });
        for (g, offsets) in &snap.committed {
            for (tp, c) in offsets {
                h.commits
                    .entry((g.clone(), tp.clone()))
                    .and_modify(|t| t.observe(*c, at))
                    .or_insert(CommitTrack {
                        offset: *c,
                        since: at,
                        rate: 0.0,
                        interval: Duration::ZERO,
                    });
            }
        }
        let consumed: f64 = h.commits.values().map(|t| t.rate_at(at)).sum();
        let sample = sample.map(|s| RateSample {
            consume_per_sec: consumed,
            ..s
        });
        h.previous = Some(snap);
        if let Some(s) = sample {
            h.rates.push_back(s);
            while h.rates.len() > RATE_HISTORY {
                h.rates.pop_front();
            }
        }
        drop(h);
        if let Some(s) = sample {
            let _ = self.live.send(s);
        }
        sample
    }
}

/// One sampling pass. Blocking.
fn take_snapshot(clients: &ClientSet) -> Result<Snapshot> {
    let meta = clients.metadata()?;
    let ends = clients.list_offsets(&meta.user_partitions(), Offset::End)?;
    let committed = crate::groups::committed_all(clients, &meta)?;
    Ok(Snapshot {
        at: Instant::now(),
        ends,
        committed,
    })
}

/// Samples a cluster every second while it is active, until it is removed or the workbench
/// stops.
pub fn spawn_sampler(
    cluster: Weak<Cluster>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RATE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            let Some(cluster) = cluster.upgrade() else {
                return;
            };
            if !cluster.is_active() {
                cluster.metrics.pause();
                continue;
            }
            let Some(clients) = cluster.clients_for_sampling() else {
                continue;
            };
            let metrics = Arc::clone(&cluster.metrics);
            drop(cluster);
            let result = tokio::task::spawn_blocking(move || {
                for idle in clients.take_idle_group_consumers() {
                    drop(idle);
                }
                take_snapshot(&clients)
            })
            .await;
            match result {
                Ok(Ok(snap)) => {
                    metrics.record(snap, sluice_log::now_ms());
                }
                Ok(Err(e)) => {
                    tracing::debug!("rate sample failed: {e}");
                    metrics.pause();
                }
                Err(e) => tracing::warn!("rate sampler task failed: {e}"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(at: Instant, end: i64, committed: i64) -> Snapshot {
        let tp = ("t".to_string(), 0);
        Snapshot {
            at,
            ends: HashMap::from([(tp.clone(), end)]),
            committed: HashMap::from([("g".to_string(), HashMap::from([(tp, committed)]))]),
        }
    }

    #[test]
    fn rates_come_from_growth_and_lag_from_the_gap() {
        let m = Metrics::default();
        let t0 = Instant::now();
        assert!(m.record(snap(t0, 100, 40), 1_000).is_none());
        let s = m
            .record(snap(t0 + Duration::from_secs(2), 120, 50), 3_000)
            .unwrap();
        assert_eq!(s.produce_per_sec, 10.0);
        assert_eq!(s.consume_per_sec, 5.0);
        // An offset moved backwards (a reset) counts as no consumption, not negative.
        let s = m
            .record(snap(t0 + Duration::from_secs(3), 120, 0), 4_000)
            .unwrap();
        assert_eq!(s.consume_per_sec, 0.0);
        assert_eq!(m.rates().len(), 2);
        // Lag is kept every 5 s: the first snapshot only (the others came sooner).
        assert_eq!(
            m.lag("g"),
            vec![LagSample {
                ts_ms: 1_000,
                lag: 60
            }]
        );
        m.record(snap(t0 + Duration::from_secs(6), 130, 0), 7_000);
        assert_eq!(m.lag("g").last().unwrap().lag, 130);
        assert!(m.lag("other").is_empty());
    }

    #[test]
    fn periodic_commits_make_a_steady_consume_rate() {
        // A consumer reading 10 records a second and committing every 5 s (the clients'
        // default), sampled every second.
        let m = Metrics::default();
        let t0 = Instant::now();
        let mut rates = Vec::new();
        for second in 0..=20u64 {
            let committed = (second / 5 * 50) as i64;
            let at = t0 + Duration::from_secs(second);
            if let Some(s) = m.record(snap(at, 1_000, committed), second as i64 * 1000) {
                rates.push(s.consume_per_sec);
            }
        }
        // Nothing is known before the first move (at 5 s); from then on, 10 a second.
        assert!(rates[..4].iter().all(|r| *r == 0.0), "{rates:?}");
        assert!(rates[4..].iter().all(|r| *r == 10.0), "{rates:?}");
        // The consumer stops: the rate lapses once the next commit is overdue (2 x 5 s).
        let mut after = Vec::new();
        for second in 21..=32u64 {
            let at = t0 + Duration::from_secs(second);
            if let Some(s) = m.record(snap(at, 1_000, 200), second as i64 * 1000) {
                after.push(s.consume_per_sec);
            }
        }
        assert_eq!(after.first(), Some(&10.0), "{after:?}");
        assert_eq!(after.last(), Some(&0.0), "{after:?}");
        // A pause forgets the moves: no stale rate after it.
        m.pause();
        assert!(m
            .record(snap(t0 + Duration::from_secs(40), 1_000, 300), 40_000)
            .is_none());
        let s = m
            .record(snap(t0 + Duration::from_secs(41), 1_000, 300), 41_000)
            .unwrap();
        assert_eq!(s.consume_per_sec, 0.0);
    }
}
