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
        format!("{}://{}{}", self.listening.scheme, self.listening.addr, self.listening.prefix)
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
        let mut lines = vec![
            format!("Construct Gateway {}", env!("CARGO_PKG_VERSION")),
            format!("  Listening:   {}", self.url()),
            format!("  Health:      {}/health", self.url()),
            format!("  Data dir:    {}", self.listening.data_dir.display()),
            format!("  Config file: {config}"),
            format!("  Pairing:     {pairing}"),
            format!("  TLS:         {}", self.listening.tls),
        ];
        if let Some(metrics) = self.listening.metrics {
            lines.push(format!("  Metrics:     http://{metrics}/metrics (no credentials; loopback only)"));
        }
        if let Some(code) = &self.listening.pairing_code {
            let rule = "-".repeat(code.len() + 4);
            lines.extend([
                format!("  +{rule}+"),
                format!("  |  {code}  |   one-time pairing code"),
                format!("  +{rule}+"),
                format!("  Pair: POST {}/pair with header X-Pairing-Code: {code}", self.url()),
                "  New code later: construct-gateway pair-code --new".to_owned(),
            ]);
        }
        lines.push("Press Ctrl+C to stop.".to_owned());
        lines
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
            pairing_code: None,
            scheme: "http",
            tls: "off",
            metrics: None,
        };
        let banner = Banner { listening: &listening, config_file: None };
        let text = banner.lines().join("\n");
        assert!(text.contains("Listening:   http://[::1]:8080/construct"), "{text}");
        assert!(text.contains("DISABLED"), "{text}");
        assert!(text.contains("built-in defaults"), "{text}");
        assert!(!text.contains("X-Pairing-Code"), "{text}");

        let unpaired = Listening { require_pairing: true, pairing_code: Some("042917".into()), ..listening };
        let text = Banner { listening: &unpaired, config_file: None }.lines().join("\n");
        assert!(text.contains("|  042917  |"), "{text}");
        assert!(
            text.contains("POST http://[::1]:8080/construct/pair with header X-Pairing-Code: 042917"),
            "{text}"
        );

        let secure = Listening { scheme: "https", tls: "mtls-required", ..unpaired };
        let text = Banner { listening: &secure, config_file: None }.lines().join("\n");
        assert!(text.contains("Listening:   https://[::1]:8080/construct"), "{text}");
        assert!(text.contains("TLS:         mtls-required"), "{text}");
        assert!(!text.contains("Metrics:"), "{text}");

        let measured = Listening { metrics: Some("127.0.0.1:9464".parse().expect("addr")), ..secure };
        let text = Banner { listening: &measured, config_file: None }.lines().join(
            "
",
        );
        assert!(text.contains("Metrics:     http://127.0.0.1:9464/metrics"), "{text}");
    }
}
