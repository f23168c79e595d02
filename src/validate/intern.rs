//! Keeping a million checked rows small and quick to build: one shared copy of
//! each repeated string (WABA ids, variable names, display names, file names),
//! and a fast hash for the per-row lookups.
//!
//! Why not the standard hasher: SipHash resists hash flooding, which matters
//! for keys an attacker picks over the network; a manifest is the operator's
//! own file, and SipHash was the largest single cost of validating one.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The Fx hash (as in rustc): a rotate, a xor and a multiply per word.
#[derive(Clone, Copy)]
pub(super) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Default for FxHasher {
    /// Not zero: from zero, a zero word would leave the state unchanged.
    fn default() -> Self {
        FxHasher { hash: SEED }
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(super) type BuildFx = BuildHasherDefault<FxHasher>;

/// One shared copy of each string seen, up to `limit` different ones; past
/// that a string gets its own copy (a column of all-different values should
/// not pay for a table that saves nothing).
pub(super) struct Interner {
    set: HashSet<Arc<str>, BuildFx>,
    limit: usize,
}

impl Interner {
    pub(super) fn with_limit(limit: usize) -> Self {
        Interner {
            set: HashSet::default(),
            limit,
        }
    }

    pub(super) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.set.get(s) {
            return shared.clone();
        }
        let new: Arc<str> = Arc::from(s);
        if self.set.len() < self.limit {
            self.set.insert(new.clone());
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_same_text_is_one_allocation() {
        let mut i = Interner::with_limit(10);
        let a = i.get("102290129340398");
        let b = i.get(&String::from("102290129340398"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &i.get("102290129340399")));
    }

    #[test]
    fn past_the_limit_strings_are_not_kept() {
        let mut i = Interner::with_limit(1);
        let a = i.get("a");
        assert!(Arc::ptr_eq(&a, &i.get("a")));
        let b = i.get("b");
        assert_eq!(&*b, "b");
        assert!(!Arc::ptr_eq(&b, &i.get("b")));
        assert_eq!(i.set.len(), 1);
    }

    #[test]
    fn the_hash_tells_close_keys_apart() {
        let h = |s: &str| BuildFx::default().hash_one(s);
        assert_ne!(h("CLIENT_1_TOKEN"), h("CLIENT_2_TOKEN"));
        assert_ne!(h(""), h("\0"));
        let n = |v: u64| BuildFx::default().hash_one(v);
        assert_ne!(n(447_912_345_678), n(447_912_345_679));
    }
}
