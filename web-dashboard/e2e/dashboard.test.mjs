// The dashboard end to end: Debian's Chromium (driven by playwright-core) against the real gateway binary
// with the echo provider (paced at 150 ms a word). Screenshots of every view go to $CONSTRUCT_E2E_OUT (default
// ../target/dashboard-e2e), with timings.json (first render of the app on loopback).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { startGateway } from "./gateway.mjs";

const OUT = process.env.CONSTRUCT_E2E_OUT ?? path.resolve(import.meta.dirname, "../../target/dashboard-e2e");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

let gateway;
let browser;
let context;
let page;
const problems = [];
const timings = {};

async function shot(name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
}

/** Calls the gateway from outside the browser with the browser's session cookie. */
async function withCookie(method, route, { origin, body } = {}) {
  const cookies = await context.cookies(gateway.url);
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const headers = { Cookie: cookie };
  if (origin !== undefined) {
    headers.Origin = origin;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(`${gateway.url}${route}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : null };
}

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  gateway = await startGateway();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on("dialog", (dialog) => void dialog.accept());
});

after(async () => {
  fs.writeFileSync(path.join(OUT, "timings.json"), `${JSON.stringify(timings, null, 2)}\n`);
  await browser?.close();
  if (gateway !== undefined) {
    fs.writeFileSync(path.join(OUT, "gateway.log"), gateway.log());
  }
  await gateway?.stop();
});

/** A step of the run; a failing one leaves a screenshot of the page as it was. */
function step(t, name, body) {
  return t.test(name, async () => {
    try {
      await body();
    } catch (error) {
      await page
        .screenshot({ path: path.join(OUT, `failed-${name.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true })
        .catch(() => undefined);
      throw error;
    }
  });
}

