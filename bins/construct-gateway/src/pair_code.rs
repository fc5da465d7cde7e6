//! `construct-gateway pair-code [--new]`: asks the running gateway for its pairing code.
//!
//! The gateway answers these routes only to a direct loopback caller, so this speaks plain HTTP/1.1 to
//! 127.0.0.1 (or ::1) on the configured port: a dozen lines, not worth an HTTP client dependency.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, bail};
use construct_core::LoadedConfig;

/// Prints the active code (or a new one with `new`).
pub fn run(loaded: &LoadedConfig, new: bool) -> anyhow::Result<()> {
    let gateway = &loaded.config.gateway;
    let ip = match gateway.bind_ip() {
        Some(ip) if !ip.is_unspecified() => ip,
        Some(IpAddr::V6(_)) => IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
        _ => IpAddr::from([127, 0, 0, 1]),
    };
    let addr = SocketAddr::new(ip, gateway.port);
    let (method, path) = if new { ("POST", "/admin/paircode/new") } else { ("GET", "/admin/paircode") };
    let body = request(addr, method, &format!("{}{path}", gateway.prefix()))
        .with_context(|| format!("cannot reach the gateway on {addr}; is it running?"))?;
    let json: serde_json::Value = serde_json::from_str(&body).context("the gateway's answer is not JSON")?;
    if let Some(error) = json["error"].as_str() {
        bail!("{error}");
    }
    match json["pairing_code"].as_str() {
        Some(code) => println!("{code}"),
        None => bail!("{}", json["message"].as_str().unwrap_or("no pairing code is active")),
    }
    Ok(())
}

fn request(addr: SocketAddr, method: &str, path: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (_, body) = raw.split_once("\r\n\r\n").context("malformed HTTP response")?;
    Ok(body.to_owned())
}
