//! The one error type of `matcher-core`.
//!
//! Every variant says *where* (file, line, column or key) and *what* (the value and the
//! reason), so that the binary can print it as it is and a job-centre operator can fix the
//! input without reading code. HTTP status codes and exit codes are assigned at the edge,
//! never here.

use std::fmt;
use std::path::PathBuf;

/// One bad value in an input file: the place and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputProblem {
    /// File name as the user gave it (or a logical name such as `candidates.csv`).
    pub file: String,
    /// 1-based line in the file; 0 when the problem concerns the whole file.
    pub line: u64,
    /// Column (CSV header name) or JSON field path; empty when the whole row is meant.
    pub column: String,
    /// The offending value as it was read, truncated to 80 characters.
    pub value: String,
    /// What is wrong with it, in plain words.
    pub reason: String,
}

impl InputProblem {
    /// Builds a problem, truncating the echoed value so that a huge field cannot flood a log,
    /// and starring out every CPR-like number of the value, in the value and wherever the
    /// reason quotes it: the message names the file, line and column, which find the row, and
    /// a nightly run's output ends up in logs kept longer than any citizen's data may be. The
    /// reason's own words (a bound such as 4294967295) are left as they are.
    pub fn new(
        file: impl Into<String>,
        line: u64,
        column: impl Into<String>,
        value: impl AsRef<str>,
        reason: impl Into<String>,
    ) -> Self {
        let raw = value.as_ref();
        let mut reason = reason.into();
        for span in crate::model::cpr::find(raw) {
            let number = &raw[span];
            if reason.contains(number) {
                reason = reason.replace(number, &crate::model::cpr::mask(number));
            }
        }
        let value = crate::model::cpr::mask(raw);
        let value = match value.char_indices().nth(80) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value,
        };
        Self { file: file.into(), line, column: column.into(), value, reason }
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.column.is_empty() {
            write!(f, ": column `{}`", self.column)?;
        }
        if !self.value.is_empty() {
            write!(f, " = `{}`", self.value)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The list of problems found in a data set, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InputProblems(pub Vec<InputProblem>);

impl fmt::Display for InputProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "no problems"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more problems)", rest.len()),
        }
    }
}

/// Everything that can go wrong in `matcher-core`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One bad value in an input file.
    #[error("{0}")]
    Input(InputProblem),
    /// A data set with one or more bad rows; nothing of it was accepted.
    #[error("invalid data: {0}")]
    InvalidData(InputProblems),
    /// A policy file that cannot be used.
    #[error("policy {file}: key `{key}`: {reason}")]
    Policy {
        /// The policy file (or `<embedded default>`).
        file: String,
        /// Dotted key path, e.g. `weights.distance`.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// A file could not be read or written.
    ///
    /// The operating system's error is part of the message and deliberately not a `source()`:
    /// a caller that prints the chain of causes would otherwise say it twice. It is said in
    /// words, without "(os error 2)" (issue 15, item 11).
    #[error("{}: {}", path.display(), io_words(reason))]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: std::io::Error,
    },
    /// A snapshot that is not ours, of another version, or damaged.
    #[error("snapshot {}: {reason}", path.display())]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    /// An assignment problem that cannot be solved as stated (contradictory constraints,
    /// weights that would overflow, indices out of range).
    #[error("assignment problem: {0}")]
    Problem(String),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), reason: source }
    }
}

/// An I/O error as a person reads it: "No such file or directory", without "(os error 2)".
pub fn io_words(error: &std::io::Error) -> String {
    let text = error.to_string();
    match (text.rfind(" (os error "), text.ends_with(')')) {
        (Some(at), true) => text[..at].to_string(),
        _ => text,
    }
}

/// A serde message in the reader's words: Rust type names (`expected u32`, `expected f64`)
/// become what the value must be (issue 15, item 11). Other text is kept.
pub fn plain_words(message: &str) -> String {
    const WORDS: [(&str, &str); 14] = [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number, 0 or more"),
        ("usize", "a whole number, 0 or more"),
        ("u128", "a whole number, 0 or more"),
        ("i8", "a whole number"),
        ("i16", "a whole number"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("isize", "a whole number"),
        ("i128", "a whole number"),
        ("f32", "a number"),
        ("f64", "a number"),
    ];
    let mut out = message.to_string();
    for (rust, plain) in WORDS {
        for prefix in ["expected ", "expected `"] {
            let tail = if prefix.ends_with('`') { "`" } else { "" };
            let from = format!("{prefix}{rust}{tail}");
            // Only whole words: `expected u32` but not `expected u32s`.
            let mut at = 0;
            while let Some(i) = out[at..].find(&from).map(|i| i + at) {
                let end = i + from.len();
                let boundary = out[end..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '_');
                if boundary {
                    out.replace_range(i..end, &format!("expected {plain}"));
                    at = i + "expected ".len() + plain.len();
                } else {
                    at = end;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod plain_tests {
    use super::plain_words;

    #[test]
    fn issue_15_no_rust_type_names_in_messages() {
        assert_eq!(
            plain_words("invalid type: string \"x\", expected u32 at line 1 column 9"),
            "invalid type: string \"x\", expected a whole number from 0 to 4294967295 at line 1 column 9"
        );
        assert_eq!(
            plain_words("invalid value: integer `-3`, expected usize"),
            "invalid value: integer `-3`, expected a whole number, 0 or more"
        );
        assert_eq!(
            plain_words("invalid type: boolean `true`, expected f64"),
            "invalid type: boolean `true`, expected a number"
        );
        assert_eq!(plain_words("expected u32s here"), "expected u32s here");
        assert_eq!(plain_words("missing field `id`"), "missing field `id`");
    }
}
