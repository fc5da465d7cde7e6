// Talks to the gateway that served the page. The browser holds an HttpOnly session cookie (set by
// POST /api/auth/login); no token is ever readable by scripts, and none is ever put in a URL.

/** The path prefix the gateway serves under (from the meta tag it fills in), without a trailing slash. */
export function basePath(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="construct-base"]');
  const base = meta?.content ?? "";
  return base.endsWith("/") ? base.slice(0, -1) : base;
}

/** An error envelope from the gateway (`{error, code, ...}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole error body, for fields such as `validation_errors` or `key`. */
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Called when the gateway answers 401: the session is gone (revoked, expired, signed out elsewhere). */
let unauthorizedHandler: (() => void) | null = null;
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

/** A query string from the defined, non-empty values of `params` ("" when there are none). */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text.length > 0 ? `?${text}` : "";
}

/** One path segment, percent-encoded (ids and krefs never steer the path). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

export interface ApiInit extends Omit<RequestInit, "body"> {
  /** A value sent as JSON, or a string sent as it is (with `contentType`). */
  body?: unknown;
  contentType?: string;
}

/** Calls `path` with the session cookie; parses JSON; throws ApiError on a non-2xx answer. */
export async function api<T>(path: string, init: ApiInit = {}): Promise<T> {
  const { body, contentType, ...rest } = init;
  const headers = new Headers(rest.headers);
  let payload: string | undefined;
  if (typeof body === "string") {
    payload = body;
    headers.set("Content-Type", contentType ?? "text/plain; charset=utf-8");
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers.set("Content-Type", "application/json");
  }
  let response: Response;
  try {
    response = await fetch(`${basePath()}${path}`, {
      ...rest,
      headers,
      credentials: "same-origin",
      ...(payload === undefined ? {} : { body: payload }),
    });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", "The gateway could not be reached");
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const envelope = (parsed !== null && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
    const code = typeof envelope.code === "string" ? envelope.code : "HTTP_" + String(response.status);
    const message =
      typeof envelope.error === "string" ? envelope.error : response.statusText || `HTTP ${response.status}`;
    if (response.status === 401 && unauthorizedHandler !== null && path !== "/api/auth/session") {
      unauthorizedHandler();
    }
    throw new ApiError(response.status, code, message, envelope);
  }
  return parsed as T;
}

/** The ws:// or wss:// URL of a gateway WebSocket route (the cookie authenticates it). */
export function wsUrl(path: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${basePath()}${path}`;
}

/** The message to show for anything thrown by `api` (or anything else). */
export function errorMessage(caught: unknown): string {
  if (caught instanceof ApiError) {
    return caught.code.length > 0 && caught.status !== 0 ? `${caught.message} (${caught.code})` : caught.message;
  }
  return caught instanceof Error ? caught.message : String(caught);
}

export interface Session {
  authenticated: boolean;
  principal: string;
  /** The device's name (or a certificate mapping's), null when it has none. */
  name?: string | null;
  /** Only a `device` can sign out (its device is revoked); the others are signed in by every request. */
  kind?: "device" | "local_operator" | "machine" | "proxy_user" | "certificate";
  scopes: string[];
}

/** Scopes are independent: `admin` does not imply `chat`, and `terminal` is never implied. */
export function hasScope(session: Session, scope: "read" | "chat" | "admin" | "terminal"): boolean {
  return session.scopes.includes(scope);
}

export interface Status {
  version: string;
  uptime_secs: number;
  bind: { host: string; port: number; path_prefix: string; public: boolean; url: string };
  pairing: { required: boolean; paired: boolean; device_count: number };
  tls: { enabled: boolean; posture: string };
  store: string;
}

export interface Health {
  health: {
    uptime_seconds: number;
    components: Record<string, { status: string; last_error?: string }>;
  };
}

export interface Channels {
  channels: { name: string; type: string; enabled: boolean; status: string }[];
}
