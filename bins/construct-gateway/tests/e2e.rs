//! The real binary on real sockets: start, answer, stop on SIGTERM, refuse what it must refuse.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_construct-gateway");

/// A command with a clean environment: only PATH, and HOME pointing into the test's own directory.
fn command(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("RUST_LOG", "info");
    cmd
}

struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the gateway on an ephemeral loopback port and waits for the banner's address.
fn start(home: &Path, extra: &[&str]) -> Running {
    let mut child = command(home)
        .args(["--port", "0", "--data-dir"])
        .arg(home.join("data"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gateway");
    let addr = banner_address(&mut child);
    Running { child, addr }
}

/// The address the banner of `child` (a starting gateway with piped stdout) says it listens on.
fn banner_address(child: &mut Child) -> SocketAddr {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("Listening:") {
                let url = url.trim();
                let host =
                    url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or(url);
                let _ = tx.send(host.to_owned());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("banner with address").parse().expect("socket address")
}

fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, &[])
}

fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    http_with_body(addr, method, path, headers, "")
}

fn http_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let length = body.len();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    )
    .expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let status = raw.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn sigterm(child: &Child) {
    signal(child, "-TERM");
}

fn signal(child: &Child, which: &str) {
    let status = Command::new("kill").args([which, &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
}

fn wait_with_deadline(child: &mut Child, deadline: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(start.elapsed() < deadline, "gateway did not exit within {deadline:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(home).args(args).envs(env.iter().copied()).output().expect("run")
}

/// Pairs the first device of the gateway at `addr` (data under `home/data`) as an operator does: the
/// code from `pair-code`, then `POST /pair`. Its token.
fn pair_first(home: &Path, addr: SocketAddr) -> String {
    let data = home.join("data");
    let port = addr.port().to_string();
    let out = run(home, &["pair-code", "--port", &port, "--data-dir", data.to_str().expect("utf8")], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
    let (status, body) = http(addr, "POST", "/pair", &[("X-Pairing-Code", &code)]);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

#[test]
fn serves_health_and_exits_zero_on_sigterm() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut gw = start(home.path(), &[]);
    assert!(gw.addr.ip().is_loopback());

    let (status, body) = http_get(gw.addr, "/health");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["require_pairing"], true);

    let (status, body) = http_get(gw.addr, "/api/nope");
    assert_eq!(status, 404);
    assert!(body.contains("\"NOT_FOUND\""), "{body}");

    sigterm(&gw.child);
    let exit = wait_with_deadline(&mut gw.child, Duration::from_secs(15));
    assert_eq!(exit.code(), Some(0), "{exit:?}");

    let data = home.path().join("data");
    assert!(data.is_dir(), "data dir created");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&data).expect("meta").permissions().mode() & 0o777, 0o700);
    }
}

#[test]
fn public_bind_is_refused_without_allow_public_bind() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = home.path().join("data");
    let out = run(
        home.path(),
        &["--host", "0.0.0.0", "--port", "0", "--data-dir", data.to_str().expect("utf8")],
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("allow_public_bind"), "{stderr}");
}

#[test]
fn slow_headers_are_cut_off() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("gateway.toml");
    std::fs::write(&config, "[gateway]\nrequest_timeout_secs = 1\n").expect("write config");
    let gw = start(home.path(), &["--config", config.to_str().expect("utf8")]);

    // A silent client, one that stops mid-head, and one that starts an HTTP/2 preface: all are cut off
    // within the 1 s timeout (allowing generous slack for a loaded machine), none is answered.
    for opening in [&b""[..], b"GET /health HTTP/1.1\r\nHost: x\r\n", b"PRI * HTTP/2.0\r\n"] {
        let started = std::time::Instant::now();
        let mut stream = TcpStream::connect(gw.addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        stream.write_all(opening).expect("write");
        let mut buf = Vec::new();
        match stream.read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(8), "cut off only after {waited:?}");
        let text = String::from_utf8_lossy(&buf);
        assert!(!text.contains("200 OK"), "an incomplete request was answered: {text}");
    }

    // The server is still healthy for well-behaved clients.
    assert_eq!(http_get(gw.addr, "/health").0, 200);
}

