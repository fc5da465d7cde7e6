// Nodes: the list's shape, the invoke form's arguments, and what each invoke failure means.
import { ApiError } from "../api";
import { objectInput } from "./json";

export interface NodeCapability {
  name: string;
  description: string;
}

export interface NodeInfo {
  node_id: string;
  capability_count: number;
  capabilities: NodeCapability[];
}

export interface NodeList {
  count: number;
  nodes: NodeInfo[];
}

export interface InvokeResult {
  call_id: string;
  success: boolean;
  output: string;
  error: string | null;
}

/** The args field as a JSON object (empty means none), or why it is not one. */
export function parseArgs(text: string): { args: Record<string, unknown> | undefined } | { error: string } {
  const parsed = objectInput(text, "The arguments", '{"path": "/tmp"}');
  if (!parsed.ok) {
    return { error: parsed.error };
  }
  return { args: parsed.value ?? undefined };
}

const HINTS: Record<string, string> = {
  NODE_NOT_FOUND: "The node is not connected (any more). The list has been refreshed.",
  UNKNOWN_CAPABILITY: "The node does not advertise this capability.",
  NODE_TIMEOUT: "The node did not answer within [nodes] invoke_timeout_secs.",
  NODE_DISCONNECTED: "The node went away before it answered.",
  INVALID_BODY: "The request was refused as malformed.",
};

/** What an invoke failure means for the reader, by its API code; null when there is nothing to add. */
export function invokeHint(caught: unknown): string | null {
  return caught instanceof ApiError ? (HINTS[caught.code] ?? null) : null;
}

/** The capability to select after the node changed: the current one if the node has it, else its first. */
export function pickCapability(node: NodeInfo | undefined, current: string): string {
  if (node === undefined) {
    return "";
  }
  return node.capabilities.some((capability) => capability.name === current)
    ? current
    : (node.capabilities[0]?.name ?? "");
}
