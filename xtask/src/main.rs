//! `cargo xtask`: the project's build system, in Rust rather than shell scattered over CI files.
//!
//! - `cargo xtask ci`: what CI runs: formatting, clippy with warnings denied, the test suite.
//! - `cargo xtask config-docs [--check]`: generates `docs/configuration.md` and `docs/gateway.example.toml`
//!   from the config types (or checks the committed ones).
//! - `cargo xtask web [--check]`: builds the dashboard into `web-dashboard/dist` (or checks the committed one).
//! - `cargo xtask web-e2e`: the dashboard in Chromium against the real binary.
//! - `cargo xtask openapi [--check]`: the OpenAPI document in `docs/api/openapi.json` (or checks it).
//! - `cargo xtask api-fuzz`: schemathesis against the running gateway, from the OpenAPI document.
//! - `cargo xtask advisories`: `Cargo.lock` against the RustSec database (live, else the vendored snapshot).
//! - `cargo xtask dist`: the reproducible release tarball and its checksums in `dist/`.
//! - `cargo xtask bench`: throughput of the gateway against a bare axum server, in the same run.

mod advisories;
mod api_fuzz;
mod bench;
mod bench_realtime;
mod bench_tls;
mod ci;
mod config_docs;
mod dist;
mod openapi;
mod web;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("config-docs") => config_docs::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("web") => web::run(&args[1..]),
        Some("web-e2e") => web::e2e(),
        Some("dist") => dist::run(&args[1..]),
        Some("openapi") => openapi::run(&args[1..]),
        Some("api-fuzz") => api_fuzz::run(&args[1..]),
        Some("advisories") => advisories::run(),
        // Internal entry points used by `bench` once it has built release binaries.
        Some("bench-run") => bench::run_measurement(&args[1..]),
        Some("bare-server") => bench::bare_server(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | config-docs [--check] | web [--check] | web-e2e | dist | openapi [--check] | api-fuzz [--max-examples N] [--seed N] | advisories | bench [--seconds N] [--connections N]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}