#[test]
fn config_check_prints_the_effective_config() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("gateway.toml");
    std::fs::write(&config, "[gateway]\nport = 5555\nprot = 1\n").expect("write");
    let out = run(
        home.path(),
        &["config", "check", "--config", config.to_str().expect("utf8")],
        &[("CONSTRUCT_REQUIRE_PAIRING", "yes")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("port = 5555"), "{stdout}");
    assert!(stdout.contains("require_pairing = true"), "{stdout}");
    assert!(stdout.contains("`gateway.prot`"), "unknown key reported: {stdout}");
}

#[test]
fn config_check_fails_naming_the_key_or_variable() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("bad.toml");
    std::fs::write(&config, "[gateway]\nmax_body_bytes = -1\n").expect("write");
    let out = run(home.path(), &["config", "check", "--config", config.to_str().expect("utf8")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gateway.max_body_bytes"));

    let out = run(home.path(), &["config", "check"], &[("CONSTRUCT_REQUIRE_PAIRING", "ture")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONSTRUCT_REQUIRE_PAIRING"));

    let out = run(home.path(), &["config", "check", "--host", "0.0.0.0"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gateway.allow_public_bind"));

    let out = run(home.path(), &["config", "check"], &[("CONSTRUCT_GATEWAY_TIMEOUT_SECS", "0")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONSTRUCT_GATEWAY_TIMEOUT_SECS"));
}

#[test]
fn version_flag() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = run(home.path(), &["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("construct-gateway {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_and_the_manual_come_from_the_command_line_itself() {
    let home = tempfile::tempdir().unwrap();
    for (shell, marker) in
        [("bash", "complete -F"), ("zsh", "#compdef construct-gateway"), ("fish", "complete -c")]
    {
        let out = run(home.path(), &["completions", shell], &[]);
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script:.200}");
        for sub in ["pair-code", "doctor", "token", "kumiho", "completions"] {
            assert!(script.contains(sub), "{shell} completes `{sub}`");
        }
    }
    assert!(!run(home.path(), &["completions", "tcsh"], &[]).status.success(), "an unknown shell is refused");
    let out = run(home.path(), &["man"], &[]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH construct-gateway 1"), "{page:.200}");
    for part in [".SH SUBCOMMANDS", "pair\\-code", "\\-\\-data\\-dir"] {
        assert!(page.contains(part), "the manual has {part}");
    }
    assert!(!home.path().join(".construct").exists(), "neither touches the data directory");
}

#[test]
fn metrics_listen_serves_metrics_without_credentials_on_loopback_only() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("gateway.toml");
    std::fs::write(&config, "[gateway]\nmetrics_listen = \"127.0.0.1:0\"\n").unwrap();
    let mut child = command(home.path())
        .args(["--port", "0", "--data-dir"])
        .arg(home.path().join("data"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            for key in ["Listening:", "Metrics:"] {
                if let Some(rest) = line.trim().strip_prefix(key) {
                    let url = rest.trim().trim_start_matches("http://");
                    let _ = tx.send((key, url.split(['/', ' ']).next().unwrap_or("").to_owned()));
                }
            }
        }
    });
    let mut found = std::collections::HashMap::new();
    while found.len() < 2 {
        let (key, value) = rx.recv_timeout(Duration::from_secs(30)).expect("banner lines");
        found.insert(key, value.parse::<SocketAddr>().unwrap());
    }
    let gw = Running { child, addr: found["Listening:"] };
    let metrics = found["Metrics:"];
    assert!(metrics.ip().is_loopback() && metrics.port() != 0 && metrics.port() != gw.addr.port());

    assert_eq!(http_get(gw.addr, "/health").0, 200);
    assert_eq!(http_get(gw.addr, "/metrics").0, 401, "the main listener wants an admin");
    let (status, body) = http_get(metrics, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("construct_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1"),
        "{body}"
    );
    assert!(body.contains("construct_store_operation_duration_seconds_count{store=\"devices\"}"), "{body}");
    assert_eq!(http_get(metrics, "/api/status").0, 404, "nothing else is served there");

    std::fs::write(&config, "[gateway]\nmetrics_listen = \"0.0.0.0:9464\"\n").unwrap();
    let out = run(home.path(), &["--config", config.to_str().unwrap(), "config", "check"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("gateway.metrics_listen"));
}

#[test]
fn paired_tokens_survive_a_restart_and_only_their_hashes_touch_disk() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = home.path().join("data");
    let mut gw = start(home.path(), &[]);
    let port = gw.addr.port().to_string();

    // The operator reads the code with the CLI, which asks the gateway over loopback.
    let out =
        run(home.path(), &["pair-code", "--port", &port, "--data-dir", data.to_str().expect("utf8")], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).expect("utf8").trim().to_owned();
    assert_eq!(code.len(), 6, "{code}");

    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).expect("json");
    let (status, body) = http(gw.addr, "POST", "/pair", &[("X-Pairing-Code", &code)]);
    assert_eq!(status, 200, "{body}");
    let paired = json(&body);
    let first = paired["token"].as_str().expect("token").to_owned();
    let device_id = paired["device_id"].as_str().expect("id").to_owned();
    assert_eq!(http(gw.addr, "GET", "/api/status", &[("Authorization", &format!("Bearer {first}"))]).0, 200);
    assert_eq!(http(gw.addr, "GET", "/api/status", &[]).0, 401);

    // Rotate with an idempotency key: the new token must not end up stored for replay.
    let (status, body) = http(
        gw.addr,
        "POST",
        &format!("/api/devices/{device_id}/token/rotate"),
        &[("Authorization", &format!("Bearer {first}")), ("Idempotency-Key", "rotate-1")],
    );
    assert_eq!(status, 200, "{body}");
    let token = json(&body)["token"].as_str().expect("token").to_owned();
    let bearer = format!("Bearer {token}");
    let tokens = [first.clone(), token.clone()];

    // While the gateway runs (WAL not yet checkpointed), and again after it stops: no token on disk.
    assert_no_plaintext(&data, &tokens);
    sigterm(&gw.child);
    assert_eq!(wait_with_deadline(&mut gw.child, Duration::from_secs(15)).code(), Some(0));
    drop(gw);
    assert_no_plaintext(&data, &tokens);

    let gw = start(home.path(), &[]);
    let (status, body) = http(gw.addr, "GET", "/api/status", &[("Authorization", &bearer)]);
    assert_eq!(status, 200, "the token survived the restart: {body}");
    assert_eq!(http(gw.addr, "GET", "/api/status", &[("Authorization", &format!("Bearer {first}"))]).0, 401);
    let (_, health) = http_get(gw.addr, "/health");
    assert!(health.contains("\"paired\":true"), "{health}");
    // The code was single use.
    assert_eq!(http(gw.addr, "POST", "/pair", &[("X-Pairing-Code", &code)]).0, 403);
}

/// No file under `dir` (database, WAL, anything) contains any of `tokens`.
fn assert_no_plaintext(dir: &Path, tokens: &[String]) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).expect("read_dir").map(|e| e.expect("entry").path()));
        } else {
            let bytes = std::fs::read(&path).expect("read");
            for token in tokens {
                let secret = token.trim_start_matches("cgw_").as_bytes();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret),
                    "a token was found in {}",
                    path.display()
                );
            }
        }
    }
}

