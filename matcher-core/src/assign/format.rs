//! Reader of the neutral instance format of the peers harness (the external solvers the exact
//! mode is measured against, `docs/solver.md`):
//!
//! ```text
//! p <n_left> <n_right> <n_edges>
//! r <right_index> <capacity>            (zero or more; default capacity 1)
//! e <left_index> <right_index> <weight> (exactly n_edges)
//! ```
//!
//! Pure: text in, [`Problem`] out. Every error names the line (1-based), the token and why.

use std::io::BufRead;

use super::Problem;
use crate::error::{Error, InputProblem, Result};

/// Most left or right nodes an instance may announce (a country's caseload is ~250,000
/// candidates and ~35,000 offers).
pub const MAX_NODES: usize = 1 << 24;

/// Parses an instance held in memory. `name` is used in error messages only.
///
/// # Errors
/// [`Error::Input`] with the line, the token (`n_left`, `right_index`, `weight`, ...) and the
/// reason for a malformed line, an index out of range, a repeated pair, an `r` line after an
/// `e` line or a wrong edge count; [`Error::Problem`] if the result fails
/// [`Problem::validate`] (e.g. a weight beyond [`super::MAX_WEIGHT`]).
///
/// # Complexity
/// `O(size of the text + n + m + E)`; edges grouped by left node (what the generator writes)
/// are stored without a sort, other orders with one counting sort.
///
/// # Example
/// ```
/// let p = matcher_core::assign::parse_instance("ex.txt", "p 2 2 3\nr 1 2\ne 0 0 5\ne 0 1 3\ne 1 1 4\n").unwrap();
/// assert_eq!(p.capacity, vec![1, 2]);
/// assert_eq!(p.n_edges(), 3);
/// ```
pub fn parse_instance(name: &str, text: &str) -> Result<Problem> {
    let mut lines =
        text.split('\n').enumerate().map(|(k, l)| (k as u64 + 1, l.strip_suffix('\r').unwrap_or(l)));
    let (ln, header) = lines.next().ok_or_else(|| empty(name))?;
    let mut b = Builder::new(name, ln, header, Some(text.len() as u64))?;
    for (ln, line) in lines {
        b.line(ln, line)?;
    }
    b.finish()
}

/// Reads and parses an instance from a reader (a file, stdin), line by line: the text is never
/// held whole (on the 230 MB geo 200k file the peak falls from text + arrays to the arrays).
/// The arrays reserved from the header are bounded by `1 << 20` edges and grow as lines come;
/// [`read_instance_sized`] reserves them exactly when the input's length is known.
///
/// # Errors
/// As [`parse_instance`], plus [`Error::Io`] when reading fails or the text is not UTF-8.
pub fn read_instance(name: &str, reader: impl BufRead) -> Result<Problem> {
    read_lines(name, reader, None)
}

/// As [`read_instance`], for an input of `bytes` bytes (a file's size): the header's edge count
/// is checked against what that many bytes can hold, as [`parse_instance`] does, and the
/// arrays are reserved once at their final size (no growth, no second copy at the peak).
///
/// # Errors
/// As [`read_instance`].
pub fn read_instance_sized(name: &str, reader: impl BufRead, bytes: u64) -> Result<Problem> {
    read_lines(name, reader, Some(bytes))
}

fn read_lines(name: &str, mut reader: impl BufRead, bytes: Option<u64>) -> Result<Problem> {
    let mut buf = String::new();
    let mut next = |buf: &mut String| -> Result<bool> {
        buf.clear();
        Ok(reader.read_line(buf).map_err(|e| Error::io(name, e))? > 0)
    };
    let trim = |l: &str| -> usize {
        let l = l.strip_suffix('\n').unwrap_or(l);
        l.strip_suffix('\r').unwrap_or(l).len()
    };
    if !next(&mut buf)? {
        return Err(empty(name));
    }
    let mut b = Builder::new(name, 1, &buf[..trim(&buf)], bytes)?;
    let mut ln = 1;
    while next(&mut buf)? {
        ln += 1;
        b.line(ln, &buf[..trim(&buf)])?;
    }
    b.finish()
}

