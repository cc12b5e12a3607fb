//! Standard output of the `matcher` command line, for output a reader may stop reading.
//!
//! `println!` panics when stdout is a closed pipe (`matcher explain … | head -1`, `| true`):
//! exit 101 and a panic message (issue 15, item 11). [`say!`] writes the line, and when the
//! reader has gone away it stops the process quietly with exit code 141, what a shell reports
//! for a tool ended by SIGPIPE (`yes | true`): `head` users see nothing, and `set -o pipefail`
//! still learns that not everything was read (a `validate` that found problems must not exit 0).
//! Any other write failure is an error message and exit 1.

use std::io::Write;

/// Exit code when the reader closed the pipe: 128 + SIGPIPE, as a shell reports it.
pub const CLOSED_PIPE: i32 = 141;

/// Writes one line to stdout (like `println!`), stopping quietly on a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// The body of [`say!`].
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(CLOSED_PIPE),
        Err(e) => {
            eprintln!("error: writing to stdout: {}", matcher_core::error::io_words(&e));
            std::process::exit(1);
        }
    }
}
