// Workflow runs: how a status looks, what may be retried, and checking run inputs before sending.
import { objectInput } from "./json";

/** The badge tone of a run or step status. */
export function statusTone(status: string): "ok" | "warn" | "bad" | "" {
  switch (status.toLowerCase()) {
    case "completed":
    case "succeeded":
    case "success":
    case "done":
    case "approved":
      return "ok";
    case "failed":
    case "error":
    case "cancelled":
    case "rejected":
      return "bad";
    case "pending":
    case "running":
    case "paused":
    case "waiting":
    case "awaiting_approval":
      return "warn";
    default:
      return "";
  }
}

/** The gateway retries only failed or cancelled runs (else 409 RUN_NOT_RETRYABLE). */
export function isRetryable(status: string): boolean {
  return status === "failed" || status === "cancelled";
}

export type InputsResult = { ok: true; inputs: Record<string, unknown> | null } | { ok: false; error: string };

/** Run inputs typed as JSON: empty means none; anything else must be a JSON object of at most 64 KiB. */
export function parseInputs(text: string): InputsResult {
  const parsed = objectInput(text, "Inputs", '{"key": "value"}');
  if (!parsed.ok) {
    return parsed;
  }
  if (parsed.value !== null && new TextEncoder().encode(JSON.stringify(parsed.value)).length > 64 * 1024) {
    return { ok: false, error: "Inputs are at most 64 KiB of JSON" };
  }
  return { ok: true, inputs: parsed.value };
}

/** "2 / 5" from the summary's counters (strings, empty when unknown). */
export function progress(completed: string, total: string): string {
  if (completed === "" && total === "") {
    return "";
  }
  return `${completed === "" ? "0" : completed} / ${total === "" ? "?" : total}`;
}
