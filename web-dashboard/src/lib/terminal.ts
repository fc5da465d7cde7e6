// The terminal's protocol (`GET /ws/terminal`): the socket's URL, the frames sent and received, what a
// refused connection means, and the terminal's colours from the page's theme.
import { query } from "../api";

/** What the terminal runs: the login shell, or a coding agent connected to the gateway's MCP server. */
export const TERMINAL_TOOLS = [
  { value: "shell", label: "Login shell" },
  { value: "claude", label: "Claude Code" },
  { value: "codex", label: "Codex" },
  { value: "opencode", label: "opencode" },
  { value: "gemini", label: "Gemini CLI" },
] as const;
export type TerminalTool = (typeof TERMINAL_TOOLS)[number]["value"];

/** The gateway's bound on columns and rows. */
export const MAX_DIMENSION = 1000;

export function clampDimension(value: number): number {
  return Math.min(MAX_DIMENSION, Math.max(1, Math.round(Number.isFinite(value) ? value : 1)));
}

/**
 * Why `cwd` cannot be sent, or null. Empty is fine: the gateway then starts in its own user's home
 * directory. Otherwise the path must be absolute: the gateway does not expand `~` or resolve relative paths
 * against anything the browser knows.
 */
export function cwdProblem(cwd: string): string | null {
  const path = cwd.trim();
  if (path === "") {
    return null;
  }
  if (path.startsWith("~")) {
    return "“~” is not expanded: leave the field empty for the home directory, or give an absolute path.";
  }
  if (!path.startsWith("/")) {
    return "Give an absolute path (starting with /), or leave the field empty for the home directory.";
  }
  return null;
}

/** The socket's path and query (cwd and tool left out when they are the defaults). */
export function terminalPath(options: { cwd: string; cols: number; rows: number; tool: TerminalTool }): string {
  return `/ws/terminal${query({
    cwd: options.cwd.trim(),
    cols: clampDimension(options.cols),
    rows: clampDimension(options.rows),
    tool: options.tool === "shell" ? undefined : options.tool,
  })}`;
}

/** The resize frame, exactly as the gateway expects it. */
export function resizeFrame(cols: number, rows: number): string {
  return JSON.stringify({ type: "resize", cols: clampDimension(cols), rows: clampDimension(rows) });
}

/**
 * The frame for keystrokes `data`: a text frame, unless the text would read as a resize frame (a pasted
 * `{"type":"resize",...}`), which goes as bytes so the shell receives it as typed.
 */
export function keystrokeFrame(data: string): string | Uint8Array {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed !== null && typeof parsed === "object" && (parsed as { type?: unknown }).type === "resize") {
      return new TextEncoder().encode(data);
    }
  } catch {
    // Not JSON: ordinary keystrokes.
  }
  return data;
}

export type ServerFrame = { type: "exit"; code: number | null } | { type: "other"; text: string };

/** A text frame from the gateway (output itself comes as binary frames). */
export function parseServerText(text: string): ServerFrame {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && (parsed as { type?: unknown }).type === "exit") {
      const code = (parsed as { code?: unknown }).code;
      return { type: "exit", code: typeof code === "number" ? code : null };
    }
  } catch {
    // Not a control frame.
  }
  return { type: "other", text };
}

export type Unavailable = { kind: "disabled" | "forbidden" | "refused" | "error"; text: string };

const ENABLE =
  "The terminal needs [terminal] enabled = true in the gateway's configuration (then a restart), and this " +
  "device needs the terminal scope (pair it with that scope from Devices).";

/**
 * Why the socket could not be opened, from the answer to a plain GET of the same URL (a browser cannot read
 * a refused WebSocket handshake): 404 when the route is not mounted (`[terminal] enabled` off), 403 without
 * the scope; a route that is mounted refuses a GET that is not an upgrade with 400 BAD_REQUEST, so the
 * handshake itself was turned down for a reason only the handshake checks.
 */
export function unavailableReason(status: number, code: string, message: string): Unavailable {
  if (status === 404) {
    return { kind: "disabled", text: `The terminal is turned off on this gateway. ${ENABLE}` };
  }
  if (status === 403 && code === "FORBIDDEN_SCOPE") {
    return { kind: "forbidden", text: `This device does not hold the terminal scope. ${ENABLE}` };
  }
  if (status === 400 && code === "BAD_REQUEST") {
    return {
      kind: "refused",
      text:
        "The gateway refused to open the terminal. The working directory must exist on the gateway host; at " +
        "most [terminal] max_sessions terminals can be open at once; a coding agent needs the MCP server " +
        "([mcp] enabled) and the tool installed on the gateway's PATH.",
    };
  }
  return { kind: "error", text: `The terminal could not be opened: ${message} (${code}).` };
}

/** Reads one CSS custom property of the page. */
export type CssVariable = (name: string) => string;

/** The terminal's colours from the page's theme variables (ANSI colours stay xterm's). */
export function terminalTheme(read: CssVariable): {
  background: string;
  foreground: string;
  cursor: string;
  cursorAccent: string;
  selectionBackground: string;
} {
  const value = (name: string, fallback: string) => read(name).trim() || fallback;
  const background = value("--code-bg", "#000000");
  const accent = value("--accent", "#ffffff");
  return {
    background,
    foreground: value("--text", "#ffffff"),
    cursor: accent,
    cursorAccent: background,
    // The accent at 40 % opacity, so selected text stays readable in both themes.
    selectionBackground: /^#[0-9a-f]{6}$/i.test(accent) ? `${accent}66` : value("--border", "#808080"),
  };
}

/** Why an open socket closed without the shell's exit frame. */
export function closeText(code: number, reason: string): string {
  const why = reason === "" ? "" : `: ${reason}`;
  switch (code) {
    case 1001:
      return `The gateway closed the terminal (idle for too long, or shutting down)${why}.`;
    case 1011:
      return `The gateway could not run the terminal${why}.`;
    case 1009:
      return "The gateway closed the terminal: a message was too large.";
    default:
      return `The connection closed (code ${code})${why}.`;
  }
}
