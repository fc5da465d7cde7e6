import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { api, ApiError, errorMessage, wsUrl } from "../api";
import { installCssomStyles } from "../lib/cssomStyles";
import {
  TERMINAL_TOOLS,
  closeText,
  cwdProblem,
  keystrokeFrame,
  parseServerText,
  resizeFrame,
  terminalPath,
  terminalTheme,
  unavailableReason,
  type TerminalTool,
  type Unavailable,
} from "../lib/terminal";
import { ErrorNote, Page } from "../ui";
import "./Terminal.css";

type Status =
  | { kind: "idle" }
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "exited"; code: number | null }
  | { kind: "closed"; text: string }
  | { kind: "unavailable"; reason: Unavailable };

const FONT = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace';

function themeFromPage() {
  const style = window.getComputedStyle(document.documentElement);
  return terminalTheme((name) => style.getPropertyValue(name));
}

/** Why the socket failed, from a plain GET of its URL (the browser hides a refused handshake's answer). */
async function diagnose(path: string): Promise<Status> {
  try {
    await api(path);
  } catch (caught) {
    if (caught instanceof ApiError && caught.status !== 0) {
      return { kind: "unavailable", reason: unavailableReason(caught.status, caught.code, caught.message) };
    }
    return { kind: "closed", text: `The terminal could not be reached: ${errorMessage(caught)}` };
  }
  return { kind: "closed", text: "The connection to the terminal failed." };
}

