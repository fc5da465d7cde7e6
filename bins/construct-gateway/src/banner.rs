//! The startup banner on stdout: where the gateway is, where its data is, and how to pair.

use std::net::SocketAddr;
use std::path::Path;

/// What the banner shows.
pub struct Banner<'a> {
    /// The bound address (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The path prefix, or "".
    pub prefix: &'a str,
    /// The data directory.
    pub data_dir: &'a Path,
    /// The config file read, if any.
    pub config_file: Option<&'a Path>,
    /// Whether pairing is required.
    pub require_pairing: bool,
    /// Whether a device is already paired.
    pub paired: bool,
}

impl Banner<'_> {
    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.prefix)
    }

    /// The banner's lines.
    pub fn lines(&self) -> Vec<String> {
        let config = self
            .config_file
            .map_or_else(|| "(none: built-in defaults)".to_owned(), |p| p.display().to_string());
        let pairing = match (self.require_pairing, self.paired) {
            (false, _) => "DISABLED: every request is accepted without a token",
            (true, true) => "required; a device is paired",
            (true, false) => "required; no device paired yet",
        };
        vec![
            format!("Construct Gateway {}", env!("CARGO_PKG_VERSION")),
            format!("  Listening:   {}", self.url()),
            format!("  Health:      {}/health", self.url()),
            format!("  Data dir:    {}", self.data_dir.display()),
            format!("  Config file: {config}"),
            format!("  Pairing:     {pairing}"),
            "Press Ctrl+C to stop.".to_owned(),
        ]
    }
}

/// Prints the banner to stdout.
pub fn print(banner: &Banner<'_>) {
    for line in banner.lines() {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_url_with_prefix_and_pairing_state() {
        let banner = Banner {
            addr: "[::1]:8080".parse().expect("addr"),
            prefix: "/construct",
            data_dir: Path::new("/data"),
            config_file: None,
            require_pairing: false,
            paired: false,
        };
        let text = banner.lines().join("\n");
        assert!(text.contains("Listening:   http://[::1]:8080/construct"), "{text}");
        assert!(text.contains("DISABLED"), "{text}");
        assert!(text.contains("built-in defaults"), "{text}");
    }
}
