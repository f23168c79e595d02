//! Telephony checks against libphonenumber's numbering-plan metadata (the
//! `phonenumber` crate's data), on the exact digits that will be sent.
//!
//! Why not `phonenumber::parse` + `is_valid`: parsing strips a national trunk
//! prefix (`07700…` → `7700…`) and so would bless digits that are not what goes
//! to Meta; and its regexes live in a 100-entry LRU shared by all countries,
//! which thrashes (recompiling) on manifests spanning many countries. Here the
//! same rules as libphonenumber's `isPossibleNumber`/`isValidNumber` are applied
//! with full-match regexes compiled once per region, on first use.

use phonenumber::metadata::{DATABASE, Descriptor, Descriptors, Metadata};
use regex::{Regex, RegexBuilder};
use std::cell::OnceCell;

/// The type of a valid number, as libphonenumber's `getNumberType` tells it
/// (only the distinctions SMS cares about).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumberKind {
    FixedLine,
    Mobile,
    /// The plan does not tell them apart (the US, Canada, ...).
    FixedLineOrMobile,
    TollFree,
    Voip,
    /// Premium rate, shared cost, personal, pager, UAN, voicemail.
    Other,
}

/// What the metadata says about `+{cc}{national}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NumberCheck {
    /// Possible and valid (matches a number type of a region).
    Valid(NumberKind),
    /// Right length but no region's ranges contain it (fictional 555, unassigned).
    NotValid { region: String },
    /// Only diallable inside an area: the area code is missing.
    LocalOnly { region: String },
    /// Wrong length for the country.
    Impossible {
        region: String,
        lengths: Vec<u16>,
        /// The digits seem to carry a trunk prefix or the country code: without
        /// these leading digits the length would be right.
        extra_prefix: Option<String>,
    },
    /// No country uses this calling code.
    UnknownCode,
}

/// The checker; owns the compiled regexes, so build one per validation run.
pub(super) struct Telephony {
    /// By calling code (1–3 digits, so below 1000): `None` until first
    /// used, then the code's regions (or `None` inside: no such code). An
    /// array, not a map: this lookup happens on every row.
    codes: Vec<Option<Option<Code>>>,
}

impl Default for Telephony {
    fn default() -> Self {
        Telephony {
            codes: std::iter::repeat_with(|| None).take(1000).collect(),
        }
    }
}

/// The regions sharing one calling code, the main one first (as libphonenumber
/// orders them).
struct Code {
    regions: Vec<Region>,
    /// The main region's possible lengths of a full national number, and those
    /// possible only locally (without an area code).
    lengths: Vec<u16>,
    local_lengths: Vec<u16>,
}

struct Region {
    meta: &'static Metadata,
    leading_digits: OnceCell<Option<Regex>>,
    general: Lazy,
    /// Every number type the region describes, in `getNumberType`'s order.
    types: Vec<(Type, Lazy)>,
}

/// libphonenumber's number types, in the order `getNumberType` tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    PremiumRate,
    TollFree,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    FixedLine,
    Mobile,
}

struct Lazy {
    desc: &'static Descriptor,
    regex: OnceCell<Option<Regex>>,
}

impl Lazy {
    /// libphonenumber's `isNumberMatchingDesc`: right length and a full match.
    fn matches(&self, national: &str) -> bool {
        let lengths = self.desc.possible_length();
        if !lengths.is_empty() && !lengths.iter().any(|&l| usize::from(l) == national.len()) {
            return false;
        }
        self.regex
            .get_or_init(|| compile(self.desc.national_number().as_str(), true))
            .as_ref()
            .is_some_and(|r| r.is_match(national))
    }
}

/// Compile a metadata pattern (written with insignificant whitespace).
/// `None` only if the bundled data were broken: then nothing matches it.
fn compile(pattern: &str, full: bool) -> Option<Regex> {
    let src = if full {
        format!("^(?:{pattern})$")
    } else {
        format!("^(?:{pattern})")
    };
    RegexBuilder::new(&src).ignore_whitespace(true).build().ok()
}

/// Every number type a region may describe, in the order of libphonenumber's
/// `getNumberType`.
fn number_types(d: &Descriptors) -> [(Type, Option<&Descriptor>); 10] {
    [
        (Type::PremiumRate, d.premium_rate()),
        (Type::TollFree, d.toll_free()),
        (Type::SharedCost, d.shared_cost()),
        (Type::Voip, d.voip()),
        (Type::PersonalNumber, d.personal_number()),
        (Type::Pager, d.pager()),
        (Type::Uan, d.uan()),
        (Type::Voicemail, d.voicemail()),
        (Type::FixedLine, d.fixed_line()),
        (Type::Mobile, d.mobile()),
    ]
}

