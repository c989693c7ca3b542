//! tok: a credential admin tool for streaming and database platforms, and the
//! control plane it talks to. The `tok` binary is a thin `main` over [`cli`].

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod client;
pub mod config;
pub mod control;
pub mod credentials;
pub mod duration;
pub mod error;
pub mod jwt;
pub mod keys;
pub mod model;
pub mod output;
pub mod server;
