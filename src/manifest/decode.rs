//! Bytes to text, before either reader sees them: a manifest must be UTF-8 text.
//! Binary files, UTF-16 exports and invalid UTF-8 get one clear error here, so the
//! CSV and YAML readers only ever see well-formed text.

use super::ManifestError;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The text of a manifest, without its UTF-8 byte-order mark.
pub(super) fn decode<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str, ManifestError> {
    let file = || name.to_string();
    // Spreadsheet exports often start with a BOM: it is not part of the data.
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ManifestError::Binary {
            file: file(),
            why: "it is UTF-16 text; save it as UTF-8",
        });
    }
    // No text manifest contains NUL; binary files almost always do.
    if bytes.contains(&0) {
        return Err(ManifestError::Binary {
            file: file(),
            why: "it contains NUL bytes",
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        ManifestError::NotUtf8 {
            file: file(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            offset,
        }
    })?;
    if text.trim().is_empty() {
        return Err(ManifestError::Empty { file: file() });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bom() {
        assert_eq!(decode("f", b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
    }

    #[test]
    fn rejects_binary_utf16_and_bad_utf8() {
        assert!(matches!(
            decode("f", b"\x89PNG\r\n\x1a\n\0\0"),
            Err(ManifestError::Binary { .. })
        ));
        assert!(matches!(
            decode("f", b"\xFF\xFEw\0a\0"),
            Err(ManifestError::Binary { .. })
        ));
        match decode("f", b"a,b\nc,\xE9t\xE9\n") {
            Err(ManifestError::NotUtf8 { line, offset, .. }) => {
                assert_eq!((line, offset), (2, 6));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert!(matches!(decode("f", b""), Err(ManifestError::Empty { .. })));
        assert!(matches!(
            decode("f", b"\xEF\xBB\xBF \r\n\n"),
            Err(ManifestError::Empty { .. })
        ));
    }
}
