// The audit log: its filter form, the query it sends, and the chain verification's wording.

export interface AuditEntry {
  id: number;
  at: string;
  event_type: string;
  actor: string | null;
  client: string | null;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

export interface AuditList {
  count: number;
  entries: AuditEntry[];
}

export interface AuditVerification {
  valid: boolean;
  entries: number;
  first_invalid: number | null;
}

/** Every event type the gateway records (`AuditKind::ALL`); the API refuses others. */
export const AUDIT_EVENT_TYPES = [
  "pair_success",
  "pair_failure",
  "lockout",
  "pairing_code_invalidated",
  "device_revoked",
  "token_rotated",
  "scope_denied",
  "terminal_opened",
  "terminal_closed",
  "config_changed",
  "token_created",
] as const;

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

export interface AuditFilter {
  /** The limit field's text. */
  limit: string;
  /** An event type, or "" for all. */
  eventType: string;
  /** A `datetime-local` value (the reader's local time), or "" for no bound. */
  since: string;
}

/** The query string for `filter`, or the first thing wrong with it. */
export function auditQuery(filter: AuditFilter): { query: Record<string, string | number> } | { error: string } {
  const query: Record<string, string | number> = {};
  const limitText = filter.limit.trim();
  const limit = Number(limitText);
  if (limitText === "" || !Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX_LIMIT) {
    return { error: `The limit must be a whole number from 1 to ${AUDIT_MAX_LIMIT}.` };
  }
  query.limit = limit;
  if (filter.eventType !== "") {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(filter.eventType)) {
      return { error: `Unknown event type ${filter.eventType}.` };
    }
    query.event_type = filter.eventType;
  }
  if (filter.since.trim() !== "") {
    const since = new Date(filter.since);
    if (Number.isNaN(since.getTime())) {
      return { error: "“Since” is not a valid date and time." };
    }
    query.since = since.toISOString();
  }
  return { query };
}

/** The verification badge: its tone and text. */
export function verificationLabel(verification: AuditVerification): { tone: "ok" | "bad"; text: string } {
  if (verification.valid) {
    return { tone: "ok", text: `Chain valid (${verification.entries} entries checked)` };
  }
  return verification.first_invalid === null
    ? { tone: "bad", text: "Chain broken" }
    : { tone: "bad", text: `Chain broken at entry ${verification.first_invalid}` };
}

/** An entry's details on one line: `key: value` pairs for an object, the JSON otherwise, "" for none. */
export function formatDetail(detail: unknown): string {
  if (detail === null || detail === undefined) {
    return "";
  }
  if (typeof detail === "object" && !Array.isArray(detail)) {
    return Object.entries(detail as Record<string, unknown>)
      .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
      .join(", ");
  }
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}
