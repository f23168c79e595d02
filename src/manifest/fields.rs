//! The manifest's field names (SPEC section 1), shared by both readers and by
//! validation, and the "did you mean" suggestion for misspelt ones.

use super::{RawFields, RawValue};
use std::fmt;

/// One manifest field (a CSV column, a YAML key of a number's entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    WabaId,
    Cc,
    PhoneNumber,
    MigratePhoneNumber,
    PreverifiedId,
    VerifiedName,
    TokenEnv,
    /// Onboarding (SPEC 7): how the verification code is sent.
    CodeMethod,
    /// Onboarding: the language of the verification message.
    Language,
    /// Onboarding: the variable holding the two-step PIN for register.
    PinEnv,
    /// Onboarding: where Meta stores the number's messages at rest.
    DataLocalizationRegion,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::WabaId,
        Field::Cc,
        Field::PhoneNumber,
        Field::MigratePhoneNumber,
        Field::PreverifiedId,
        Field::VerifiedName,
        Field::TokenEnv,
        Field::CodeMethod,
        Field::Language,
        Field::PinEnv,
        Field::DataLocalizationRegion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::WabaId => "waba_id",
            Field::Cc => "cc",
            Field::PhoneNumber => "phone_number",
            Field::MigratePhoneNumber => "migrate_phone_number",
            Field::PreverifiedId => "preverified_id",
            Field::VerifiedName => "verified_name",
            Field::TokenEnv => "token_env",
            Field::CodeMethod => "code_method",
            Field::Language => "language",
            Field::PinEnv => "pin_env",
            Field::DataLocalizationRegion => "data_localization_region",
        }
    }

    /// The field with this exact (already lower-cased) name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn get(self, f: &RawFields) -> Option<&RawValue> {
        self.slot_ref(f).as_ref()
    }

    pub fn set(self, f: &mut RawFields, value: Option<RawValue>) {
        *self.slot(f) = value;
    }

    fn slot_ref(self, f: &RawFields) -> &Option<RawValue> {
        match self {
            Field::WabaId => &f.waba_id,
            Field::Cc => &f.cc,
            Field::PhoneNumber => &f.phone_number,
            Field::MigratePhoneNumber => &f.migrate_phone_number,
            Field::PreverifiedId => &f.preverified_id,
            Field::VerifiedName => &f.verified_name,
            Field::TokenEnv => &f.token_env,
            Field::CodeMethod => &f.code_method,
            Field::Language => &f.language,
            Field::PinEnv => &f.pin_env,
            Field::DataLocalizationRegion => &f.data_localization_region,
        }
    }

    fn slot(self, f: &mut RawFields) -> &mut Option<RawValue> {
        match self {
            Field::WabaId => &mut f.waba_id,
            Field::Cc => &mut f.cc,
            Field::PhoneNumber => &mut f.phone_number,
            Field::MigratePhoneNumber => &mut f.migrate_phone_number,
            Field::PreverifiedId => &mut f.preverified_id,
            Field::VerifiedName => &mut f.verified_name,
            Field::TokenEnv => &mut f.token_env,
            Field::CodeMethod => &mut f.code_method,
            Field::Language => &mut f.language,
            Field::PinEnv => &mut f.pin_env,
            Field::DataLocalizationRegion => &mut f.data_localization_region,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The candidate closest to `name` when it is close enough to be a typo of it
/// (edit distance at most a third of the candidate's length, and at least 1).
pub fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    // The distance is at least the difference in length: a long name (a
    // pasted paragraph) is no typo of a short one, and is not compared.
    let longest = candidates.iter().map(|c| c.len()).max().unwrap_or(0);
    if name.len() > 2 * longest {
        return None;
    }
    let name = name.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&name, c), *c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars; names are short, so O(n·m) is nothing.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// " (did you mean `x`?)" or nothing.
pub fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    match suggest(name, candidates) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(Field::from_name("Cc"), None, "callers lower-case first");
    }

    #[test]
    fn get_and_set_touch_the_right_slot() {
        let mut raw = RawFields::default();
        for f in Field::ALL {
            f.set(
                &mut raw,
                Some(RawValue {
                    text: f.name().into(),
                    from_integer: false,
                }),
            );
        }
        for f in Field::ALL {
            assert_eq!(f.get(&raw).unwrap().text, f.name());
        }
    }

    #[test]
    fn suggests_typos_only() {
        let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(suggest("phone_numbr", &names), Some("phone_number"));
        assert_eq!(suggest("Token_Env", &names), Some("token_env"));
        assert_eq!(suggest("c", &names), Some("cc"));
        assert_eq!(suggest("colour", &names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
