// Talks to the gateway that served the page. The browser holds an HttpOnly session cookie (set by
// POST /api/auth/login); no token is ever readable by scripts.

/** The path prefix the gateway serves under (from the meta tag it fills in), without a trailing slash. */
export function basePath(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="construct-base"]');
  const base = meta?.content ?? "";
  return base.endsWith("/") ? base.slice(0, -1) : base;
}

/** An error envelope from the gateway. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Calls `path` with the session cookie; parses JSON; throws ApiError on a non-2xx answer. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body !== undefined) {
    headers.set("Content-Type", "application/json");
  }
  const response = await fetch(`${basePath()}${path}`, { ...init, headers, credentials: "same-origin" });
  const text = await response.text();
  const body: unknown = text.length > 0 ? JSON.parse(text) : null;
  if (!response.ok) {
    const envelope = (body ?? {}) as { code?: string; error?: string };
    throw new ApiError(response.status, envelope.code ?? "ERROR", envelope.error ?? response.statusText);
  }
  return body as T;
}

export interface Session {
  authenticated: boolean;
  principal: string;
  scopes: string[];
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