fn empty(name: &str) -> Error {
    Error::Input(InputProblem::new(name, 1, "p", "", "empty file, expected the `p` header"))
}

/// The arrays of an instance as its lines come in (both readers share it).
struct Builder<'n> {
    name: &'n str,
    n: usize,
    m: usize,
    n_edges: usize,
    capacity: Vec<u32>,
    cap_set: Vec<bool>,
    left: Vec<u32>,
    offers: Vec<u32>,
    weights: Vec<i64>,
    grouped: bool,
}

impl<'n> Builder<'n> {
    /// From the header line; `bytes` = the input's length when known.
    fn new(name: &'n str, ln: u64, header: &str, bytes: Option<u64>) -> Result<Self> {
        let err = |line: u64, col: &str, val: &str, why: &str| {
            Error::Input(InputProblem::new(name, line, col, val, why))
        };
        let mut t = header.split(' ');
        if t.next() != Some("p") {
            return Err(err(ln, "p", header, "the first line must be `p <n_left> <n_right> <n_edges>`"));
        }
        let n = num::<u32>(&mut t, ln, "n_left", name)? as usize;
        let m = num::<u32>(&mut t, ln, "n_right", name)? as usize;
        let n_edges = num::<u64>(&mut t, ln, "n_edges", name)?;
        end(&mut t, ln, name)?;
        // Arrays are sized from the header before the lines are read: bound them by what any
        // caseload needs and by what the text can hold (found by `fuzz/`, target
        // `peers_instance`: a header alone could ask for gigabytes).
        for (col, count) in [("n_left", n), ("n_right", m)] {
            if count > MAX_NODES {
                return Err(err(ln, col, &count.to_string(), &format!("more than {MAX_NODES} nodes")));
            }
        }
        if n_edges > n as u64 * m as u64 {
            return Err(err(ln, "n_edges", &n_edges.to_string(), "more edges than pairs"));
        }
        // Each edge line is at least 8 bytes (`e 0 0 0` and its newline).
        if let Some(bytes) = bytes
            && n_edges > bytes / 7
        {
            return Err(err(
                ln,
                "n_edges",
                &n_edges.to_string(),
                &format!("more edges than a text of {bytes} bytes can hold"),
            ));
        }
        let n_edges = n_edges as usize;
        let reserve = if bytes.is_some() { n_edges } else { n_edges.min(1 << 20) };
        Ok(Builder {
            name,
            n,
            m,
            n_edges,
            capacity: vec![1u32; m],
            cap_set: vec![false; m],
            left: Vec::with_capacity(reserve),
            offers: Vec::with_capacity(reserve),
            weights: Vec::with_capacity(reserve),
            grouped: true,
        })
    }

    /// One line after the header (1-based line number `ln`, line end removed).
    fn line(&mut self, ln: u64, line: &str) -> Result<()> {
        let name = self.name;
        let err = |line: u64, col: &str, val: &str, why: &str| {
            Error::Input(InputProblem::new(name, line, col, val, why))
        };
        if line.is_empty() {
            return Ok(());
        }
        let mut t = line.split(' ');
        match t.next() {
            Some("r") => {
                if !self.left.is_empty() {
                    return Err(err(ln, "r", line, "`r` lines must come before all `e` lines"));
                }
                let j = index(&mut t, ln, "right_index", self.m, name)?;
                if self.cap_set[j] {
                    return Err(err(ln, "right_index", &j.to_string(), "capacity set twice"));
                }
                self.cap_set[j] = true;
                self.capacity[j] = num::<u32>(&mut t, ln, "capacity", name)?;
                end(&mut t, ln, name)?;
            }
            Some("e") => {
                if self.left.len() == self.n_edges {
                    return Err(err(
                        ln,
                        "e",
                        line,
                        &format!("more than the {} edges announced by the header", self.n_edges),
                    ));
                }
                let i = index(&mut t, ln, "left_index", self.n, name)? as u32;
                let j = index(&mut t, ln, "right_index", self.m, name)? as u32;
                let w = num::<i64>(&mut t, ln, "weight", name)?;
                end(&mut t, ln, name)?;
                self.grouped &= self.left.last().is_none_or(|&l| l <= i);
                self.left.push(i);
                self.offers.push(j);
                self.weights.push(w);
            }
            _ => {
                return Err(err(
                    ln,
                    "kind",
                    line.split(' ').next().unwrap_or(""),
                    "expected a line `r ...` or `e ...`",
                ));
            }
        }
        Ok(())
    }

