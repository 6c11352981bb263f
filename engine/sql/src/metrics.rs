//! Per-query throughput: what a persistent query consumed (records read from its sources),
//! failed on (records skipped: undecodable, or an expression that failed) and produced (rows
//! written to its sink), as totals, rates over a sliding window of the last few seconds and
//! the time of the last one; and ksqlDB's text forms of them (the `statistics` and
//! `errorStats` strings of `DESCRIBE EXTENDED`). Counts live processing only: rebuilding
//! state on start is not throughput. No I/O.

use std::collections::VecDeque;

/// The sliding window a rate is computed over.
pub const WINDOW_MS: i64 = 5_000;
/// The window's granularity.
const BUCKET_MS: i64 = 250;

/// One counter: total, bytes, the last event's time, and per-bucket counts of the window.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    pub total: u64,
    pub bytes: u64,
    /// Wall-clock ms of the last event (0: none yet).
    pub last: i64,
    buckets: VecDeque<(i64, u64)>,
}

impl Meter {
    pub fn record(&mut self, now: i64, n: u64, bytes: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        self.bytes += bytes;
        self.last = now;
        let b = now - now.rem_euclid(BUCKET_MS);
        match self.buckets.back_mut() {
            Some((t, c)) if *t == b => *c += n,
            _ => self.buckets.push_back((b, n)),
        }
        self.prune(now);
    }

    fn prune(&mut self, now: i64) {
        while self
            .buckets
            .front()
            .is_some_and(|(t, _)| t + BUCKET_MS <= now - WINDOW_MS)
        {
            self.buckets.pop_front();
        }
    }

    /// Events per second over the last [`WINDOW_MS`] (or since `since`, when that is later).
    pub fn rate(&self, now: i64, since: i64) -> f64 {
        let from = now - WINDOW_MS;
        let n: u64 = self
            .buckets
            .iter()
            .filter(|(t, _)| t + BUCKET_MS > from)
            .map(|(_, c)| c)
            .sum();
        let span = (now - since.max(from)).clamp(BUCKET_MS, WINDOW_MS);
        n as f64 * 1000.0 / span as f64
    }
}

/// A persistent query's meters.
#[derive(Debug, Clone)]
pub struct QueryMetrics {
    /// When the query started running live (ms).
    pub started: i64,
    pub consumed: Meter,
    pub failed: Meter,
    pub produced: Meter,
}

impl QueryMetrics {
    pub fn new(now: i64) -> Self {
        QueryMetrics {
            started: now,
            consumed: Meter::default(),
            failed: Meter::default(),
            produced: Meter::default(),
        }
    }

    pub fn snapshot(&self, now: i64) -> QueryStats {
        QueryStats {
            consumed_rate: self.consumed.rate(now, self.started),
            consumed_total: self.consumed.total,
            consumed_bytes: self.consumed.bytes,
            produced_rate: self.produced.rate(now, self.started),
            produced_total: self.produced.total,
            failed_rate: self.failed.rate(now, self.started),
            failed_total: self.failed.total,
            last_message: self.consumed.last.max(self.produced.last),
            consumed_last: self.consumed.last,
            produced_last: self.produced.last,
            last_failed: self.failed.last,
        }
    }
}

/// A point-in-time view of [`QueryMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueryStats {
    pub consumed_rate: f64,
    pub consumed_total: u64,
    pub consumed_bytes: u64,
    pub produced_rate: f64,
    pub produced_total: u64,
    pub failed_rate: f64,
    pub failed_total: u64,
    pub last_message: i64,
    pub consumed_last: i64,
    pub produced_last: i64,
    pub last_failed: i64,
}

impl QueryStats {
    pub fn consumed_last(&self) -> i64 {
        self.consumed_last
    }
    pub fn produced_last(&self) -> i64 {
        self.produced_last
    }
    /// The sum of several queries' stats (a topic read or written by more than one query).
    pub fn add(&mut self, o: &QueryStats) {
        self.consumed_rate += o.consumed_rate;
        self.consumed_total += o.consumed_total;
        self.consumed_bytes += o.consumed_bytes;
        self.produced_rate += o.produced_rate;
        self.produced_total += o.produced_total;
        self.failed_rate += o.failed_rate;
        self.failed_total += o.failed_total;
        self.last_message = self.last_message.max(o.last_message);
        self.consumed_last = self.consumed_last.max(o.consumed_last);
        self.produced_last = self.produced_last.max(o.produced_last);
        self.last_failed = self.last_failed.max(o.last_failed);
    }
}

