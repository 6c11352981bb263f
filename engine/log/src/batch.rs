//! Kafka record batch (magic v2) headers: parsing, CRC-32C validation, offset assignment.
//! Batches are kept byte-for-byte as the client sent them (any compression codec); only the
//! broker-owned fields (base offset, partition leader epoch) are rewritten, which lie outside
//! the CRC. This module never does I/O.

use crate::error::{LogError, Result};

/// Size of the fixed v2 batch header, up to and including the record count.
pub const HEADER_LEN: usize = 61;
/// Bytes before the `batchLength` field's coverage starts (baseOffset + batchLength).
pub const LOG_OVERHEAD: usize = 12;

const OFF_BATCH_LEN: usize = 8;
const OFF_LEADER_EPOCH: usize = 12;
const OFF_MAGIC: usize = 16;
const OFF_CRC: usize = 17;
const OFF_ATTRIBUTES: usize = 21;
const OFF_LAST_OFFSET_DELTA: usize = 23;
const OFF_BASE_TS: usize = 27;
const OFF_MAX_TS: usize = 35;
const OFF_PRODUCER_ID: usize = 43;
const OFF_PRODUCER_EPOCH: usize = 51;
const OFF_BASE_SEQ: usize = 53;
const OFF_RECORD_COUNT: usize = 57;

/// Attribute bit: the timestamps are log-append time.
pub const ATTR_LOG_APPEND_TIME: i16 = 0x08;
/// Attribute bit: transactional batch.
pub const ATTR_TRANSACTIONAL: i16 = 0x10;
/// Attribute bit: control batch.
pub const ATTR_CONTROL: i16 = 0x20;

/// The decoded fixed header of one record batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    /// Length of the batch after the `batchLength` field.
    pub batch_length: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}
fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn be_i64(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl BatchHeader {
    /// Parses the header at the start of `buf`. Needs at least [`HEADER_LEN`] bytes for a v2
    /// batch; checks the magic byte and that the declared length is sane.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader> {
        if buf.len() < OFF_MAGIC + 1 {
            return Err(LogError::CorruptBatch("truncated batch header"));
        }
        let magic = buf[OFF_MAGIC] as i8;
        if magic != 2 {
            return Err(LogError::UnsupportedMagic(magic));
        }
        if buf.len() < HEADER_LEN {
            return Err(LogError::CorruptBatch("truncated batch header"));
        }
        let batch_length = be_i32(buf, OFF_BATCH_LEN);
        if (batch_length as i64) < (HEADER_LEN - LOG_OVERHEAD) as i64 {
            return Err(LogError::CorruptBatch(
                "batch length smaller than its header",
            ));
        }
        let h = BatchHeader {
            base_offset: be_i64(buf, 0),
            batch_length,
            magic,
            crc: be_i32(buf, OFF_CRC) as u32,
            attributes: be_i16(buf, OFF_ATTRIBUTES),
            last_offset_delta: be_i32(buf, OFF_LAST_OFFSET_DELTA),
            base_timestamp: be_i64(buf, OFF_BASE_TS),
            max_timestamp: be_i64(buf, OFF_MAX_TS),
            producer_id: be_i64(buf, OFF_PRODUCER_ID),
            producer_epoch: be_i16(buf, OFF_PRODUCER_EPOCH),
            base_sequence: be_i32(buf, OFF_BASE_SEQ),
            record_count: be_i32(buf, OFF_RECORD_COUNT),
        };
        if h.last_offset_delta < 0 || h.record_count < 0 {
            return Err(LogError::CorruptBatch(
                "negative record count or offset delta",
            ));
        }
        Ok(h)
    }

    /// Total size of the batch on the wire / on disk.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length as usize
    }

    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }

    /// The sequence number of the last record (wrapping as Kafka does).
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return -1;
        }
        let last = self.base_sequence as i64 + self.last_offset_delta as i64;
        (last % (i32::MAX as i64 + 1)) as i32
    }

    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    pub fn compression(&self) -> i16 {
        self.attributes & 0x07
    }

    pub fn has_producer_id(&self) -> bool {
        self.producer_id >= 0
    }
}

/// Computes the CRC-32C of a batch (attributes to the end) as Kafka defines it.
pub fn batch_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[OFF_ATTRIBUTES..])
}

/// Checks a whole batch: header, length and CRC.
pub fn validate(batch: &[u8]) -> Result<BatchHeader> {
    let h = BatchHeader::parse(batch)?;
    if batch.len() != h.total_len() {
        return Err(LogError::CorruptBatch(
            "batch length does not match its bytes",
        ));
    }
    if batch_crc(batch) != h.crc {
        return Err(LogError::CorruptBatch("CRC mismatch"));
    }
    Ok(h)
}

