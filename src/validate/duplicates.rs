//! Duplicates (SPEC section 1): the same `cc + phone_number` twice in a manifest
//! is an error on every later row, pointing at the first. One hash map, so a
//! 100,000-row manifest costs one lookup per row.

use crate::manifest::Source;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

#[derive(Default)]
pub(super) struct Duplicates {
    first: HashMap<String, Source>,
}

impl Duplicates {
    pub(super) fn with_capacity(n: usize) -> Self {
        Duplicates {
            first: HashMap::with_capacity(n),
        }
    }

    /// `None` the first time a number is seen; then where it was first seen.
    pub(super) fn see(&mut self, e164_digits: String, here: &Source) -> Option<&Source> {
        match self.first.entry(e164_digits) {
            Entry::Occupied(e) => Some(e.into_mut()),
            Entry::Vacant(e) => {
                e.insert(here.clone());
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
        let at = |line| Source {
            file: "m".into(),
            line,
        };
        let mut d = Duplicates::default();
        assert_eq!(d.see("447700900123".into(), &at(2)), None);
        assert_eq!(d.see("447700900124".into(), &at(3)), None);
        assert_eq!(d.see("447700900123".into(), &at(4)), Some(&at(2)));
        assert_eq!(d.see("447700900123".into(), &at(5)), Some(&at(2)));
    }
}