/// A one-thread HTTP server recording each request's head and body and answering 200 `{}`.
fn fake_channel_api() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake API");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            let _ = tx.send((head, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (url, rx)
}

/// A model provider that accepts connections and never answers.
fn stalling_provider() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake provider");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    url
}

fn signed_whatsapp(addr: SocketAddr, secret: &str, body: &str) -> (u16, String) {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let signature = format!("sha256={}", hex::encode(ring::hmac::sign(&key, body.as_bytes())));
    let headers = [("X-Hub-Signature-256", signature.as_str()), ("Content-Type", "application/json")];
    http_with_body(addr, "POST", "/whatsapp", &headers, body)
}

#[test]
fn a_whatsapp_delivery_accepted_before_sigterm_is_answered_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (graph, replies) = fake_channel_api();
    let config = |provider: &str| {
        format!(
            "{provider}\n[channels_config.whatsapp]\naccess_token = \"graph-token\"\nphone_number_id = \"555\"\n\
             verify_token = \"v\"\napp_secret = \"app-secret\"\nallowed_numbers = [\"*\"]\napi_base_url = \"{graph}\"\n"
        )
    };
    let stalling = format!("[provider]\nkind = \"openai\"\nbase_url = \"{}\"\n", stalling_provider());
    std::fs::write(dir.path().join("stall.toml"), config(&stalling)).expect("config");
    std::fs::write(dir.path().join("echo.toml"), config("[provider]\nkind = \"echo\"\n")).expect("config");
    let stall_config = dir.path().join("stall.toml");
    let mut first = start(dir.path(), &["--config", stall_config.to_str().expect("utf-8")]);

    let body = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"15550100000","id":"wamid.E2E","type":"text","text":{"body":"still there"}}]}}]}]}"#;
    let (status, answer) = signed_whatsapp(first.addr, "wrong-secret", body);
    assert_eq!(status, 401, "{answer}");
    let accepted = |n: u64| (200, serde_json::json!({"status": "ok", "accepted": n}));
    let (status, answer) = signed_whatsapp(first.addr, "app-secret", body);
    assert_eq!((status, serde_json::from_str(&answer).expect("JSON")), accepted(1));
    // The provider never answers; SIGTERM interrupts the turn, and the delivery is kept for the next start.
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&first.child);
    let exit = wait_with_deadline(&mut first.child, Duration::from_secs(40));
    assert!(exit.success(), "{exit:?}");
    assert!(replies.try_recv().is_err(), "nothing was sent for the interrupted turn");

    let echo_config = dir.path().join("echo.toml");
    let second = start(dir.path(), &["--config", echo_config.to_str().expect("utf-8")]);
    let (head, reply) = replies.recv_timeout(Duration::from_secs(30)).expect("the reply after the restart");
    assert!(head.starts_with("POST /555/messages HTTP/1.1"), "{head}");
    assert!(head.to_ascii_lowercase().contains("authorization: bearer graph-token"), "{head}");
    let reply: serde_json::Value = serde_json::from_str(&reply).expect("JSON reply");
    assert_eq!(reply["to"], "15550100000");
    assert_eq!(reply["text"]["body"], "still there");
    // The provider retrying the same delivery now is a duplicate: accepted, not answered twice.
    let (status, answer) = signed_whatsapp(second.addr, "app-secret", body);
    assert_eq!((status, serde_json::from_str(&answer).expect("JSON")), accepted(0));
    assert!(replies.recv_timeout(Duration::from_millis(500)).is_err());
}

