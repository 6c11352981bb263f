//! Producer ids for idempotent producers, and the cluster id. Producer ids are handed out from
//! blocks whose upper bound is persisted before use, so no id is ever reused across restarts
//! (a reused id would make a new producer's first batch look like an old one's retry).

use std::fs;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::error::Result;

const BLOCK: i64 = 1000;

pub struct ProducerIdAllocator {
    path: PathBuf,
    /// (next id to hand out, first id not yet reserved on disk)
    state: Mutex<(i64, i64)>,
}

impl ProducerIdAllocator {
    pub fn open(root: &Path) -> Result<Self> {
        let path = root.join("producer-ids");
        let reserved: i64 = fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Ok(ProducerIdAllocator {
            path,
            state: Mutex::new((reserved, reserved)),
        })
    }

    /// The next unused producer id.
    pub fn next(&self) -> Result<i64> {
        let mut st = self.state.lock();
        if st.0 >= st.1 {
            let upto = st.1 + BLOCK;
            let tmp = self.path.with_extension("tmp");
            {
                let f = fs::File::create(&tmp)?;
                use std::io::Write;
                (&f).write_all(upto.to_string().as_bytes())?;
                f.sync_all()?;
            }
            fs::rename(&tmp, &self.path)?;
            st.1 = upto;
        }
        let id = st.0;
        st.0 += 1;
        Ok(id)
    }
}

/// The cluster id, made once per data directory (22 URL-safe base64 characters, as Kafka's).
pub fn cluster_id(root: &Path) -> Result<String> {
    let path = root.join("cluster-id");
    if let Ok(s) = fs::read_to_string(&path) {
        let s = s.trim().to_string();
        if !s.is_empty() {
            return Ok(s);
        }
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let id = uuid::Uuid::new_v4();
    let mut bits: u128 = u128::from_be_bytes(*id.as_bytes());
    let mut out = String::with_capacity(22);
    for _ in 0..22 {
        out.push(ALPHABET[(bits & 63) as usize] as char);
        bits >>= 6;
    }
    fs::write(&path, &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = ProducerIdAllocator::open(dir.path()).unwrap();
        let first: Vec<i64> = (0..3).map(|_| a.next().unwrap()).collect();
        drop(a);
        let b = ProducerIdAllocator::open(dir.path()).unwrap();
        let next = b.next().unwrap();
        assert!(first.iter().all(|&x| x < next));
        let c1 = cluster_id(dir.path()).unwrap();
        assert_eq!(c1.len(), 22);
        assert_eq!(cluster_id(dir.path()).unwrap(), c1);
    }
}