    /// The problem, grouped by candidate, validated.
    fn finish(self) -> Result<Problem> {
        let Builder { name, n, n_edges, capacity, left, mut offers, mut weights, grouped, .. } = self;
        if left.len() != n_edges {
            return Err(Error::Input(InputProblem::new(
                name,
                0,
                "n_edges",
                n_edges.to_string(),
                format!("the header announces {n_edges} edges, the file has {}", left.len()),
            )));
        }
        let mut offsets = vec![0usize; n + 1];
        for &i in &left {
            offsets[i as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        if !grouped {
            let mut fill = offsets.clone();
            let mut o2 = vec![0u32; n_edges];
            let mut w2 = vec![0i64; n_edges];
            for k in 0..n_edges {
                let i = left[k] as usize;
                o2[fill[i]] = offers[k];
                w2[fill[i]] = weights[k];
                fill[i] += 1;
            }
            offers = o2;
            weights = w2;
        }
        drop(left);
        let p = Problem { n_candidates: n, capacity, offsets, offers, weights, ..Problem::default() };
        p.validate().map_err(|e| match e {
            Error::Problem(why) => Error::Input(InputProblem::new(name, 0, "", "", why)),
            other => other,
        })?;
        Ok(p)
    }
}

fn num<T: std::str::FromStr>(
    t: &mut std::str::Split<'_, char>,
    line: u64,
    col: &str,
    name: &str,
) -> Result<T> {
    let tok = t.next().unwrap_or("");
    tok.parse::<T>().map_err(|_| {
        let why = if tok.is_empty() { "missing".to_string() } else { "not an integer in range".to_string() };
        Error::Input(InputProblem::new(name, line, col, tok, why))
    })
}

fn index(t: &mut std::str::Split<'_, char>, line: u64, col: &str, len: usize, name: &str) -> Result<usize> {
    let v = num::<u64>(t, line, col, name)?;
    if v >= len as u64 {
        return Err(Error::Input(InputProblem::new(
            name,
            line,
            col,
            v.to_string(),
            format!("out of range (0..{len})"),
        )));
    }
    Ok(v as usize)
}

fn end(t: &mut std::str::Split<'_, char>, line: u64, name: &str) -> Result<()> {
    match t.next() {
        None => Ok(()),
        Some(tok) => Err(Error::Input(InputProblem::new(name, line, "", tok, "unexpected extra token"))),
    }
}

/// Writes a problem in the neutral format (the module header), so that the peers'
/// solvers can be run on the very graph a night produced. The format has no current offers,
/// locks or minimum volumes: those are left out (a locked candidate keeps its single edge).
///
/// # Errors
/// The writer's I/O errors.
pub fn write_instance(problem: &Problem, mut out: impl std::io::Write) -> std::io::Result<()> {
    writeln!(out, "p {} {} {}", problem.n_candidates, problem.capacity.len(), problem.offers.len())?;
    for (j, &c) in problem.capacity.iter().enumerate() {
        if c != 1 {
            writeln!(out, "r {j} {c}")?;
        }
    }
    for i in 0..problem.n_candidates {
        for e in problem.offsets[i]..problem.offsets[i + 1] {
            writeln!(out, "e {i} {} {}", problem.offers[e], problem.weights[e])?;
        }
    }
    out.flush()
}