/// Reads a streaming response until `needle` appears; returns what was read.
fn read_stream_until(addr: SocketAddr, path: &str, headers: &[(&str, &str)], needle: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n").expect("write");
    let mut seen = String::new();
    let mut buffer = [0u8; 4096];
    while !seen.contains(needle) {
        let n = stream.read(&mut buffer).unwrap_or(0);
        if n == 0 {
            break;
        }
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    seen
}

#[test]
fn the_daemon_log_is_served_to_admins_as_server_sent_events() {
    let home = tempfile::tempdir().expect("tempdir");
    let gw = start(home.path(), &[]);
    let token = pair_first(home.path(), gw.addr);
    assert_eq!(http(gw.addr, "GET", "/api/daemon/logs", &[]).0, 401);
    // The log holds the startup lines, replayed from the ring: the listening address among them.
    let bearer = format!("Bearer {token}");
    let seen = read_stream_until(gw.addr, "/api/daemon/logs", &[("Authorization", &bearer)], "listening");
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(seen.contains("event: log"), "{seen}");
    assert!(seen.contains(r#""type":"log""#), "{seen}");
    assert!(!seen.contains(&token), "no token in the log");
}

#[test]
fn kumiho_serve_shares_the_embedded_store_with_a_remote_mode_gateway() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut kumiho = command(home.path())
        .args(["kumiho", "serve", "--port", "0", "--token", "shared-kumiho-token", "--data-dir"])
        .arg(home.path().join("kumiho-data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kumiho serve");
    let stdout = kumiho.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.trim().strip_prefix("Kumiho listening:") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(30)).expect("kumiho serve printed its address");
    let addr: SocketAddr = url.trim_start_matches("http://").parse().expect("address");
    assert_eq!(http(addr, "GET", "/api/v1/projects", &[]).0, 401, "the token is required");
    let (status, body) = http(addr, "GET", "/api/v1/projects", &[("X-Kumiho-Token", "shared-kumiho-token")]);
    assert_eq!((status, body.as_str()), (200, "[]"));

    // A gateway in remote mode reaches it through its proxy, with the token from the environment.
    let config = home.path().join("remote.toml");
    std::fs::write(&config, format!("[kumiho]\nmode = \"remote\"\napi_url = \"{url}\"\n")).expect("config");
    let mut gateway = command(home.path())
        .env("KUMIHO_SERVICE_TOKEN", "shared-kumiho-token")
        .args(["--port", "0", "--data-dir"])
        .arg(home.path().join("data"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gateway");
    let gw = banner_address(&mut gateway);
    let token = pair_first(home.path(), gw);
    let (status, body) =
        http(gw, "GET", "/api/kumiho/projects", &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!((status, body.as_str()), (200, "[]"), "{body}");
    let _ = gateway.kill();
    let _ = gateway.wait();
    sigterm(&kumiho);
    assert!(wait_with_deadline(&mut kumiho, Duration::from_secs(15)).success());
}

/// `GET path` over TLS trusting only `ca`; the status code, or the TLS error.
fn https_get(addr: SocketAddr, ca: &construct_tls::testing::Authority, path: &str) -> Result<u16, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    write!(tls, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    let _ = tls.read_to_string(&mut raw);
    raw.split(' ').nth(1).and_then(|code| code.parse().ok()).ok_or_else(|| format!("no HTTP answer: {raw:?}"))
}

#[test]
fn https_is_served_and_sighup_reloads_the_certificate_without_stopping() {
    use construct_tls::testing::{Authority, Usage};
    let home = tempfile::tempdir().unwrap();
    let first = Authority::new("First CA");
    let (cert, key) = first.issue("localhost", &["localhost"], Usage::Server).write(home.path(), "server");
    let config = home.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[gateway.tls]\nenabled = true\ncert_path = {:?}\nkey_path = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        ),
    )
    .unwrap();
    let mut gw = start(home.path(), &["--config", config.to_str().unwrap()]);
    assert_eq!(https_get(gw.addr, &first, "/health"), Ok(200));
    // SIGHUP neither kills the gateway (the default action would) nor drops the certificate in force.
    signal(&gw.child, "-HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(gw.child.try_wait().unwrap().is_none(), "still running after SIGHUP");
    assert_eq!(https_get(gw.addr, &first, "/health"), Ok(200));
    // New files, then SIGHUP: the new certificate is served.
    let second = Authority::new("Second CA");
    second.issue("localhost", &["localhost"], Usage::Server).write(home.path(), "server");
    signal(&gw.child, "-HUP");
    let mut served = Err(String::new());
    for _ in 0..50 {
        served = https_get(gw.addr, &second, "/health");
        if served.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served, Ok(200));
    sigterm(&gw.child);
    assert!(wait_with_deadline(&mut gw.child, Duration::from_secs(20)).success());
}

#[test]
fn tls_files_that_cannot_be_used_stop_startup_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("gateway.toml");
    let missing = home.path().join("missing.crt");
    std::fs::write(
        &config,
        format!(
            "[gateway.tls]\nenabled = true\ncert_path = {:?}\nkey_path = {:?}\n",
            missing.display().to_string(),
            missing.display().to_string()
        ),
    )
    .unwrap();
    let out = run(
        home.path(),
        &[
            "--port",
            "0",
            "--data-dir",
            home.path().join("data").to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certificate file")
            && stderr.contains("missing.crt")
            && stderr.contains("cannot be read"),
        "{stderr}"
    );
}

#[test]
fn headless_tokens_are_created_listed_and_revoked_while_the_gateway_runs() {
    let home = tempfile::tempdir().unwrap();
    let gw = start(home.path(), &[]);
    let data = home.path().join("data");
    let data = data.to_str().unwrap();
    let out = run(
        home.path(),
        &["token", "create", "--name", "ci runner", "--scopes", "read,chat", "--data-dir", data],
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(!token.is_empty() && !token.contains(' '), "only the token on stdout: {token:?}");
    let bearer = format!("Bearer {token}");
    let status_with = |auth: &str| http(gw.addr, "GET", "/api/status", &[("Authorization", auth)]).0;
    let eventually = |want: u16| {
        (0..40).any(|_| {
            let got = status_with(&bearer) == want;
            if !got {
                std::thread::sleep(Duration::from_millis(100));
            }
            got
        })
    };
    assert!(eventually(200), "the new token works on the running gateway");
    assert_eq!(
        http(gw.addr, "GET", "/api/config", &[("Authorization", &bearer)]).0,
        403,
        "read and chat only"
    );

    let listed = run(home.path(), &["token", "list", "--data-dir", data], &[]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    let line = listed.lines().find(|l| l.contains("\tci runner\t")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("\tchat,read\t") || line.contains("\tread,chat\t"), "{line}");
    assert!(!listed.contains(&token), "list never shows tokens");
    let id = line.split('\t').next().unwrap();

    let revoked = run(home.path(), &["token", "revoke", id, "--data-dir", data], &[]);
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    assert!(eventually(401), "a revoked token stops working");
    let again = run(home.path(), &["token", "revoke", id, "--data-dir", data], &[]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("no device"));
    let bad = run(
        home.path(),
        &["token", "create", "--name", "x", "--scopes", "read,root", "--data-dir", data],
        &[],
    );
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--scopes"));
    assert_no_plaintext(&home.path().join("data"), &[token]);
}

#[test]
fn doctor_reports_findings_and_exits_with_the_worst() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let data = data.to_str().unwrap();
    let clean = home.path().join("clean.toml");
    std::fs::write(&clean, "[provider]\nkind = \"echo\"\n").unwrap();
    let out = run(home.path(), &["doctor", "--config", clean.to_str().unwrap(), "--data-dir", data], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("[ok] kumiho") && text.contains("0 errors"), "{text}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let risky = home.path().join("risky.toml");
    std::fs::write(
        &risky,
        format!(
            "[gateway]\nhost = \"0.0.0.0\"\nallow_public_bind = true\n\n[terminal]\nenabled = true\n\n[provider]\nbase_url = \"http://{closed}/v1\"\n"
        ),
    )
    .unwrap();
    let out = run(home.path(), &["doctor", "--config", risky.to_str().unwrap(), "--data-dir", data], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    for expected in ["[ERROR] tls", "[ERROR] terminal", "[ERROR] provider", "[WARN] bind", "fix:"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
}

#[test]
fn a_broken_store_answers_store_unavailable_where_it_is_needed() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = home.path().join("data");
    let gw = start(home.path(), &[]);
    let token = pair_first(home.path(), gw.addr);
    let bearer = format!("Bearer {token}");
    let auth = ("Authorization", bearer.as_str());
    let json = ("Content-Type", "application/json");
    let (status, body) =
        http_with_body(gw.addr, "POST", "/api/canvas/before", &[auth, json], r#"{"content":"x"}"#);
    assert_eq!(status, 201, "{body}");

    // The SQLite file under the running gateway loses the tables of sessions, canvases and idempotency
    // records (the device tables stay, so the credential still works).
    let db = rusqlite::Connection::open(data.join("gateway.db")).expect("open the store");
    db.execute_batch(
        "DROP TABLE session_messages; DROP TABLE sessions; DROP TABLE canvas_frames; DROP TABLE idempotency;",
    )
    .expect("drop tables");
    drop(db);

    let answers = [
        http(gw.addr, "GET", "/api/sessions", &[auth]),
        http_with_body(gw.addr, "PUT", "/api/sessions/s1", &[auth, json], r#"{"name":"n"}"#),
        http(gw.addr, "GET", "/api/canvas/before", &[auth]),
        http_with_body(gw.addr, "POST", "/api/canvas/after", &[auth, json], r#"{"content":"y"}"#),
        http(gw.addr, "DELETE", "/api/canvas/after", &[auth, ("Idempotency-Key", "k-1")]),
    ];
    for (status, body) in answers {
        assert_eq!(status, 503, "{body}");
        let answer = serde_json::from_str::<serde_json::Value>(&body).expect("json");
        assert_eq!(answer["code"], "STORE_UNAVAILABLE", "one code for every store: {answer}");
        assert!(!body.contains("no such table"), "the cause stays in the log: {body}");
    }
    // Routes that need nothing else still answer.
    assert_eq!(http(gw.addr, "GET", "/api/status", &[auth]).0, 200);
}
