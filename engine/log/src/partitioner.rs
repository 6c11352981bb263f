//! Kafka's default partitioner, as in-process writers (the SQL engine's sinks, source
//! connectors) need it to put keyed records where a Kafka producer would: murmur2 of the key
//! bytes (the Java client's `Utils.murmur2`). Pure arithmetic: no I/O.

/// Kafka's murmur2 (the Java client's `Utils.murmur2`).
pub fn murmur2(data: &[u8]) -> i32 {
    let seed: u32 = 0x9747_b28c;
    let m: u32 = 0x5bd1_e995;
    let r = 24;
    let len = data.len();
    let mut h: u32 = seed ^ (len as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    match tail.len() {
        3 => {
            h ^= (tail[2] as u32) << 16;
            h ^= (tail[1] as u32) << 8;
            h ^= tail[0] as u32;
            h = h.wrapping_mul(m);
        }
        2 => {
            h ^= (tail[1] as u32) << 8;
            h ^= tail[0] as u32;
            h = h.wrapping_mul(m);
        }
        1 => {
            h ^= tail[0] as u32;
            h = h.wrapping_mul(m);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's default partitioner picks for `key` (`fallback` for a null key).
pub fn partition_for(key: Option<&[u8]>, partitions: i32, fallback: i32) -> i32 {
    let n = partitions.max(1);
    match key {
        Some(k) => (murmur2(k) & 0x7fff_ffff) % n,
        None => fallback.rem_euclid(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka() {
        // Values from Kafka's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21"), -973932308);
        assert_eq!(murmur2(b"foobar"), -790332482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58897971
        );
        assert_eq!(murmur2(b"abc"), 479470107);
    }

    #[test]
    fn keys_spread_as_the_java_client_spreads_them() {
        assert_eq!(
            partition_for(Some(b"21"), 8, 0),
            (-973932308i32 & 0x7fff_ffff) % 8
        );
        assert_eq!(partition_for(None, 8, 11), 3);
        assert_eq!(partition_for(Some(b"x"), 0, 0), 0);
    }
}
