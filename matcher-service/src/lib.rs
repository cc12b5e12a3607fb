//! `matcher-service`: two programs over `matcher-core`, in two module trees.
//!
//! - [`cli`]: the `matcher` command line (file runs: `gen`, `validate`, `graph`, `explain`,
//!   `solve`, `batch`, and the `serve`/`token` front doors of the service). Errors are `anyhow`
//!   here and only here (with `main.rs`).
//! - [`server`]: the HTTP service (warp, SQLite, tokens, the widget), typed errors only.
//!
//! [`clock`] holds the one 'today in UTC' both use; [`html`] the language of a page and HTML escaping, for both. `server` never imports `cli`; `cli` calls `server` only to start it and to manage tokens.

pub mod cli;
pub mod clock;
pub mod html;
pub mod server;
