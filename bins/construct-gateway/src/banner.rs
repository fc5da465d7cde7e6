//! The startup banner on stdout: where the gateway is, where its data is, and how to pair.

use std::path::Path;

use construct_gateway::Listening;

/// What the banner shows.
pub struct Banner<'a> {
    /// What the gateway reported once bound.
    pub listening: &'a Listening,
    /// The config file read, if any.
    pub config_file: Option<&'a Path>,
}

impl Banner<'_> {
    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.listening.addr, self.listening.prefix)
    }

    /// The banner's lines.
    pub fn lines(&self) -> Vec<String> {
        let config = self
            .config_file
            .map_or_else(|| "(none: built-in defaults)".to_owned(), |p| p.display().to_string());
        let pairing = match (self.listening.require_pairing, self.listening.paired) {
            (false, _) => "DISABLED: every request is accepted without a token",
            (true, true) => "required; a device is paired",
            (true, false) => "required; no device paired yet",
        };
        vec![
            format!("Construct Gateway {}", env!("CARGO_PKG_VERSION")),
            format!("  Listening:   {}", self.url()),
            format!("  Health:      {}/health", self.url()),
            format!("  Data dir:    {}", self.listening.data_dir.display()),
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
        let listening = Listening {
            addr: "[::1]:8080".parse().expect("addr"),
            prefix: "/construct".into(),
            data_dir: "/data".into(),
            require_pairing: false,
            paired: false,
        };
        let banner = Banner { listening: &listening, config_file: None };
        let text = banner.lines().join("\n");
        assert!(text.contains("Listening:   http://[::1]:8080/construct"), "{text}");
        assert!(text.contains("DISABLED"), "{text}");
        assert!(text.contains("built-in defaults"), "{text}");
    }
}
