//! Turning the bytes of a text file into text: UTF-8 (with or without a byte order mark) by
//! default, Windows-1252 only when the user says so.
//!
//! This module owns the one decision about what encoding a file is in. It never guesses
//! silently: a file that is not UTF-8 is refused with the encoding it looks like (from byte
//! patterns such as the Windows-1252 bytes of æ, ø and å) and how to save it as UTF-8. It must
//! not split fields or parse values (that is [`super::table`]).

use crate::error::InputProblem;

/// How the bytes of the CSV files of a data set are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark (Excel's "CSV UTF-8").
    #[default]
    Utf8,
    /// Windows-1252 (what Danish Excel's plain "CSV" writes) for every file that is not UTF-8.
    /// A file that starts with a UTF-8 byte order mark, or that is valid UTF-8, is still read
    /// as UTF-8: Windows-1252 text with æ, ø or å is never valid UTF-8, so a directory where
    /// only some files were saved by Excel reads whole. [`Decoded::encoding`] says which.
    Windows1252,
}

impl Encoding {
    /// Parses `utf-8` or `windows-1252` (also `utf8`, `cp1252`, `latin1`, `latin-1`,
    /// `iso-8859-1`: Excel's Latin-1 is Windows-1252 in practice).
    pub fn parse(text: &str) -> Option<Encoding> {
        match text.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => Some(Encoding::Windows1252),
            _ => None,
        }
    }

    /// The name used in messages and flags.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// The UTF-8 byte order mark that Excel's "CSV UTF-8" writes first.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Text decoded from a file, and how it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text, without a byte order mark.
    pub text: String,
    /// The encoding it was read as.
    pub encoding: Encoding,
    /// The file started with a UTF-8 byte order mark.
    pub bom: bool,
}

/// Decodes the bytes of the file `file` as `encoding` says.
///
/// # Errors
/// One problem for the whole file (line of the first bad byte): not UTF-8 (with the encoding it
/// looks like and how to save it as UTF-8), or UTF-16.
pub fn decode(file: &str, bytes: &[u8], encoding: Encoding) -> Result<Decoded, InputProblem> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || looks_like_utf16(bytes) {
        return Err(InputProblem::new(
            file,
            0,
            "",
            "",
            "file is UTF-16 (Excel's “Unicode text”), not UTF-8; save it in Excel as “CSV UTF-8”",
        ));
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok(Decoded { text: text.to_string(), encoding: Encoding::Utf8, bom: true }),
            Err(e) => {
                Err(not_utf8(file, rest, e.valid_up_to(), "it starts with a UTF-8 byte order mark, but "))
            }
        };
    }
    match (encoding, std::str::from_utf8(bytes)) {
        (Encoding::Utf8, Ok(text)) => Ok(Decoded { text: text.to_string(), encoding, bom: false }),
        (Encoding::Utf8, Err(e)) => Err(not_utf8(file, bytes, e.valid_up_to(), "")),
        // Windows-1252 text with æ, ø or å is never valid UTF-8, so a valid UTF-8 file in a
        // directory read with the flag is one that was saved as UTF-8: read it as such.
        (Encoding::Windows1252, Ok(text)) => {
            Ok(Decoded { text: text.to_string(), encoding: Encoding::Utf8, bom: false })
        }
        (Encoding::Windows1252, _) => {
            Ok(Decoded { text: bytes.iter().map(|&b| windows_1252(b)).collect(), encoding, bom: false })
        }
    }
}

/// UTF-16 without a byte order mark: every other byte of the first line is zero.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    head.len() >= 4 && head.iter().filter(|&&b| b == 0).count() * 3 >= head.len()
}

fn line_of(bytes: &[u8], at: usize) -> u64 {
    1 + bytes[..at.min(bytes.len())].iter().filter(|&&b| b == b'\n').count() as u64
}

