//! Reading and writing data sets: CSV and JSON inputs, the bincode snapshot, reference tables.
//!
//! This is the only module of `matcher-core` that touches files. It validates everything it
//! reads and reports every bad row with its file, line, column and value; it never panics on
//! input and accepts a data set only when all of it is valid.

pub mod table;