/// The smallest encoding of one v2 record: length, attributes, timestamp delta, offset delta,
/// key length, value length and header count, one byte each.
const MIN_RECORD_LEN: usize = 7;
/// A compressed batch declaring more records than this many per compressed payload byte is
/// decompressed and counted before it is accepted (real batches are far below it).
const SUSPICIOUS_RECORDS_PER_BYTE: usize = 16;

/// Checks what a producer's batch claims about its records before the broker assigns offsets
/// to them: the offset delta must cover exactly the record count (as every client writes it),
/// and the count must fit in the batch's bytes. A compressed batch whose count is implausible
/// for its size is decompressed and its records counted. Without this a 70-byte batch with a
/// valid CRC could claim 2^31 records and take that many offsets.
pub fn check_produced(batch: &[u8], h: &BatchHeader) -> Result<()> {
    if h.record_count < 1 {
        return Err(LogError::InvalidBatch("empty record batch"));
    }
    if h.last_offset_delta != h.record_count - 1 {
        return Err(LogError::InvalidBatch(
            "last offset delta does not match the record count",
        ));
    }
    let payload = batch.len().saturating_sub(HEADER_LEN);
    let count = h.record_count as usize;
    if h.compression() == 0 {
        if count.saturating_mul(MIN_RECORD_LEN) > payload {
            return Err(LogError::InvalidBatch(
                "record count does not fit in the batch",
            ));
        }
    } else if count > payload.saturating_mul(SUSPICIOUS_RECORDS_PER_BYTE) {
        let mut buf = bytes::Bytes::copy_from_slice(batch);
        let records = kafka_protocol::records::RecordBatchDecoder::decode(&mut buf)
            .map_err(|_| LogError::InvalidBatch("compressed records do not decode"))?;
        if records.records.len() != count {
            return Err(LogError::InvalidBatch(
                "record count does not match the compressed records",
            ));
        }
    }
    Ok(())
}

/// Splits a buffer holding one or more whole batches into `(start, header)` pairs, validating
/// each one's CRC. Fails if the buffer does not end on a batch boundary.
pub fn split_batches(buf: &[u8]) -> Result<Vec<(usize, BatchHeader)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let rest = &buf[pos..];
        let h = BatchHeader::parse(rest)?;
        let len = h.total_len();
        if len > rest.len() {
            return Err(LogError::CorruptBatch(
                "batch extends past the end of the records",
            ));
        }
        validate(&rest[..len])?;
        out.push((pos, h));
        pos += len;
    }
    Ok(out)
}

/// Rewrites the broker-owned fields of a batch in place: base offset and leader epoch.
pub fn assign_offset(batch: &mut [u8], base_offset: i64, leader_epoch: i32) {
    batch[0..8].copy_from_slice(&base_offset.to_be_bytes());
    batch[OFF_LEADER_EPOCH..OFF_LEADER_EPOCH + 4].copy_from_slice(&leader_epoch.to_be_bytes());
}