/** A shell (or a coding agent) on the gateway host, over `/ws/terminal`. */
export function TerminalView() {
  const hostRef = useRef<HTMLDivElement>(null);
  const terminalRef = useRef<{ terminal: Terminal; fit: FitAddon } | null>(null);
  const socketRef = useRef<WebSocket | null>(null);
  const tabLeavesRef = useRef(false);
  const [cwd, setCwd] = useState("");
  const [tool, setTool] = useState<TerminalTool>("shell");
  const [tabLeaves, setTabLeaves] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: "idle" });
  const [invalid, setInvalid] = useState<string | null>(null);
  const live = status.kind === "open" || status.kind === "connecting";
  tabLeavesRef.current = tabLeaves;

  useEffect(() => {
    const host = hostRef.current;
    if (host === null) {
      return;
    }
    const removeStyles = installCssomStyles(host);
    const terminal = new Terminal({
      fontFamily: FONT,
      fontSize: 14,
      cursorBlink: true,
      scrollback: 5000,
      theme: themeFromPage(),
    });
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(host);
    fit.fit();
    terminal.attachCustomKeyEventHandler((event) => !(event.key === "Tab" && tabLeavesRef.current));
    const send = (frame: string | Uint8Array) => {
      const socket = socketRef.current;
      if (socket !== null && socket.readyState === WebSocket.OPEN) {
        socket.send(frame);
      }
    };
    const subscriptions = [
      terminal.onData((data) => send(keystrokeFrame(data))),
      terminal.onBinary((data) => send(Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff))),
      terminal.onResize(({ cols, rows }) => send(resizeFrame(cols, rows))),
    ];
    let frame = 0;
    const resize = new ResizeObserver(() => {
      window.cancelAnimationFrame(frame);
      frame = window.requestAnimationFrame(() => fit.fit());
    });
    resize.observe(host);
    const retheme = () => {
      terminal.options.theme = themeFromPage();
    };
    const themeAttribute = new MutationObserver(retheme);
    themeAttribute.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    const scheme = window.matchMedia("(prefers-color-scheme: dark)");
    scheme.addEventListener("change", retheme);
    terminalRef.current = { terminal, fit };

    return () => {
      const socket = socketRef.current;
      socketRef.current = null;
      socket?.close();
      terminalRef.current = null;
      window.cancelAnimationFrame(frame);
      resize.disconnect();
      themeAttribute.disconnect();
      scheme.removeEventListener("change", retheme);
      subscriptions.forEach((subscription) => subscription.dispose());
      terminal.dispose();
      removeStyles();
    };
  }, []);

  function connect(event?: FormEvent) {
    event?.preventDefault();
    const problem = cwdProblem(cwd);
    setInvalid(problem);
    const current = terminalRef.current;
    if (problem !== null || current === null) {
      return;
    }
    const { terminal, fit } = current;
    socketRef.current?.close();
    terminal.reset();
    fit.fit();
    const path = terminalPath({ cwd, cols: terminal.cols, rows: terminal.rows, tool });
    const socket = new WebSocket(wsUrl(path), "construct.v1");
    socket.binaryType = "arraybuffer";
    socketRef.current = socket;
    const decoder = new TextDecoder();
    let opened = false;
    let exited = false;
    setStatus({ kind: "connecting" });

    socket.onopen = () => {
      opened = true;
      setStatus({ kind: "open" });
      socket.send(resizeFrame(terminal.cols, terminal.rows));
      terminal.focus();
    };
    socket.onmessage = (message: MessageEvent<ArrayBuffer | string>) => {
      if (message.data instanceof ArrayBuffer) {
        terminal.write(decoder.decode(new Uint8Array(message.data), { stream: true }));
        return;
      }
      const frame = parseServerText(message.data);
      if (frame.type === "exit") {
        exited = true;
        terminal.write(decoder.decode());
        setStatus({ kind: "exited", code: frame.code });
      }
    };
    socket.onclose = (closed) => {
      if (socketRef.current !== socket) {
        return;
      }
      socketRef.current = null;
      if (exited) {
        return;
      }
      if (opened) {
        setStatus({ kind: "closed", text: closeText(closed.code, closed.reason) });
      } else {
        void diagnose(path).then(setStatus);
      }
    };
  }

  function disconnect() {
    if (!window.confirm("Close the terminal? Whatever runs in it is stopped.")) {
      return;
    }
    const socket = socketRef.current;
    socketRef.current = null;
    socket?.close(1000);
    setStatus({ kind: "closed", text: "You closed the terminal." });
  }

  const toolLabel = TERMINAL_TOOLS.find((candidate) => candidate.value === tool)?.label ?? tool;

  return (
    <Page title="Terminal">
      <section aria-label="Terminal session">
        <form className="row terminal-form" onSubmit={connect}>
          <label className="terminal-cwd">
            Working directory
            <input
              aria-label="Working directory"
              value={cwd}
              placeholder="empty: the home directory"
              spellCheck={false}
              autoCapitalize="off"
              disabled={live}
              onChange={(event) => {
                setCwd(event.target.value);
                setInvalid(null);
              }}
            />
          </label>
          <label>
            Program
            <select
              aria-label="Program"
              value={tool}
              disabled={live}
              onChange={(event) => setTool(event.target.value as TerminalTool)}
            >
              {TERMINAL_TOOLS.map((candidate) => (
                <option key={candidate.value} value={candidate.value}>
                  {candidate.label}
                </option>
              ))}
            </select>
          </label>
          {live ? (
            <button type="button" className="danger" onClick={disconnect}>
              Close terminal
            </button>
          ) : (
            <button type="submit">
              {status.kind === "idle" ? "Open terminal" : status.kind === "unavailable" ? "Try again" : "Reconnect"}
            </button>
          )}
        </form>
        <p className="hint">
          The working directory is an absolute path on the gateway host; leave it empty to start in the home
          directory of the user the gateway runs as. A coding agent runs connected to this gateway's MCP server.
          Leaving this page closes the terminal and stops what runs in it.
        </p>
        <label className="terminal-check">
          <input type="checkbox" checked={tabLeaves} onChange={(event) => setTabLeaves(event.target.checked)} />
          Tab key moves focus out of the terminal (instead of going to the shell)
        </label>
        <ErrorNote error={invalid} />
        <div className="row terminal-status">
          {status.kind === "unavailable" ? (
            <p role="alert" className="error">
              {status.reason.text}
            </p>
          ) : (
            <p role="status" aria-live="polite">
              {status.kind === "idle" && "Not connected."}
              {status.kind === "connecting" && "Connecting…"}
              {status.kind === "open" && (
                <span className="badge ok">
                  connected: {toolLabel}
                  {cwd.trim() !== "" && ` in ${cwd.trim()}`}
                </span>
              )}
              {status.kind === "exited" &&
                (status.code === null ? "The program exited." : `exited with code ${status.code}`)}
              {status.kind === "closed" && status.text}
            </p>
          )}
        </div>
      </section>
      <div
        className="terminal-screen"
        role="region"
        aria-label="Terminal screen"
        hidden={status.kind === "unavailable"}
      >
        <div ref={hostRef} className="terminal-host" />
      </div>
    </Page>
  );
}
