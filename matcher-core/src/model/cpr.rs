//! Finding Danish CPR numbers (civil registration numbers) in text, in the forms people
//! actually write them, so that none is stored or echoed.
//!
//! Owns the detection and the masking; it does not decide what to do with a find (ids and names
//! refuse it, answers star it out). Pure text in, spans out: no allocation beyond the answer.
//!
//! A CPR number is `DDMMYY-SSSS`. Before matching, the text is normalised the way a reader
//! would see it:
//! - every Unicode decimal digit counts as its value (full-width `０１０２`, Arabic-Indic, …),
//!   and so do superscript and subscript digits;
//! - invisible characters (zero-width space, joiners, word joiner, BOM, soft hyphen) vanish;
//! - digit groups joined by up to three separators (any whitespace including no-break spaces,
//!   `-`, the Unicode hyphens and dashes U+2010–U+2015 such as U+2011, `−`, `/`, `.`, `_`, and
//!   their full-width forms) are read as one number.
//!
//! It then finds either ten or more digits in one group, or consecutive groups of exactly ten
//! digits in all whose breaks fall where people break a CPR number (after 2, 4, 6 or 8 digits)
//! and whose first six digits could be a date (day 01–31, month 01–12; not checked for the
//! `6+4` form, which was always refused). So `010203 1234`, `01 02 03 12 34`, `010203/1234`,
//! `01.02.03-1234` are found, while `K101-2026-00042`, `2026-01-15 10:30` and `12345-12345`
//! are not.

use std::ops::Range;

/// Zero code points of the Unicode decimal-digit blocks (general category Nd, Unicode 14):
/// each block holds the digits 0–9 in order.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50,
    0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40,
    0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066,
    0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950,
    0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6,
    0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// Most separator characters read as joining two digit groups (`" - "` is three).
const MAX_JOIN: usize = 3;

/// The value of a digit as a reader sees it, in any script.
pub fn digit_value(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match c {
        '0'..='9' => return Some((cp - 0x30) as u8),
        '\u{2070}' => return Some(0),
        '\u{00B9}' => return Some(1),
        '\u{00B2}' => return Some(2),
        '\u{00B3}' => return Some(3),
        '\u{2074}'..='\u{2079}' => return Some((cp - 0x2070) as u8),
        '\u{2080}'..='\u{2089}' => return Some((cp - 0x2080) as u8),
        _ => {}
    }
    if cp < 0x660 {
        return None;
    }
    // The largest block start at or below `cp`.
    let at = DIGIT_ZEROS.partition_point(|&z| z <= cp).checked_sub(1)?;
    let offset = cp - DIGIT_ZEROS[at];
    (offset < 10).then_some(offset as u8)
}

/// Characters a reader does not see at all.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
}

/// Characters people put between the digit groups of a number.
fn separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '/' | '.' | '_' | '\u{2010}'
                ..='\u{2015}'
                    | '\u{2212}'
                    | '\u{2044}'
                    | '\u{2215}'
                    | '\u{FE58}'
                    | '\u{FE63}'
                    | '\u{FF0D}'
                    | '\u{FF0E}'
                    | '\u{FF0F}'
                    | '\u{FF3F}'
        )
}

/// One run of digits (invisible characters inside skipped): its byte span and digit values.
struct Group {
    span: Range<usize>,
    digits: Vec<u8>,
}

/// Splits `text` into chains: digit groups joined by at most [`MAX_JOIN`] separators.
fn chains(text: &str) -> Vec<Vec<Group>> {
    let mut chains: Vec<Vec<Group>> = Vec::new();
    let mut chain: Vec<Group> = Vec::new();
    let mut group: Option<Group> = None;
    let mut joins = 0usize;
    for (at, c) in text.char_indices() {
        if let Some(d) = digit_value(c) {
            let end = at + c.len_utf8();
            match &mut group {
                Some(g) => {
                    g.digits.push(d);
                    g.span.end = end;
                }
                None => group = Some(Group { span: at..end, digits: vec![d] }),
            }
            joins = 0;
        } else if invisible(c) {
            // Seen by nobody, so it splits nothing.
        } else if separator(c) && joins < MAX_JOIN && (group.is_some() || !chain.is_empty()) {
            if let Some(g) = group.take() {
                chain.push(g);
            }
            joins += 1;
        } else {
            chain.extend(group.take());
            if !chain.is_empty() {
                chains.push(std::mem::take(&mut chain));
            }
            joins = 0;
        }
    }
    chain.extend(group);
    if !chain.is_empty() {
        chains.push(chain);
    }
    chains
}

