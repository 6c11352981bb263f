//! Idempotent-producer state of one partition: per producer id, its epoch and the last few
//! batches' sequence ranges, so retries are recognised as duplicates and gaps rejected, as
//! Kafka does. Rebuilt from the log on open (snapshot + replay). Never does I/O.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::batch::BatchHeader;
use crate::error::{LogError, Result};

/// How many recent batches per producer are remembered for duplicate detection (Kafka: 5,
/// matching max.in.flight.requests.per.connection).
pub const CACHED_BATCHES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMeta {
    pub first_seq: i32,
    pub last_seq: i32,
    pub base_offset: i64,
    pub last_offset: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerEntry {
    pub epoch: i16,
    pub batches: VecDeque<BatchMeta>,
}

/// The verdict on an incoming batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Append it.
    Accept,
    /// Already in the log: answer with its original offsets, write nothing.
    Duplicate { base_offset: i64, last_offset: i64 },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerStateTable {
    pub producers: HashMap<i64, ProducerEntry>,
}

fn next_seq(seq: i32) -> i32 {
    if seq == i32::MAX {
        0
    } else {
        seq + 1
    }
}

impl ProducerStateTable {
    /// Checks a batch against the producer's state without changing it.
    pub fn check(&self, h: &BatchHeader) -> Result<SequenceCheck> {
        if !h.has_producer_id() || h.base_sequence < 0 {
            return Ok(SequenceCheck::Accept);
        }
        let Some(entry) = self.producers.get(&h.producer_id) else {
            return Ok(SequenceCheck::Accept);
        };
        if h.producer_epoch < entry.epoch {
            return Err(LogError::ProducerFenced {
                producer_id: h.producer_id,
                current: entry.epoch,
                got: h.producer_epoch,
            });
        }
        if h.producer_epoch > entry.epoch {
            // A bumped epoch starts its sequences again at 0.
            if h.base_sequence != 0 {
                return Err(LogError::OutOfOrderSequence {
                    producer_id: h.producer_id,
                    expected: 0,
                    got: h.base_sequence,
                });
            }
            return Ok(SequenceCheck::Accept);
        }
        if let Some(b) = entry
            .batches
            .iter()
            .find(|b| b.first_seq == h.base_sequence && b.last_seq == h.last_sequence())
        {
            return Ok(SequenceCheck::Duplicate {
                base_offset: b.base_offset,
                last_offset: b.last_offset,
            });
        }
        let expected = entry
            .batches
            .back()
            .map(|b| next_seq(b.last_seq))
            .unwrap_or(0);
        if h.base_sequence != expected {
            return Err(LogError::OutOfOrderSequence {
                producer_id: h.producer_id,
                expected,
                got: h.base_sequence,
            });
        }
        Ok(SequenceCheck::Accept)
    }

    /// Records an appended batch (offsets assigned).
    pub fn record(&mut self, h: &BatchHeader) {
        if !h.has_producer_id() || h.base_sequence < 0 {
            return;
        }
        let entry = self.producers.entry(h.producer_id).or_default();
        // Recovery replays the log from the recovery point over a snapshot that may already
        // hold some of those batches: what the entry already covers is not recorded again.
        if let Some(last) = entry.batches.back() {
            if h.producer_epoch < entry.epoch
                || (h.producer_epoch == entry.epoch && h.last_offset() <= last.last_offset)
            {
                return;
            }
        }
        if h.producer_epoch != entry.epoch {
            entry.epoch = h.producer_epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(BatchMeta {
            first_seq: h.base_sequence,
            last_seq: h.last_sequence(),
            base_offset: h.base_offset,
            last_offset: h.last_offset(),
        });
        while entry.batches.len() > CACHED_BATCHES {
            entry.batches.pop_front();
        }
    }
}

impl ProducerStateTable {
    /// Forgets batches at or past `end` (the log end after recovery cut a torn tail), so a
    /// retry of a lost batch is written again instead of answered as a duplicate.
    pub fn truncate_to(&mut self, end: i64) {
        for entry in self.producers.values_mut() {
            entry.batches.retain(|b| b.last_offset < end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(pid: i64, epoch: i16, seq: i32, n: i32, offset: i64) -> BatchHeader {
        BatchHeader {
            base_offset: offset,
            batch_length: 100,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta: n - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            record_count: n,
        }
    }

    #[test]
    fn duplicates_gaps_and_fencing() {
        let mut t = ProducerStateTable::default();
        let b0 = header(1, 0, 0, 3, 10);
        assert_eq!(t.check(&b0).unwrap(), SequenceCheck::Accept);
        t.record(&b0);
        assert_eq!(
            t.check(&header(1, 0, 0, 3, 99)).unwrap(),
            SequenceCheck::Duplicate {
                base_offset: 10,
                last_offset: 12
            }
        );
        assert!(matches!(
            t.check(&header(1, 0, 5, 1, 99)),
            Err(LogError::OutOfOrderSequence { expected: 3, .. })
        ));
        assert_eq!(
            t.check(&header(1, 0, 3, 1, 13)).unwrap(),
            SequenceCheck::Accept
        );
        assert_eq!(
            t.check(&header(1, 1, 0, 1, 13)).unwrap(),
            SequenceCheck::Accept
        );
        t.record(&header(1, 1, 0, 1, 13));
        assert!(matches!(
            t.check(&header(1, 0, 3, 1, 14)),
            Err(LogError::ProducerFenced { .. })
        ));
    }

    #[test]
    fn replay_over_a_newer_snapshot_keeps_the_newest_sequence() {
        let mut t = ProducerStateTable::default();
        let b0 = header(7, 0, 0, 3, 0);
        let b1 = header(7, 0, 3, 3, 3);
        t.record(&b0);
        t.record(&b1);
        // Recovery replays both again, in log order.
        t.record(&b0);
        t.record(&b1);
        assert_eq!(
            t.check(&header(7, 0, 6, 1, 0)).unwrap(),
            SequenceCheck::Accept
        );
        // A torn tail took b1: its retry must be written again, not called a duplicate.
        t.truncate_to(3);
        assert_eq!(
            t.check(&header(7, 0, 3, 3, 0)).unwrap(),
            SequenceCheck::Accept
        );
    }
}
