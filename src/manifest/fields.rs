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

    /// Set the row's own value.
    pub fn set(self, f: &mut RawFields, value: Option<RawValue>) {
        *self.slot(f) = value;
        f.inherited_at[self as usize] = None;
    }

    /// Set a value the row inherits, written at `line` (a YAML WABA entry's
    /// key, or a key of `defaults`).
    pub fn set_at(self, f: &mut RawFields, value: Option<RawValue>, line: u32) {
        *self.slot(f) = value;
        f.inherited_at[self as usize] = Some(line);
    }

    /// Where the row's value was written when it is inherited.
    pub fn inherited_at(self, f: &RawFields) -> Option<u32> {
        f.inherited_at[self as usize]
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

/// Names spreadsheets and other tools give the manifest's fields, written as
/// [`squash`] leaves them. The fields' own names, squashed, match too.
const ALIASES: &[(&str, Field)] = &[
    ("countrycode", Field::Cc),
    ("country", Field::Cc),
    ("callingcode", Field::Cc),
    ("countrycallingcode", Field::Cc),
    ("dialcode", Field::Cc),
    ("dialingcode", Field::Cc),
    ("phone", Field::PhoneNumber),
    ("phoneno", Field::PhoneNumber),
    ("number", Field::PhoneNumber),
    ("mobile", Field::PhoneNumber),
    ("mobilenumber", Field::PhoneNumber),
    ("msisdn", Field::PhoneNumber),
    ("telephone", Field::PhoneNumber),
    ("tel", Field::PhoneNumber),
    ("nationalnumber", Field::PhoneNumber),
    ("whatsappnumber", Field::PhoneNumber),
    ("displayname", Field::VerifiedName),
    ("name", Field::VerifiedName),
    ("businessname", Field::VerifiedName),
    ("profilename", Field::VerifiedName),
    ("waba", Field::WabaId),
    ("whatsappbusinessaccountid", Field::WabaId),
    ("businessaccountid", Field::WabaId),
    ("accountid", Field::WabaId),
    ("token", Field::TokenEnv),
    ("accesstoken", Field::TokenEnv),
    ("migrate", Field::MigratePhoneNumber),
    ("migration", Field::MigratePhoneNumber),
    ("preverified", Field::PreverifiedId),
    ("preverifiednumberid", Field::PreverifiedId),
    ("pin", Field::PinEnv),
    ("twosteppin", Field::PinEnv),
    ("locale", Field::Language),
    ("lang", Field::Language),
    ("verificationmethod", Field::CodeMethod),
    ("method", Field::CodeMethod),
    ("region", Field::DataLocalizationRegion),
    ("datalocalisationregion", Field::DataLocalizationRegion),
];

/// Lower case, letters and digits only: `Phone Number`, `phone-number` and
/// `phoneNumber` all become `phonenumber`.
fn squash(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The field among `among` that an unknown column or key most likely means:
/// the same name spelt differently (`Phone Number`), a name spreadsheets use
/// for it (`country_code`, `display_name`), or a typo (`phone_numbr`).
pub fn suggest_field(name: &str, among: &[Field]) -> Option<Field> {
    // A pasted paragraph is no field name: not worth squashing.
    if name.len() > 64 {
        return None;
    }
    let squashed = squash(name);
    let same = among
        .iter()
        .copied()
        .find(|f| squash(f.name()) == squashed)
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, f)| *alias == squashed && among.contains(f))
                .map(|(_, f)| *f)
        });
    if same.is_some() {
        return same;
    }
    let names: Vec<&str> = among.iter().map(|f| f.name()).collect();
    let typo = suggest(name, &names)?;
    among.iter().copied().find(|f| f.name() == typo)
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

    #[test]
    fn spreadsheet_names_suggest_the_field() {
        let s = |n| suggest_field(n, &Field::ALL).map(Field::name);
        assert_eq!(s("Phone Number"), Some("phone_number"));
        assert_eq!(s("phoneNumber"), Some("phone_number"));
        assert_eq!(s("phone"), Some("phone_number"));
        assert_eq!(s("country_code"), Some("cc"));
        assert_eq!(s("Country Code"), Some("cc"));
        assert_eq!(s("display_name"), Some("verified_name"));
        assert_eq!(s("WABA ID"), Some("waba_id"));
        assert_eq!(s("phone_numbr"), Some("phone_number"), "typos still");
        assert_eq!(s("Client"), None);
        assert_eq!(s("Notes"), None);
        assert_eq!(
            suggest_field("waba", &[Field::Cc, Field::PhoneNumber]),
            None,
            "only among the fields allowed there"
        );
    }
}
