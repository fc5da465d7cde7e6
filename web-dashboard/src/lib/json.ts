// JSON that must be an object: frames from the gateway's sockets and streams, and objects typed into forms.

/** `text` parsed as a JSON object (not an array, not null); null for anything else, or for non-strings. */
export function jsonObject(text: unknown): Record<string, unknown> | null {
  if (typeof text !== "string") {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : null;
}

export type ObjectInput = { ok: true; value: Record<string, unknown> | null } | { ok: false; error: string };

/**
 * A JSON object typed into a form: empty text is none (`value: null`); anything else must parse to an
 * object. `noun` names the field in the messages ("The arguments"), `example` shows a valid value.
 */
export function objectInput(text: string, noun: string, example: string): ObjectInput {
  if (text.trim().length === 0) {
    return { ok: true, value: null };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (caught) {
    return { ok: false, error: `${noun} are not valid JSON: ${caught instanceof Error ? caught.message : String(caught)}` };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { ok: false, error: `${noun} must be a JSON object, such as ${example}.` };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}