impl Region {
    fn new(meta: &'static Metadata) -> Region {
        let d = meta.descriptors();
        let types = number_types(d)
            .into_iter()
            .filter_map(|(t, desc)| Some((t, Lazy::new(desc?))))
            .collect();
        Region {
            meta,
            leading_digits: OnceCell::new(),
            general: Lazy::new(d.general()),
            types,
        }
    }

    /// libphonenumber's `getNumberType`; `None` for UNKNOWN (not valid here).
    fn kind(&self, national: &str) -> Option<NumberKind> {
        if !self.general.matches(national) {
            return None;
        }
        let matches = |want: Type| {
            self.types
                .iter()
                .any(|(t, lazy)| *t == want && lazy.matches(national))
        };
        let (first, _) = self.types.iter().find(|(_, lazy)| lazy.matches(national))?;
        Some(match first {
            Type::TollFree => NumberKind::TollFree,
            Type::Voip => NumberKind::Voip,
            // Fixed line is tried before mobile: where both match, the plan
            // cannot tell them apart.
            Type::FixedLine if matches(Type::Mobile) => NumberKind::FixedLineOrMobile,
            Type::FixedLine => NumberKind::FixedLine,
            Type::Mobile => NumberKind::Mobile,
            _ => NumberKind::Other,
        })
    }

    fn leading_digits_match(&self, national: &str) -> Option<bool> {
        let pattern = self.meta.leading_digits()?;
        Some(
            self.leading_digits
                .get_or_init(|| compile(pattern.as_str(), false))
                .as_ref()
                .is_some_and(|r| r.is_match(national)),
        )
    }
}

impl Lazy {
    fn new(desc: &'static Descriptor) -> Lazy {
        Lazy {
            desc,
            regex: OnceCell::new(),
        }
    }
}

impl Code {
    fn load(code: u16) -> Option<Code> {
        let mut metas = DATABASE.by_code(&code)?;
        // Main country first, the others in the data's order.
        metas.sort_by_key(|m| !m.is_main_country_for_code());
        let (lengths, local_lengths) = metas.first().map(|m| lengths_of(m)).unwrap_or_default();
        Some(Code {
            regions: metas.into_iter().map(Region::new).collect(),
            lengths,
            local_lengths,
        })
    }

    fn main(&self) -> Option<&Region> {
        self.regions.first()
    }
}

/// The general description's lengths. The bundled data leave them empty, and
/// libphonenumber's metadata builder derives them the same way: the union of
/// the number types' lengths (local-only ones excluding full lengths).
fn lengths_of(meta: &Metadata) -> (Vec<u16>, Vec<u16>) {
    let d = meta.descriptors();
    let mut lengths = d.general().possible_length().to_vec();
    let mut local = d.general().possible_local_length().to_vec();
    if lengths.is_empty() {
        for t in number_types(d).into_iter().filter_map(|(_, t)| t) {
            lengths.extend_from_slice(t.possible_length());
            local.extend_from_slice(t.possible_local_length());
        }
    }
    lengths.sort_unstable();
    lengths.dedup();
    local.sort_unstable();
    local.dedup();
    local.retain(|l| !lengths.contains(l));
    (lengths, local)
}

/// libphonenumber's `testNumberLength` for the main region.
enum Length {
    Possible,
    LocalOnly,
    Impossible,
}

fn test_length(code: &Code, len: usize) -> Length {
    let has = |ls: &[u16]| ls.iter().any(|&l| usize::from(l) == len);
    if has(&code.local_lengths) {
        Length::LocalOnly
    } else if has(&code.lengths) {
        Length::Possible
    } else {
        Length::Impossible
    }
}

