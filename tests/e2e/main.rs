//! End-to-end tests: one binary (link time), one module per command.

mod cli;
mod gen_validate;
mod service;
mod solve;
