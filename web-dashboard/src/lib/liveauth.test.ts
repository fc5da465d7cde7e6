import { afterEach, describe, expect, it, vi } from "vitest";
import { sessionGone } from "./liveauth";

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("sessionGone", () => {
  it("is true when the gateway answers 401", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(401, { error: "no", code: "UNAUTHORIZED" })));
    expect(await sessionGone()).toBe(true);
  });
  it("is false while signed in, and when the gateway cannot be reached or refuses for another reason", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(200, { authenticated: true, principal: "p", scopes: [] })));
    expect(await sessionGone()).toBe(false);
    vi.stubGlobal("fetch", vi.fn(async () => answer(403, { error: "scope", code: "FORBIDDEN" })));
    expect(await sessionGone()).toBe(false);
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
    expect(await sessionGone()).toBe(false);
  });
});
