// The configuration editor: what the gateway answers to a save, and how to show a refused one.
import { ApiError, errorMessage } from "../api";

export interface ConfigFile {
  format: string;
  content: string;
}

export interface ConfigSaved {
  status: string;
  path: string;
  applied: string[];
  restart_required: string[];
}

/** How the gateway prints a secret; sent back unchanged, it keeps the stored value. */
export const SECRET_MASK = "********";

/** How many masked secrets `text` holds. */
export function maskedSecrets(text: string): number {
  return text.split(`"${SECRET_MASK}"`).length - 1;
}

export interface ConfigProblem {
  /** The message to show (with the code). */
  message: string;
  /** The setting the gateway refused, when it named one. */
  key: string | null;
  /** Keys no setting reads. */
  unknown: string[];
}

/** A refused save, with the `key` and `unknown` details of INVALID_TOML and INVALID_CONFIG answers. */
export function configProblem(caught: unknown): ConfigProblem {
  const problem: ConfigProblem = { message: errorMessage(caught), key: null, unknown: [] };
  if (caught instanceof ApiError && (caught.code === "INVALID_TOML" || caught.code === "INVALID_CONFIG")) {
    const { key, unknown } = caught.body;
    if (typeof key === "string" && key.length > 0) {
      problem.key = key;
    }
    if (Array.isArray(unknown)) {
      problem.unknown = unknown.filter((warning): warning is string => typeof warning === "string");
    }
  }
  return problem;
}
