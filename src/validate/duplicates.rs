//! Duplicates (SPEC section 1): the same `cc + phone_number` twice in a manifest
//! is an error on every later row, pointing at the first. One hash map of
//! numbers (a u64 each, not text), so a 1,000,000-row manifest costs one quick
//! lookup and 16 bytes per row.

use super::intern::BuildFx;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// Each number seen, as its E.164 value, and the line it was first seen at
/// (rows of one manifest share its file).
#[derive(Default)]
pub(super) struct Duplicates {
    first: HashMap<u64, u32, BuildFx>,
}

impl Duplicates {
    /// Room for about `n` numbers, so the table is not rebuilt as it grows.
    pub(super) fn reserve(&mut self, n: usize) {
        self.first.reserve(n);
    }

    /// `None` the first time a number is seen; then the line where it was first seen.
    pub(super) fn see(&mut self, e164: u64, line: u32) -> Option<u32> {
        match self.first.entry(e164) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_rows_point_at_the_first() {
        let mut d = Duplicates::default();
        assert_eq!(d.see(447_700_900_123, 2), None);
        assert_eq!(d.see(447_700_900_124, 3), None);
        assert_eq!(d.see(447_700_900_123, 4), Some(2));
        assert_eq!(d.see(447_700_900_123, 5), Some(2));
    }
}