/// One ksqlDB stat: `%16s:%10.0f` when the value is whole, else `%10.2f`.
fn stat(name: &str, v: f64) -> String {
    if v == v.round() {
        format!("{name:>16}:{v:>10.0}")
    } else {
        format!("{name:>16}:{v:>10.2}")
    }
}

/// ksqlDB's `MetricCollectors.format`: each stat followed by a space, then the last event's
/// time (`%16s: %9s`, ISO-8601 UTC or `n/a`).
pub fn format_stats(stats: &[(&str, f64)], last_label: &str, last: i64) -> String {
    if stats.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for (n, v) in stats {
        out.push_str(&stat(n, *v));
        out.push(' ');
    }
    let when = if last == 0 {
        "n/a".to_string()
    } else {
        iso_utc(last)
    };
    out.push_str(&format!("{last_label:>16}: {when:>9}"));
    out
}

/// The consumer stats (records a query read), as in `DESCRIBE EXTENDED` of its source.
pub fn consumer_stats(s: &QueryStats) -> Vec<(&'static str, f64)> {
    vec![
        ("consumer-messages-per-sec", s.consumed_rate),
        ("consumer-total-messages", s.consumed_total as f64),
        ("consumer-total-bytes", s.consumed_bytes as f64),
    ]
}

/// The producer stats (rows a query wrote), as in `DESCRIBE EXTENDED` of its sink.
pub fn producer_stats(s: &QueryStats) -> Vec<(&'static str, f64)> {
    vec![
        ("messages-per-sec", s.produced_rate),
        ("total-messages", s.produced_total as f64),
    ]
}

/// The error stats: empty until something failed, as ksqlDB creates these sensors on the
/// first failure.
pub fn error_stats(s: &QueryStats) -> String {
    if s.failed_total == 0 {
        return String::new();
    }
    format_stats(
        &[
            ("consumer-failed-messages", s.failed_total as f64),
            ("consumer-failed-messages-per-sec", s.failed_rate),
        ],
        "last-failed",
        s.last_failed,
    )
}

/// Epoch milliseconds as Java's `ISO_OFFSET_DATE_TIME` in UTC: `2026-11-27T08:37:30.12Z`
/// (fraction without trailing zeros, none when whole seconds).
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    );
    if frac != 0 {
        let f = format!("{frac:03}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_cover_the_last_seconds_only() {
        let mut m = Meter::default();
        let t0 = 1_000_000;
        for i in 0..10 {
            m.record(t0 + i * 100, 10, 100);
        }
        // 100 records in the first second of the query: 100/s.
        assert!((m.rate(t0 + 1000, t0) - 100.0).abs() < 1e-9);
        // Spread over a full window once the query has run longer.
        assert!((m.rate(t0 + 4_000, t0 - 10_000) - 20.0).abs() < 1e-9);
        // Nothing new for longer than the window: 0, totals kept.
        assert_eq!(m.rate(t0 + 20_000, t0), 0.0);
        assert_eq!((m.total, m.bytes, m.last), (100, 1000, t0 + 900));
    }

    #[test]
    fn stats_are_formatted_as_ksqldb_does() {
        let s = format_stats(
            &[
                ("consumer-messages-per-sec", 12.345),
                ("consumer-total-messages", 400.0),
            ],
            "last-message",
            1_795_768_650_120,
        );
        assert_eq!(
            s,
            "consumer-messages-per-sec:     12.35 consumer-total-messages:       400     last-message: 2026-11-27T08:37:30.12Z"
        );
        assert_eq!(
            format_stats(&[("total-messages", 0.0)], "last-message", 0),
            "  total-messages:         0     last-message:       n/a"
        );
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400_001), "2000-02-29T00:00:00.001Z");
    }
}