test("the dashboard, end to end", async (t) => {
  await step(t, "pairs with the code from the loopback helper and lands on the overview", async () => {
    const started = Date.now();
    await page.goto(gateway.url);
    await page.getByLabel("Pairing code").waitFor();
    timings.first_render_ms = Date.now() - started;
    timings.first_contentful_paint_ms = await page.evaluate(
      () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    );
    await shot("sign-in");
    await page.getByLabel("Pairing code").fill(await gateway.pairingCode());
    await page.getByRole("button", { name: "Pair this browser" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByText("Version").waitFor();
    const cookies = await context.cookies(gateway.url);
    const session = cookies.find((cookie) => cookie.name === "construct_session");
    assert.ok(session, "the session cookie is set");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Strict");
    assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read the session");
    assert.equal(await page.evaluate(() => window.localStorage.length), 0, "no token in localStorage");
  });

  await step(t, "a request with the cookie from a foreign Origin is refused", async () => {
    const foreign = await withCookie("GET", "/api/status", { origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.code, "ORIGIN_NOT_ALLOWED");
    const own = await withCookie("GET", "/api/status", { origin: gateway.url });
    assert.equal(own.status, 200);
  });

  await step(t, "chat streams the reply, and a reload resumes the session", async () => {
    await page.goto(`${gateway.url}/chat`);
    await page.getByLabel("Message").fill("hello from the browser");
    await page.getByRole("button", { name: "Send" }).click();
    const conversation = page.getByRole("log", { name: "Conversation" });
    await conversation.locator(".message.assistant").getByText("hello from the browser").waitFor();
    await shot("chat");
    await page.reload();
    await page
      .getByRole("log", { name: "Conversation" })
      .locator(".message.assistant")
      .getByText("hello from the browser")
      .waitFor();
  });

  await step(t, "a running turn can be cancelled", async () => {
    await page.getByLabel("Message").fill("please answer slowly one two three four five six seven eight nine");
    await page.getByRole("button", { name: "Send" }).click();
    const conversation = page.getByRole("log", { name: "Conversation" });
    const reply = conversation.locator(".message.assistant").last();
    await reply.getByText("please answer").waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    await conversation.getByText("Cancelled").waitFor();
    await page.waitForTimeout(1500);
    assert.doesNotMatch(await reply.innerText(), /eight nine/, "the stream stopped");
  });

  await step(t, "an agent created in the dashboard is listed", async () => {
    await page.goto(`${gateway.url}/agents`);
    await page.getByRole("button", { name: "New agent" }).click();
    // Required fields carry a visual "*" the accessible name leaves out.
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("e2e-reviewer");
    await page.getByRole("textbox", { name: "Identity", exact: true }).fill("Reviews what the test writes");
    await page.getByRole("textbox", { name: "Soul", exact: true }).fill("Careful and kind.");
    await page.getByRole("button", { name: "Create" }).click();
    const list = page.getByRole("region", { name: "Agents list" });
    await list.getByRole("button", { name: "e2e-reviewer" }).waitFor();
    await page.reload();
    await page.getByRole("region", { name: "Agents list" }).getByRole("button", { name: "e2e-reviewer" }).waitFor();
    await shot("agents");
  });

  await step(t, "the live view shows an event as it happens, and a canvas frame arrives live", async () => {
    await page.goto(`${gateway.url}/events`);
    await page.getByRole("heading", { name: "Live events" }).waitFor();
    const rendered = await withCookie("POST", "/api/canvas/e2e", {
      origin: gateway.url,
      body: { content_type: "html", content: "<h1>first frame</h1>" },
    });
    assert.equal(rendered.status, 201);
    await page.getByRole("list", { name: "Events" }).getByText("canvas_updated").first().waitFor();
    await shot("events");

    await page.goto(`${gateway.url}/canvas`);
    await page.getByRole("button", { name: "Open e2e" }).click();
    const frame = page.frameLocator('iframe[title="Canvas frame"]');
    await frame.getByText("first frame").waitFor();
    await withCookie("POST", "/api/canvas/e2e", {
      origin: gateway.url,
      body: {
        content_type: "html",
        content:
          "<h1>second frame</h1><script>let c; try { c = document.cookie } catch { c = 'blocked' } document.body.dataset.cookie = c</script>",
      },
    });
    await frame.getByText("second frame").waitFor();
    assert.equal(
      await frame.locator("body").getAttribute("data-cookie"),
      "blocked",
      "the frame's script runs, in an opaque origin without the viewer's cookies",
    );
    const sandbox = await page.locator('iframe[title="Canvas frame"]').getAttribute("sandbox");
    assert.equal(sandbox, "allow-scripts", "never allow-same-origin");
    await shot("canvas");
  });

  await step(t, "every view renders without errors, wide and phone-width", async () => {
    const views = [
      "dashboard", "chat", "events", "canvas", "nodes", "agents", "skills", "teams", "workflows", "runs",
      "assets", "memory", "pairing", "config", "cost", "logs", "audit", "doctor",
    ];
    const badges = {};
    for (const view of views) {
      await page.goto(`${gateway.url}/${view}`);
      await page.locator("main h1").first().waitFor();
      // The shared event stream stays up, even though its replay holds the cancelled turn's `error` event.
      await page.locator(".topbar .badge", { hasText: "live" }).waitFor();
      await page.waitForTimeout(300);
      await shot(`view-${view}`);
      badges[view] = await page.locator(".topbar .badge").innerText();
    }
    console.log("event stream state per view:", JSON.stringify(badges));
    await page.setViewportSize({ width: 375, height: 800 });
    for (const view of views) {
      await page.goto(`${gateway.url}/${view}`);
      await page.locator("main h1").first().waitFor();
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${view} fits a phone-width screen (overflows by ${overflow}px)`);
      await shot(`phone-${view}`);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${gateway.url}/dashboard`);
    await page.getByRole("button", { name: /Theme/ }).click();
    await page.getByRole("button", { name: /Theme/ }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await shot("dark-dashboard");
  });

  await step(t, "a device paired from the devices view (code and QR) with the terminal scope opens a shell", async () => {
    await page.goto(`${gateway.url}/pairing`);
    await page.getByRole("button", { name: "Pair a new device" }).click();
    await page.getByRole("checkbox", { name: "terminal" }).check();
    await page.getByRole("button", { name: "Generate pairing code" }).click();
    const code = (await page.getByLabel("Pairing code").innerText()).trim();
    assert.match(code, /^\d{6}$/);
    await page.getByRole("img", { name: "Pairing QR code" }).waitFor();
    await shot("pairing-code");

    const second = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const other = await second.newPage();
    other.setDefaultTimeout(10_000);
    other.on("pageerror", (error) => problems.push(`page error (second device): ${error.message}`));
    await other.goto(gateway.url);
    await other.getByLabel("Pairing code").fill(code);
    await other.getByLabel("Name this browser").fill("terminal-browser");
    await other.getByRole("button", { name: "Pair this browser" }).click();
    await other.getByRole("link", { name: "Terminal" }).click();
    await other.getByRole("button", { name: "Open terminal" }).click();
    const screen = other.getByRole("region", { name: "Terminal screen" });
    await screen.locator(".xterm").waitFor();
    await screen.locator(".xterm").click();
    await other.keyboard.type("echo e2e-$((6*7))\n");
    await screen.getByText("e2e-42", { exact: true }).waitFor();
    await other.screenshot({ path: path.join(OUT, "view-terminal.png"), fullPage: true });
    await second.close();

    // The admin's list shows the new device with its scopes, live.
    await page.getByRole("cell", { name: "read, chat, terminal" }).waitFor();
  });

  await step(t, "revoking this browser's own device signs it out", async () => {
    await page.goto(`${gateway.url}/pairing`);
    await page.getByRole("heading", { name: "Devices", exact: true }).waitFor();
    await page.getByRole("button", { name: "Revoke browser", exact: true }).click();
    await page.getByLabel("Pairing code").waitFor();
    const after = await withCookie("GET", "/api/auth/session", { origin: gateway.url });
    assert.equal(after.status, 401);
  });

  await step(t, "without pairing (loopback only) the dashboard opens as the local operator", async () => {
    const open = await startGateway({ gatewayKeys: "require_pairing = false" });
    const local = await browser.newContext();
    try {
      const other = await local.newPage();
      other.setDefaultTimeout(10_000);
      other.on("pageerror", (error) => problems.push(`page error (no pairing): ${error.message}`));
      await other.goto(open.url);
      await other.getByRole("heading", { name: "Overview" }).waitFor();
      assert.equal(await other.getByLabel("Pairing code").count(), 0, "no code asked for");
      assert.equal(await other.getByRole("button", { name: "Sign out" }).count(), 0, "nothing to sign out of");
      await other.getByText("local operator").waitFor();
      await other.screenshot({ path: path.join(OUT, "no-pairing.png"), fullPage: true });
    } finally {
      await local.close();
      await open.stop();
    }
  });

  await step(t, "no script errors or policy violations on any page", () => {
    assert.deepEqual(problems, []);
  });
});
