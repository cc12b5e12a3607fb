//! End-to-end tests: one binary (link time), one module per command.

mod batch;
mod cli;
mod common;
mod gen_validate;
mod ids;
mod reliability;
mod security;
mod service;
mod solve;
mod tokens;
mod widget;