/// Day 01–31 and month 01–12 in the first four digits.
fn plausible_date(d: &[u8]) -> bool {
    let day = d[0] * 10 + d[1];
    let month = d[2] * 10 + d[3];
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

/// The byte spans of every CPR-like number in `text`, in order (see the module header).
///
/// # Complexity
/// `O(len)`: windows are at most five groups long.
pub fn find(text: &str) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    for chain in chains(text) {
        for (a, first) in chain.iter().enumerate() {
            if first.digits.len() >= 10 {
                found.push(first.span.clone());
                continue;
            }
            let mut digits: Vec<u8> = first.digits.clone();
            let mut breaks = vec![digits.len()];
            for next in chain.iter().skip(a + 1) {
                digits.extend_from_slice(&next.digits);
                if digits.len() > 10 {
                    break;
                }
                if digits.len() == 10 {
                    let breaks_ok = breaks.iter().all(|b| matches!(b, 2 | 4 | 6 | 8));
                    let six_four = breaks == [6];
                    if breaks_ok && (six_four || plausible_date(&digits)) {
                        found.push(first.span.start..next.span.end);
                    }
                    break;
                }
                breaks.push(digits.len());
            }
        }
    }
    found.sort_by_key(|r| r.start);
    found
}

/// True when `text` holds something that reads as a CPR number (see the module header).
pub fn looks_like_cpr(text: &str) -> bool {
    // Fast path: text without a digit of any script holds no number.
    if !text.chars().any(|c| digit_value(c).is_some()) {
        return false;
    }
    !find(text).is_empty()
}

/// `text` with every digit of every CPR-like number replaced by `*` (separators kept, invisible
/// characters inside dropped), so that an answer can say where the problem is without saying
/// the number. Text without one is returned as it is.
pub fn mask(text: &str) -> String {
    let spans = if looks_like_cpr(text) { find(text) } else { Vec::new() };
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let inside = spans.iter().any(|s| s.contains(&at));
        if !inside {
            out.push(c);
        } else if digit_value(c).is_some() {
            out.push('*');
        } else if !invisible(c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15, item 6: the written forms that passed before.
    pub(crate) const WRITTEN_FORMS: &[&str] = &[
        "0102031234",
        "010203-1234",
        "010203 1234",
        "01 02 03 12 34",
        "010203/1234",
        "01.02.03-1234",
        "01.02.03 - 1234",
        "010203_1234",
        "\u{FF10}\u{FF11}\u{FF10}\u{FF12}\u{FF10}\u{FF13}\u{FF11}\u{FF12}\u{FF13}\u{FF14}",
        "\u{FF10}\u{FF11}\u{FF10}\u{FF12}\u{FF10}\u{FF13}\u{FF0D}\u{FF11}\u{FF12}\u{FF13}\u{FF14}",
        "0102\u{200B}031234",
        "010203\u{2011}1234",
        "010203\u{00A0}1234",
        "010203\u{2013}1234",
        "\u{0660}\u{0661}\u{0660}\u{0662}\u{0660}\u{0663}\u{0661}\u{0662}\u{0663}\u{0664}",
    ];

    #[test]
    fn issue_15_written_cpr_forms_are_found_in_free_text() {
        for form in WRITTEN_FORMS {
            assert!(looks_like_cpr(form), "{form:?}");
            let text = format!("borger {form} ringede");
            assert!(looks_like_cpr(&text), "{text:?}");
            let masked = mask(&text);
            assert!(!looks_like_cpr(&masked), "{masked:?}");
            assert!(masked.starts_with("borger ") && masked.ends_with(" ringede"), "{masked:?}");
        }
    }

    #[test]
    fn ordinary_numbers_are_not_taken_for_cpr() {
        for text in [
            "K101-2026-00042",
            "2026-01-15 10:30",
            "12345-12345",
            "c-000123",
            "123456789",
            "+45 12 34 56 78",
            "192.168.100.100",
            "uge 12, 34 timer, 5 dage",
            "course-17",
        ] {
            assert!(!looks_like_cpr(text), "{text:?}");
            assert_eq!(mask(text), text);
        }
    }

    #[test]
    fn masking_keeps_separators_and_other_digits() {
        assert_eq!(mask("a 010190-1234 b 64"), "a ******-**** b 64");
        assert_eq!(mask("01.02.03-1234 x 7"), "**.**.**-**** x 7");
        assert_eq!(mask("æøå 12345678901 x"), "æøå *********** x");
        assert_eq!(mask("/0102031234/reason"), "/**********/reason");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// What the answers rely on: a masked text holds no CPR number any more, spans are
        /// whole characters, and the two entry points agree.
        #[test]
        fn masked_text_holds_no_cpr_number(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "0", "1", "2", "3", "9", "01", "12", "31", "010203", "1234", " ", "-", ".", "/", "_",
                    "\u{2011}", "\u{200B}", "\u{00A0}", "\u{FF10}", "\u{FF11}", "\u{0661}", "a", ":", "é",
                ]),
                0..40,
            )
        ) {
            let text: String = parts.concat();
            let found = find(&text);
            proptest::prop_assert_eq!(looks_like_cpr(&text), !found.is_empty());
            for r in &found {
                proptest::prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
            let masked = mask(&text);
            proptest::prop_assert!(!looks_like_cpr(&masked), "{:?} masked to {:?}", text, masked);
        }
    }

    #[test]
    fn digits_of_every_script_have_their_value() {
        assert_eq!(digit_value('7'), Some(7));
        assert_eq!(digit_value('\u{FF19}'), Some(9));
        assert_eq!(digit_value('\u{0669}'), Some(9));
        assert_eq!(digit_value('\u{2075}'), Some(5));
        assert_eq!(digit_value('a'), None);
        assert_eq!(digit_value('\u{065F}'), None);
    }
}
