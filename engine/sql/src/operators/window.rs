//! Window assignment: the TUMBLING or HOPPING windows `[start, end)` a timestamp falls in
//! (starts aligned to the epoch, as Kafka Streams aligns them), and grace (ksqlDB's default
//! is 24 hours). SESSION windows are not assigned here (not supported yet).

use crate::ast::{WindowExpr, WindowKind};
use crate::error::SqlError;

/// Kafka Streams' default grace period when the query sets none (ksqlDB 0.x).
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
        WindowKind::Session { .. } => {
            Err(SqlError::statement("SESSION windows are not supported yet"))
        }
    }
}

pub fn grace_ms(window: &WindowExpr) -> i64 {
    window.grace.map_or(DEFAULT_GRACE_MS, |g| g.millis() as i64)
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
