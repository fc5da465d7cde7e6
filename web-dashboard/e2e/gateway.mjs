// Starts the real gateway binary (CONSTRUCT_GATEWAY_BIN) on a free loopback port, in a scratch directory.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `gatewayKeys`: more `[gateway]` keys, as TOML lines. */
export async function startGateway({ gatewayKeys = "" } = {}) {
  const binary = process.env.CONSTRUCT_GATEWAY_BIN;
  if (!binary || !fs.existsSync(binary)) {
    throw new Error(`CONSTRUCT_GATEWAY_BIN must name the gateway binary (got ${binary ?? "nothing"})`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "construct-e2e-"));
  const port = await freePort();
  const config = path.join(dir, "gateway.toml");
  fs.writeFileSync(
    config,
    `[gateway]
host = "127.0.0.1"
port = ${port}
${gatewayKeys}

# The echo provider, paced so a turn can be watched while it streams and cancelled before it ends.
[provider]
kind = "echo"
echo_delay_ms = 150

[terminal]
enabled = true
shell = "/bin/sh"
`,
  );
  const log = fs.openSync(path.join(dir, "gateway.log"), "w");
  const child = spawn(binary, ["--config", config, "--data-dir", path.join(dir, "data")], {
    stdio: ["ignore", log, log],
    // The gateway warns about CONSTRUCT_* variables it does not know (such as this harness's own).
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CONSTRUCT_"))),
      HOME: dir,
      RUST_LOG: "info",
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (attempt > 200 || child.exitCode !== null) {
      throw new Error(`the gateway did not start:\n${fs.readFileSync(path.join(dir, "gateway.log"), "utf8")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    dir,
    log: () => fs.readFileSync(path.join(dir, "gateway.log"), "utf8"),
    async pairingCode() {
      const answer = await (await fetch(`${url}/pair/code`)).json();
      return answer.pairing_code;
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
