import { describe, expect, it } from "vitest";
import {
  clampDimension,
  closeText,
  cwdProblem,
  keystrokeFrame,
  parseServerText,
  resizeFrame,
  terminalPath,
  terminalTheme,
  unavailableReason,
} from "./terminal";

describe("terminalPath", () => {
  it("sends the size, and cwd and tool only when set", () => {
    expect(terminalPath({ cwd: "", cols: 80, rows: 24, tool: "shell" })).toBe("/ws/terminal?cols=80&rows=24");
    expect(terminalPath({ cwd: " /home/me/src ", cols: 120.4, rows: 0, tool: "claude" })).toBe(
      "/ws/terminal?cwd=%2Fhome%2Fme%2Fsrc&cols=120&rows=1&tool=claude",
    );
  });
});

describe("cwdProblem", () => {
  it("accepts empty (the home directory) and absolute paths", () => {
    expect(cwdProblem("")).toBeNull();
    expect(cwdProblem("  ")).toBeNull();
    expect(cwdProblem("/srv/app")).toBeNull();
  });
  it("refuses ~ and relative paths", () => {
    expect(cwdProblem("~/src")).toMatch(/not expanded/);
    expect(cwdProblem("src")).toMatch(/absolute/);
  });
});

describe("frames", () => {
  it("sends resize exactly as the gateway parses it, within its bounds", () => {
    expect(resizeFrame(100, 30)).toBe('{"type":"resize","cols":100,"rows":30}');
    expect(JSON.parse(resizeFrame(5000, -2))).toEqual({ type: "resize", cols: 1000, rows: 1 });
    expect(clampDimension(Number.NaN)).toBe(1);
  });
  it("sends keystrokes as text, but a pasted resize frame as bytes", () => {
    expect(keystrokeFrame("ls -la\r")).toBe("ls -la\r");
    expect(keystrokeFrame("{}")).toBe("{}");
    const pasted = '{"type":"resize","cols":1,"rows":1}';
    const frame = keystrokeFrame(pasted);
    expect(frame).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(frame as Uint8Array)).toBe(pasted);
  });
  it("reads the exit frame", () => {
    expect(parseServerText('{"type":"exit","code":0}')).toEqual({ type: "exit", code: 0 });
    expect(parseServerText('{"type":"exit","code":-1}')).toEqual({ type: "exit", code: -1 });
    expect(parseServerText('{"type":"exit"}')).toEqual({ type: "exit", code: null });
    expect(parseServerText("hello")).toEqual({ type: "other", text: "hello" });
  });
});

describe("unavailableReason", () => {
  it("tells a disabled terminal from a missing scope and a refused handshake", () => {
    expect(unavailableReason(404, "NOT_FOUND", "Not found")).toMatchObject({ kind: "disabled" });
    expect(unavailableReason(404, "NOT_FOUND", "Not found").text).toMatch(/\[terminal\] enabled/);
    expect(unavailableReason(403, "FORBIDDEN_SCOPE", "no").text).toMatch(/terminal scope/);
    expect(unavailableReason(400, "BAD_REQUEST", "Bad Request").kind).toBe("refused");
    expect(unavailableReason(429, "TOO_MANY_TERMINALS", "Too many terminals are open")).toEqual({
      kind: "error",
      text: "The terminal could not be opened: Too many terminals are open (TOO_MANY_TERMINALS).",
    });
  });
});

describe("terminalTheme", () => {
  it("takes the page's colours, with fallbacks", () => {
    const vars: Record<string, string> = { "--code-bg": " #252a34", "--text": "#e3e6ec", "--accent": "#6d94f2" };
    expect(terminalTheme((name) => vars[name] ?? "")).toEqual({
      background: "#252a34",
      foreground: "#e3e6ec",
      cursor: "#6d94f2",
      cursorAccent: "#252a34",
      selectionBackground: "#6d94f266",
    });
    expect(terminalTheme(() => "").background).toBe("#000000");
  });
});

describe("closeText", () => {
  it("explains the gateway's close codes", () => {
    expect(closeText(1001, "")).toMatch(/idle/);
    expect(closeText(1011, "cannot start the shell")).toBe(
      "The gateway could not run the terminal: cannot start the shell.",
    );
    expect(closeText(1006, "")).toBe("The connection closed (code 1006).");
  });
});