impl Telephony {
    /// `cc` and `national` are already checked digits (cc 1–3 digits).
    pub(super) fn check(&mut self, cc: &str, national: &str) -> NumberCheck {
        let Ok(code) = cc.parse::<u16>() else {
            return NumberCheck::UnknownCode;
        };
        let Some(slot) = self.codes.get_mut(usize::from(code)) else {
            return NumberCheck::UnknownCode;
        };
        let Some(code) = slot.get_or_insert_with(|| Code::load(code)) else {
            return NumberCheck::UnknownCode;
        };
        let Some(main) = code.main() else {
            return NumberCheck::UnknownCode;
        };
        // Named only in a verdict against the number: no allocation for a valid one.
        let region = || main.meta.id().to_string();
        match test_length(code, national.len()) {
            Length::LocalOnly => return NumberCheck::LocalOnly { region: region() },
            Length::Impossible => {
                let possible =
                    |rest: &str| matches!(test_length(code, rest.len()), Length::Possible);
                let trunk = main.meta.national_prefix().unwrap_or_default();
                let extra_prefix = [trunk, cc]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .find(|p| national.strip_prefix(p).is_some_and(possible))
                    .map(str::to_string);
                return NumberCheck::Impossible {
                    region: region(),
                    lengths: code.lengths.clone(),
                    extra_prefix,
                };
            }
            Length::Possible => {}
        }
        // libphonenumber's getRegionCodeForNumberFromRegionList + isValidNumberForRegion.
        for r in &code.regions {
            let kind = match r.leading_digits_match(national) {
                Some(true) => r.kind(national),
                Some(false) => continue,
                None => match r.kind(national) {
                    Some(k) => Some(k),
                    None => continue,
                },
            };
            return match kind {
                Some(k) => NumberCheck::Valid(k),
                None => NumberCheck::NotValid { region: region() },
            };
        }
        NumberCheck::NotValid { region: region() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cc: &str, national: &str) -> NumberCheck {
        Telephony::default().check(cc, national)
    }

    #[test]
    fn valid_numbers_of_several_countries() {
        for (cc, n) in [
            ("1", "6502530000"),  // US
            ("1", "6135550123"),  // CA, a region behind the main one
            ("44", "7912345678"), // GB mobile
            ("39", "0236618300"), // IT keeps its leading 0
            ("33", "612345678"),  // FR mobile
            ("49", "15123456789"),
            ("91", "9876543210"),
            ("55", "11987654321"),
            ("800", "12345678"), // non-geographic
        ] {
            assert!(matches!(check(cc, n), NumberCheck::Valid(_)), "+{cc} {n}");
        }
    }

    #[test]
    fn possible_but_not_valid_is_not_valid() {
        // The fictional 555-01xx range: right length, no assigned type.
        assert!(matches!(
            check("1", "5550100001"),
            NumberCheck::NotValid { region } if region == "US"
        ));
        assert!(matches!(
            check("44", "4012345678"),
            NumberCheck::NotValid { .. }
        ));
        // Ofcom's range for drama, as in SPEC's example.
        assert!(matches!(
            check("44", "7700900123"),
            NumberCheck::NotValid { .. }
        ));
    }

    #[test]
    fn wrong_length_is_impossible() {
        match check("44", "791234567890") {
            NumberCheck::Impossible {
                region,
                lengths,
                extra_prefix,
            } => {
                assert_eq!(region, "GB");
                assert!(lengths.contains(&10));
                assert_eq!(extra_prefix, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check("1", "650253000012"),
            NumberCheck::Impossible { .. }
        ));
    }

    #[test]
    fn trunk_prefix_and_country_code_are_spotted() {
        assert!(matches!(
            check("44", "07912345678"),
            NumberCheck::Impossible { extra_prefix: Some(p), .. } if p == "0"
        ));
        assert!(matches!(
            check("44", "447912345678"),
            NumberCheck::Impossible { extra_prefix: Some(p), .. } if p == "44"
        ));
    }

    #[test]
    fn local_only_and_unknown_codes() {
        assert!(matches!(
            check("1", "2530000"),
            NumberCheck::LocalOnly { .. }
        ));
        assert_eq!(check("999", "12345678"), NumberCheck::UnknownCode);
        assert_eq!(check("0", "12345678"), NumberCheck::UnknownCode);
    }

    #[test]
    fn number_kinds_follow_get_number_type() {
        let kind = |cc, n| match check(cc, n) {
            NumberCheck::Valid(k) => k,
            other => panic!("+{cc} {n}: {other:?}"),
        };
        assert_eq!(kind("44", "7912345678"), NumberKind::Mobile);
        assert_eq!(kind("44", "2079460000"), NumberKind::FixedLine);
        assert_eq!(kind("44", "8001234567"), NumberKind::TollFree);
        assert_eq!(kind("44", "5612345678"), NumberKind::Voip);
        assert_eq!(kind("1", "6502530000"), NumberKind::FixedLineOrMobile);
        assert_eq!(kind("1", "8002530000"), NumberKind::TollFree);
        assert_eq!(kind("33", "612345678"), NumberKind::Mobile);
        assert_eq!(kind("33", "123456789"), NumberKind::FixedLine);
        assert_eq!(kind("44", "9098790000"), NumberKind::Other, "premium rate");
    }

    #[test]
    fn regexes_are_compiled_once_per_region() {
        let mut t = Telephony::default();
        assert_eq!(
            t.check("44", "7912345678"),
            NumberCheck::Valid(NumberKind::Mobile)
        );
        assert_eq!(
            t.check("44", "7912345679"),
            NumberCheck::Valid(NumberKind::Mobile)
        );
        assert_eq!(t.codes.iter().filter(|c| c.is_some()).count(), 1);
    }
}