/// Encodes records into v2 batches with the protocol crate's encoder. Records without a
/// producer id are kept in one batch (the encoder groups by sequence, so they are given
/// offset-derived sequences for encoding and their base sequence is reset to -1 after).
pub fn encode_records(
    out: &mut bytes::BytesMut,
    records: &mut [kafka_protocol::records::Record],
    compression: kafka_protocol::records::Compression,
) -> Result<()> {
    let start = out.len();
    for r in records.iter_mut().filter(|r| r.producer_id < 0) {
        r.sequence = r.offset as i32;
    }
    kafka_protocol::records::RecordBatchEncoder::encode(
        out,
        records.iter(),
        &kafka_protocol::records::RecordEncodeOptions {
            version: 2,
            compression,
        },
    )
    .map_err(|_| LogError::CorruptBatch("record batch encoding failed"))?;
    let mut pos = start;
    while pos < out.len() {
        let h = BatchHeader::parse(&out[pos..])?;
        let len = h.total_len();
        if h.producer_id < 0 {
            let b = &mut out[pos..pos + len];
            b[OFF_BASE_SEQ..OFF_BASE_SEQ + 4].copy_from_slice(&(-1i32).to_be_bytes());
            let crc = batch_crc(b);
            b[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
        }
        pos += len;
    }
    Ok(())
}

/// Sets log-append time on a batch (for `message.timestamp.type=LogAppendTime`) and fixes its CRC.
pub fn set_log_append_time(batch: &mut [u8], now_ms: i64) {
    let attrs = be_i16(batch, OFF_ATTRIBUTES) | ATTR_LOG_APPEND_TIME;
    batch[OFF_ATTRIBUTES..OFF_ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
    batch[OFF_MAX_TS..OFF_MAX_TS + 8].copy_from_slice(&now_ms.to_be_bytes());
    let crc = batch_crc(batch);
    batch[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::records::{Compression, Record, TimestampType};

    /// Builds a real v2 batch with the protocol crate's encoder (as a client would).
    pub fn make_batch(
        n: usize,
        ts: i64,
        key: Option<&str>,
        producer: Option<(i64, i16, i32)>,
        compression: Compression,
    ) -> Vec<u8> {
        let (pid, epoch, seq) = producer.unwrap_or((-1, -1, -1));
        let mut records: Vec<Record> = (0..n)
            .map(|i| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: pid,
                producer_epoch: epoch,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                sequence: if seq >= 0 { seq + i as i32 } else { -1 },
                timestamp: ts + i as i64,
                key: key.map(|k| bytes::Bytes::from(k.to_string())),
                value: Some(bytes::Bytes::from(format!("value-{i}"))),
                headers: Default::default(),
            })
            .collect();
        let mut buf = BytesMut::new();
        encode_records(&mut buf, &mut records, compression).unwrap();
        assert_eq!(BatchHeader::parse(&buf).unwrap().record_count as usize, n);
        buf.to_vec()
    }

    #[test]
    fn parses_and_validates_encoder_output() {
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let b = make_batch(5, 1000, Some("k"), Some((7, 0, 10)), c);
            let h = validate(&b).unwrap();
            assert_eq!(h.record_count, 5);
            assert_eq!(h.last_offset_delta, 4);
            assert_eq!(h.producer_id, 7);
            assert_eq!(h.base_sequence, 10);
            assert_eq!(h.last_sequence(), 14);
            assert_eq!(h.compression(), c as i16);
        }
    }

    #[test]
    fn detects_corruption_and_truncation() {
        let mut b = make_batch(3, 0, None, None, Compression::None);
        assert!(validate(&b[..b.len() - 1]).is_err());
        let last = b.len() - 1;
        b[last] ^= 0xff;
        assert!(matches!(
            validate(&b),
            Err(LogError::CorruptBatch("CRC mismatch"))
        ));
        b[16] = 1;
        assert!(matches!(validate(&b), Err(LogError::UnsupportedMagic(1))));
    }

    /// Rewrites the record count and offset delta a batch claims, with a valid CRC.
    fn claim_records(b: &mut [u8], count: i32, delta: i32) {
        b[OFF_RECORD_COUNT..OFF_RECORD_COUNT + 4].copy_from_slice(&count.to_be_bytes());
        b[OFF_LAST_OFFSET_DELTA..OFF_LAST_OFFSET_DELTA + 4].copy_from_slice(&delta.to_be_bytes());
        let crc = batch_crc(b);
        b[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
    }

    #[test]
    fn produced_batches_cannot_claim_more_records_than_they_hold() {
        for compression in [Compression::None, Compression::Zstd, Compression::Gzip] {
            let b = make_batch(3, 0, None, None, compression);
            let h = validate(&b).unwrap();
            check_produced(&b, &h).unwrap();

            let mut liar = b.clone();
            claim_records(&mut liar, i32::MAX, i32::MAX - 1);
            let h = validate(&liar).unwrap();
            assert!(check_produced(&liar, &h).is_err(), "{compression:?}");

            let mut skewed = b.clone();
            claim_records(&mut skewed, 3, 1_000_000);
            let h = validate(&skewed).unwrap();
            assert!(check_produced(&skewed, &h).is_err(), "{compression:?}");
        }
    }

    #[test]
    fn offset_assignment_keeps_crc_valid() {
        let mut b = make_batch(3, 0, None, None, Compression::Lz4);
        assign_offset(&mut b, 1234, 0);
        let h = validate(&b).unwrap();
        assert_eq!(h.base_offset, 1234);
        assert_eq!(h.last_offset(), 1236);
        set_log_append_time(&mut b, 99);
        let h = validate(&b).unwrap();
        assert_eq!(h.max_timestamp, 99);
        assert_ne!(h.attributes & ATTR_LOG_APPEND_TIME, 0);
    }

    #[test]
    fn splits_concatenated_batches() {
        let mut buf = make_batch(2, 0, None, None, Compression::None);
        buf.extend(make_batch(4, 0, None, None, Compression::Gzip));
        let parts = split_batches(&buf).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].1.record_count, 4);
        assert!(split_batches(&buf[..buf.len() - 3]).is_err());
    }
}
