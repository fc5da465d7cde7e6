import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, basePath, errorMessage, hasScope, onUnauthorized, query, segment, wsUrl } from "./api";

function answer(status: number, body: unknown, statusText = ""): Response {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return new Response(text, { status, statusText, headers: { "Content-Type": "application/json" } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  onUnauthorized(null);
  document.head.innerHTML = "";
});

describe("basePath", () => {
  it("reads the prefix from the meta tag without a trailing slash", () => {
    document.head.innerHTML = '<meta name="construct-base" content="/construct/">';
    expect(basePath()).toBe("/construct");
  });
  it("is empty without the tag", () => {
    expect(basePath()).toBe("");
  });
});

describe("api", () => {
  it("sends JSON bodies with the cookie and the prefix, and parses the answer", async () => {
    document.head.innerHTML = '<meta name="construct-base" content="/gw">';
    const fetchMock = vi.fn(async (..._args: unknown[]) => answer(200, { ok: true }));
    vi.stubGlobal("fetch", fetchMock);
    const result = await api<{ ok: boolean }>("/api/x", { method: "POST", body: { a: 1 } });
    expect(result).toEqual({ ok: true });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/gw/api/x");
    expect(init.credentials).toBe("same-origin");
    expect(init.body).toBe('{"a":1}');
    expect(new Headers(init.headers).get("Content-Type")).toBe("application/json");
  });

  it("sends a string body as it is, with the given content type", async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => answer(200, { status: "ok" }));
    vi.stubGlobal("fetch", fetchMock);
    await api("/api/config", { method: "PUT", body: "a = 1\n", contentType: "application/toml" });
    const [, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(init.body).toBe("a = 1\n");
    expect(new Headers(init.headers).get("Content-Type")).toBe("application/toml");
  });

  it("turns an error envelope into ApiError with its code, message and body", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        answer(422, { error: "bad yaml", code: "INVALID_WORKFLOW", validation_errors: [{ message: "x", line: 3 }] }),
      ),
    );
    const caught = await api("/api/workflows").catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(ApiError);
    const error = caught as ApiError;
    expect(error.status).toBe(422);
    expect(error.code).toBe("INVALID_WORKFLOW");
    expect(error.message).toBe("bad yaml");
    expect(error.body.validation_errors).toEqual([{ message: "x", line: 3 }]);
    expect(errorMessage(error)).toBe("bad yaml (INVALID_WORKFLOW)");
  });

  it("names the status when the error body is not JSON", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(502, "<html>bad gateway</html>", "Bad Gateway")));
    const error = (await api("/api/x").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("HTTP_502");
    expect(error.message).toBe("Bad Gateway");
  });

  it("reports a network failure as status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const error = (await api("/api/x").catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(0);
    expect(errorMessage(error)).toBe("The gateway could not be reached");
  });

  it("tells the app about a 401, except for the session probe itself", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(401, { error: "no", code: "UNAUTHORIZED" })));
    const handler = vi.fn();
    onUnauthorized(handler);
    await api("/api/auth/session").catch(() => undefined);
    expect(handler).not.toHaveBeenCalled();
    await api("/api/status").catch(() => undefined);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("accepts an empty success body", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 204 })));
    expect(await api("/api/workflows/x", { method: "DELETE" })).toBeNull();
  });
});

describe("helpers", () => {
  it("builds query strings from the values that are set", () => {
    expect(query({ page: 2, q: "", kind: undefined, all: false, name: "a b" })).toBe("?page=2&all=false&name=a+b");
    expect(query({})).toBe("");
  });
  it("encodes path segments so an id cannot steer the path", () => {
    expect(segment("../admin?x=1")).toBe("..%2Fadmin%3Fx%3D1");
  });
  it("derives the WebSocket URL from the page", () => {
    expect(wsUrl("/ws/chat")).toMatch(/^wss?:\/\/[^/]+\/ws\/chat$/);
  });
  it("treats scopes as independent", () => {
    const session = { authenticated: true, principal: "p", scopes: ["read", "admin"] };
    expect(hasScope(session, "admin")).toBe(true);
    expect(hasScope(session, "chat")).toBe(false);
    expect(hasScope(session, "terminal")).toBe(false);
  });
});
