// Line arithmetic for the code editor (its gutter, its caret, and the gateway's validation errors).
import { ApiError } from "../api";

/** A problem the gateway found in a definition; `line` and `column` are 1-based. */
export interface ValidationError {
  message: string;
  line?: number;
  column?: number;
}

/** Lines in `text` (an empty text, or one ending in a new line, still has a last, empty line). */
export function lineCount(text: string): number {
  let count = 1;
  for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1)) {
    count += 1;
  }
  return count;
}

/**
 * The offset of 1-based `line` (and `column`) in `text`, for putting the caret there. A line past the
 * end is the last line; a column past the end of its line is the line's end.
 */
export function lineOffset(text: string, line: number, column = 1): number {
  let start = 0;
  for (let current = 1; current < line; current += 1) {
    const next = text.indexOf("\n", start);
    if (next === -1) {
      break;
    }
    start = next + 1;
  }
  const end = text.indexOf("\n", start);
  const length = (end === -1 ? text.length : end) - start;
  return start + Math.min(Math.max(column, 1) - 1, length);
}

/** The 1-based line and column at `offset`. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf("\n");
  return { line: lineCount(before), column: before.length - lastBreak };
}

/** The scroll position that shows `line` a third of the way down a viewport `height` pixels tall. */
export function scrollTopFor(line: number, lineHeight: number, height: number): number {
  return Math.max(0, Math.round((line - 1) * lineHeight - height / 3));
}

function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The `validation_errors` of an error body (entries without a message are dropped). */
export function validationErrorsOf(caught: unknown): ValidationError[] {
  if (!(caught instanceof ApiError) || !Array.isArray(caught.body.validation_errors)) {
    return [];
  }
  const errors: ValidationError[] = [];
  for (const entry of caught.body.validation_errors as unknown[]) {
    if (entry === null || typeof entry !== "object") {
      continue;
    }
    const record = entry as Record<string, unknown>;
    if (typeof record.message !== "string") {
      continue;
    }
    const error: ValidationError = { message: record.message };
    const line = positive(record.line);
    const column = positive(record.column);
    if (line !== undefined) {
      error.line = line;
      if (column !== undefined) {
        error.column = column;
      }
    }
    errors.push(error);
  }
  return errors;
}

/** The messages for each line that has errors (lines past the end are shown on the last line). */
export function errorsByLine(errors: readonly ValidationError[], lines: number): Map<number, string[]> {
  const byLine = new Map<number, string[]>();
  for (const error of errors) {
    if (error.line === undefined) {
      continue;
    }
    const line = Math.min(error.line, lines);
    byLine.set(line, [...(byLine.get(line) ?? []), error.message]);
  }
  return byLine;
}
