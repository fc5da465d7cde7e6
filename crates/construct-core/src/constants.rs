//! Limits and defaults shared by every layer.
//!
//! The names are those of the original gateway module so that readers of its documentation find them
//! here. Values that operators may change live in [`crate::config`]; these constants are the defaults and
//! the fallbacks.

/// Maximum request body size (64 KiB), the default per-route body limit. Prevents memory exhaustion.
pub const MAX_BODY_SIZE: usize = 65_536;

/// Default request timeout (30 s): the time a request may take to produce its response head. Also bounds
/// how long a client may take to send its request headers, which stops slow-loris attacks.
pub const REQUEST_TIMEOUT_SECS: u64 = 30;

/// Window of the per-client rate limiters, in seconds.
pub const RATE_LIMIT_WINDOW_SECS: u64 = 60;

/// Fallback number of distinct client keys a rate limiter tracks when `gateway.rate_limit_max_keys` is 0.
pub const RATE_LIMIT_MAX_KEYS_DEFAULT: usize = 10_000;

/// Fallback number of distinct idempotency keys retained when `gateway.idempotency_max_keys` is 0.
pub const IDEMPOTENCY_MAX_KEYS_DEFAULT: usize = 10_000;

/// Default listening port.
pub const DEFAULT_PORT: u16 = 42_617;

/// Default listening host: loopback only.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// How long a graceful shutdown waits for in-flight requests before closing connections.
pub const SHUTDOWN_DRAIN_SECS: u64 = 10;

/// Default cap on connections served at once.
pub const MAX_CONNECTIONS_DEFAULT: usize = 1_024;

/// Longest accepted request timeout, in seconds. Longer values are almost certainly mistakes, and
/// durations near `u64::MAX` would overflow deadline arithmetic.
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 3_600;

/// Environment variable that overrides the request timeout.
pub const TIMEOUT_ENV: &str = "CONSTRUCT_GATEWAY_TIMEOUT_SECS";

/// Reads the gateway request timeout from `CONSTRUCT_GATEWAY_TIMEOUT_SECS` at runtime, falling back to
/// [`REQUEST_TIMEOUT_SECS`] when the variable is unset or not a positive integer.
///
/// This is the lenient reader the original module offered. Configuration loading
/// ([`crate::config::load`]) is strict instead: there, a malformed or zero value is a startup error.
pub fn gateway_request_timeout_secs() -> u64 {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|raw| parse_timeout_secs(&raw).ok())
        .unwrap_or(REQUEST_TIMEOUT_SECS)
}

/// Parses a timeout in whole seconds: 1 to [`MAX_REQUEST_TIMEOUT_SECS`]. Zero is refused because it would
/// turn every request into a 408.
pub fn parse_timeout_secs(raw: &str) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(secs) => check_timeout_secs(secs).map(|()| secs),
        Err(_) => Err(format!("expected a whole number of seconds, got {raw:?}")),
    }
}

/// Checks a timeout is within 1 to [`MAX_REQUEST_TIMEOUT_SECS`] seconds.
pub fn check_timeout_secs(secs: u64) -> Result<(), String> {
    match secs {
        0 => Err("must be at least 1 second (0 would time out every request)".to_owned()),
        s if s > MAX_REQUEST_TIMEOUT_SECS => {
            Err(format!("must be at most {MAX_REQUEST_TIMEOUT_SECS} seconds, got {s}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_values() {
        assert_eq!(MAX_BODY_SIZE, 64 * 1024);
        assert_eq!(REQUEST_TIMEOUT_SECS, 30);
        assert_eq!(RATE_LIMIT_WINDOW_SECS, 60);
        assert_eq!(RATE_LIMIT_MAX_KEYS_DEFAULT, 10_000);
        assert_eq!(IDEMPOTENCY_MAX_KEYS_DEFAULT, 10_000);
    }

    #[test]
    fn timeout_parsing_rejects_zero_and_garbage() {
        assert_eq!(parse_timeout_secs(" 45 "), Ok(45));
        assert!(parse_timeout_secs("0").unwrap_err().contains("at least 1"));
        assert!(parse_timeout_secs("thirty").is_err());
        assert!(parse_timeout_secs("-1").is_err());
        assert!(parse_timeout_secs("3601").unwrap_err().contains("at most"));
        assert!(parse_timeout_secs("10000000000000000000").is_err());
        assert_eq!(parse_timeout_secs("3600"), Ok(3600));
    }
}
