//! Window assignment: the TUMBLING or HOPPING windows `[start, end)` a timestamp falls in
//! (starts aligned to the epoch, as Kafka Streams aligns them); grace and retention of every
//! window kind. SESSION windows are not assigned here: they depend on the group's sessions, so
//! the aggregate finds and merges them (a session is `[first, last]` record time, both ends
//! inclusive, as Kafka Streams' `SessionWindow`).
//!
//! Defaults are those of the Kafka Streams API ksqlDB calls (`TimeWindows.of(size)`,
//! `SessionWindows.with(gap)`, deprecated since 3.0 but kept for their behaviour): grace is
//! 24 hours minus the window size (or gap), never below 0; the store's retention, unless the
//! query sets RETENTION, is size (gap) + grace.

use crate::ast::{WindowExpr, WindowKind};
use crate::error::SqlError;

/// Kafka Streams' default grace period is this minus the window size (or session gap).
pub const DEFAULT_GRACE_MS: i64 = 24 * 3_600_000;

/// The windows of `ts`, oldest first.
pub fn assign(window: &WindowExpr, ts: i64) -> Result<Vec<(i64, i64)>, SqlError> {
    match window.kind {
        WindowKind::Tumbling { size } => {
            let size = size.millis().max(1) as i64;
            let start = ts - ts.rem_euclid(size);
            Ok(vec![(start, start.saturating_add(size))])
        }
        WindowKind::Hopping { size, advance } => {
            let size = size.millis().max(1) as i64;
            let advance = advance.millis().max(1) as i64;
            if advance > size {
                return Err(SqlError::statement(
                    "Window advance must be less than or equal to window size",
                ));
            }
            let last = ts - ts.rem_euclid(advance);
            let mut out = Vec::new();
            let mut start = last;
            while start > ts - size {
                if start >= 0 {
                    out.push((start, start + size));
                }
                start -= advance;
            }
            out.reverse();
            Ok(out)
        }
        WindowKind::Session { .. } => Err(SqlError::statement(
            "SESSION windows are assigned by the aggregate",
        )),
    }
}

fn ms(d: crate::ast::Duration) -> i64 {
    i64::try_from(d.millis()).unwrap_or(i64::MAX)
}

/// The window size, or the inactivity gap of a SESSION window.
pub fn size_ms(window: &WindowExpr) -> i64 {
    match window.kind {
        WindowKind::Tumbling { size } | WindowKind::Hopping { size, .. } => ms(size),
        WindowKind::Session { gap } => ms(gap),
    }
}

/// The session inactivity gap, for SESSION windows.
pub fn session_gap_ms(window: &WindowExpr) -> Option<i64> {
    match window.kind {
        WindowKind::Session { gap } => Some(ms(gap)),
        _ => None,
    }
}

/// GRACE PERIOD, or Kafka Streams' default: 24 hours minus the size (gap), at least 0.
pub fn grace_ms(window: &WindowExpr) -> i64 {
    window.grace.map_or_else(
        || DEFAULT_GRACE_MS.saturating_sub(size_ms(window)).max(0),
        ms,
    )
}

/// How long windowed state is kept behind stream time: RETENTION, or size (gap) + grace.
pub fn retention_ms(window: &WindowExpr) -> i64 {
    window
        .retention
        .map_or_else(|| size_ms(window).saturating_add(grace_ms(window)), ms)
}

/// Kafka Streams' check when the store is built (ksqlDB names the store
/// `Aggregate-Aggregate-Materialize`): a RETENTION below size + grace is refused.
pub fn check_retention(window: &WindowExpr) -> Result<(), SqlError> {
    let (size, grace, retention) = (size_ms(window), grace_ms(window), retention_ms(window));
    if size.saturating_add(grace) <= retention {
        return Ok(());
    }
    const STORE: &str = "Aggregate-Aggregate-Materialize";
    Err(SqlError::statement(match window.kind {
        WindowKind::Session { .. } => format!(
            "The retention period of the session store {STORE} must be no smaller than the session inactivity gap plus the grace period. Got gap=[{size}], grace=[{grace}], retention=[{retention}]"
        ),
        _ => format!(
            "The retention period of the window store {STORE} must be no smaller than its window size plus the grace period. Got size=[{size}], grace=[{grace}], retention=[{retention}]"
        ),
    }))
}

/// The stream time at which windowed state ages out of the store: a time window's start, a
/// session's end, plus the retention (Kafka Streams' window store is keyed by start, its
/// session store by end; state `retention` or more behind stream time is gone).
pub fn expiry(window: &WindowExpr, bounds: (i64, i64)) -> i64 {
    let at = match window.kind {
        WindowKind::Session { .. } => bounds.1,
        _ => bounds.0,
    };
    at.saturating_add(retention_ms(window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Duration, TimeUnit};

    fn d(value: u64, unit: TimeUnit) -> Duration {
        Duration { value, unit }
    }

    #[test]
    fn tumbling_and_hopping_windows() {
        let hour = WindowExpr {
            kind: WindowKind::Tumbling {
                size: d(1, TimeUnit::Hours),
            },
            retention: None,
            grace: None,
        };
        assert_eq!(
            assign(&hour, 3_600_000 + 5).unwrap(),
            vec![(3_600_000, 7_200_000)]
        );
        let hop = WindowExpr {
            kind: WindowKind::Hopping {
                size: d(10, TimeUnit::Seconds),
                advance: d(5, TimeUnit::Seconds),
            },
            retention: None,
            grace: None,
        };
        assert_eq!(
            assign(&hop, 12_000).unwrap(),
            vec![(5_000, 15_000), (10_000, 20_000)]
        );
        assert_eq!(assign(&hop, 1_000).unwrap(), vec![(0, 10_000)]);
    }
}
