// Form logic shared by the agent, skill, team and workflow editors: field specs, client-side checks that
// mirror the gateway's, request bodies, and finding which field a 422 is about.
import { ApiError } from "../api";

export interface FieldSpec {
  /** The API field (also the key of the form values). */
  name: string;
  /** The label shown, e.g. "Agent type". */
  label: string;
  /** text: one line; textarea: prose; code: a monospace textarea; list: comma- or line-separated entries. */
  kind: "text" | "textarea" | "code" | "list";
  required?: boolean;
  /** Most characters (text, textarea, code) or entries (list). */
  max?: number;
  /** Most characters per list entry. */
  itemMax?: number;
  /** Most UTF-8 bytes (code bodies the gateway measures in bytes). */
  maxBytes?: number;
  hint?: string;
  /** The gateway keeps the item name: shown, not editable, when editing. */
  fixedOnEdit?: boolean;
}

export type FormValues = Record<string, string>;
export type FieldErrors = Record<string, string>;

/** Entries of a list field: split on commas and new lines, trimmed, empty and repeated ones dropped. */
export function parseList(text: string): string[] {
  const seen = new Set<string>();
  for (const entry of text.split(/[,\n]/)) {
    const trimmed = entry.trim();
    if (trimmed.length > 0) {
      seen.add(trimmed);
    }
  }
  return [...seen];
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

function sizeText(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** Characters as the gateway counts them (Unicode scalar values, not UTF-16 units). */
function charCount(text: string): number {
  return [...text].length;
}

/** The problems the gateway would refuse, per field, before anything is sent. */
export function validateFields(specs: readonly FieldSpec[], values: FormValues): FieldErrors {
  const errors: FieldErrors = {};
  for (const spec of specs) {
    const raw = values[spec.name] ?? "";
    if (spec.kind === "list") {
      const entries = parseList(raw);
      if (spec.required === true && entries.length === 0) {
        errors[spec.name] = `${spec.label} needs at least one entry`;
      } else if (spec.max !== undefined && entries.length > spec.max) {
        errors[spec.name] = `${spec.label}: at most ${spec.max} entries`;
      } else if (spec.itemMax !== undefined) {
        const long = entries.find((entry) => charCount(entry) > (spec.itemMax ?? 0));
        if (long !== undefined) {
          errors[spec.name] = `${spec.label}: "${long}" is longer than ${spec.itemMax} characters`;
        }
      }
      continue;
    }
    const value = spec.kind === "code" ? raw : raw.trim();
    if (value.trim().length === 0) {
      if (spec.required === true) {
        errors[spec.name] = `${spec.label} is required`;
      }
    } else if (spec.max !== undefined && charCount(value) > spec.max) {
      errors[spec.name] = `${spec.label}: at most ${spec.max} characters`;
    } else if (spec.maxBytes !== undefined && byteLength(value) > spec.maxBytes) {
      errors[spec.name] = `${spec.label}: at most ${sizeText(spec.maxBytes)}`;
    }
  }
  return errors;
}

/** The JSON body: trimmed text (empty optional fields left out), code as typed, lists as arrays. */
export function bodyFrom(specs: readonly FieldSpec[], values: FormValues): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const spec of specs) {
    const raw = values[spec.name] ?? "";
    if (spec.kind === "list") {
      body[spec.name] = parseList(raw);
    } else if (spec.kind === "code") {
      body[spec.name] = raw;
    } else if (raw.trim().length > 0 || spec.required === true) {
      body[spec.name] = raw.trim();
    }
  }
  return body;
}

/** Form values from an entity: lists joined with ", ", absent fields empty. */
export function valuesFrom(specs: readonly FieldSpec[], item: Record<string, unknown> | null): FormValues {
  const values: FormValues = {};
  for (const spec of specs) {
    const value = item?.[spec.name];
    values[spec.name] = Array.isArray(value)
      ? value.map(String).join(", ")
      : typeof value === "string" || typeof value === "number"
        ? String(value)
        : "";
  }
  return values;
}

/**
 * The field a 422 (`INVALID_FIELD`, `INVALID_BODY`) is about: the body's `field` when it names one,
 * else the first of `fields` the message mentions as a word ("name must be 1-100 characters",
 * "at most 30 tags", "missing field `soul`"). Null for other errors or when no field is named.
 */
export function fieldOfError(caught: unknown, fields: readonly string[]): string | null {
  if (!(caught instanceof ApiError) || caught.status !== 422) {
    return null;
  }
  const named = caught.body.field;
  if (typeof named === "string" && fields.includes(named)) {
    return named;
  }
  let best: { field: string; at: number } | null = null;
  for (const field of fields) {
    const match = new RegExp(`(^|[^A-Za-z0-9_])${field}($|[^A-Za-z0-9_])`).exec(caught.message);
    if (match !== null && (best === null || match.index < best.at)) {
      best = { field, at: match.index };
    }
  }
  return best?.field ?? null;
}