/// The problem for bytes that are not UTF-8, first bad byte at `at`.
fn not_utf8(file: &str, bytes: &[u8], at: usize, prefix: &str) -> InputProblem {
    let byte = bytes.get(at).copied().unwrap_or(0);
    let line = line_of(bytes, at);
    let letter = windows_1252(byte);
    let reason = if !file.to_ascii_lowercase().ends_with(".csv") {
        let looks = if letter.is_alphabetic() && !letter.is_ascii() {
            format!("it looks like Windows-1252 (byte 0x{byte:02X} is `{letter}` there); ")
        } else {
            String::new()
        };
        format!("file is not UTF-8: {prefix}{looks}save it as UTF-8")
    } else if letter.is_alphabetic() && !letter.is_ascii() {
        format!(
            "file is not UTF-8: {prefix}it looks like Windows-1252 (Latin-1), which Danish Excel writes as “CSV (semikolonsepareret)”: byte 0x{byte:02X} is `{letter}` in Windows-1252. Save it in Excel as “CSV UTF-8”, or read it as it is with --encoding windows-1252"
        )
    } else {
        format!(
            "file is not UTF-8: {prefix}byte 0x{byte:02X} is not valid UTF-8 and not a letter in Windows-1252 either; save the file as UTF-8 (“CSV UTF-8” in Excel)"
        )
    };
    InputProblem::new(file, line, "", "", reason)
}

/// The character of one Windows-1252 byte. The five undefined bytes (0x81, 0x8D, 0x8F, 0x90,
/// 0x9D) map to the C1 control of the same number, as Windows itself does.
pub fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
        '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Encodes text as Windows-1252, or `None` if a character has no Windows-1252 byte.
pub fn to_windows_1252(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| match u32::from(c) {
            0..=0x7F | 0xA0..=0xFF => u8::try_from(u32::from(c)).ok(),
            _ => (0x80..=0x9F_u8).find(|&b| windows_1252(b) == c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_letters_in_windows_1252_are_named_and_read_by_flag() {
        let bytes = b"id,name\nlev-1,R\xE5dgivning \xC6bler\xF8d\n";
        let err = decode("providers.csv", bytes, Encoding::Utf8).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.reason.contains("looks like Windows-1252"), "{err}");
        assert!(err.reason.contains("byte 0xE5 is `å`"), "{err}");
        let ok = decode("providers.csv", bytes, Encoding::Windows1252).unwrap();
        assert_eq!(ok.text, "id,name\nlev-1,Rådgivning Æblerød\n");
        assert_eq!(to_windows_1252(&ok.text).as_deref(), Some(&bytes[..]));
        assert_eq!(to_windows_1252("€ – ø").unwrap(), b"\x80 \x96 \xF8");
        assert_eq!(to_windows_1252("Ł"), None);
    }

    #[test]
    fn a_bom_is_dropped_and_wins_over_the_flag() {
        let ok = decode("a.csv", b"\xEF\xBB\xBFid\n\xC3\xB8\n", Encoding::Windows1252).unwrap();
        assert_eq!((ok.text.as_str(), ok.bom, ok.encoding), ("id\nø\n", true, Encoding::Utf8));
        let utf8 = decode("a.csv", "id\nø\n".as_bytes(), Encoding::Windows1252).unwrap();
        assert_eq!((utf8.text.as_str(), utf8.encoding), ("id\nø\n", Encoding::Utf8));
        let ascii = decode("a.csv", b"id\nx\n", Encoding::Windows1252).unwrap();
        assert_eq!(ascii.text, "id\nx\n");
    }

    #[test]
    fn a_json_file_is_not_told_about_excel() {
        let err = decode("offers.json", b"[{\"name\": \"\xF8\"}]", Encoding::Utf8).unwrap_err();
        assert_eq!(
            err.to_string(),
            "offers.json:1: file is not UTF-8: it looks like Windows-1252 (byte 0xF8 is `ø` there); save it as UTF-8"
        );
    }

    #[test]
    fn utf16_is_named() {
        let err = decode("a.csv", b"\xFF\xFEi\0d\0", Encoding::Utf8).unwrap_err();
        assert!(err.reason.contains("UTF-16"), "{err}");
        let err = decode("a.csv", b"i\0d\0,\0n\0a\0m\0e\0", Encoding::Utf8).unwrap_err();
        assert!(err.reason.contains("UTF-16"), "{err}");
    }
}
