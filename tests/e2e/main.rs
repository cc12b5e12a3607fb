//! End-to-end tests: one binary (link time), one module per command.

mod access;
mod accountability;
mod baddata;
mod batch;
mod cli;
mod client;
mod common;
mod compare;
mod effects;
mod gen_validate;
mod history;
mod ids;
mod live_state;
mod orderer;
mod oversight;
mod policy;
mod reliability;
mod retention;
mod security;
mod service;
mod solve;
mod store_compat;
mod team;
mod tokens;
mod widget;
