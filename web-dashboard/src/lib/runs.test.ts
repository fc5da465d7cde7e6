import { describe, expect, it } from "vitest";
import { isRetryable, parseInputs, progress, statusTone } from "./runs";

describe("statusTone", () => {
  it("maps run and step statuses to badge tones", () => {
    expect(statusTone("completed")).toBe("ok");
    expect(statusTone("FAILED")).toBe("bad");
    expect(statusTone("cancelled")).toBe("bad");
    expect(statusTone("running")).toBe("warn");
    expect(statusTone("pending")).toBe("warn");
    expect(statusTone("unknown")).toBe("");
    expect(statusTone("")).toBe("");
  });
});

describe("isRetryable", () => {
  it("allows only failed or cancelled runs", () => {
    expect(isRetryable("failed")).toBe(true);
    expect(isRetryable("cancelled")).toBe(true);
    expect(isRetryable("running")).toBe(false);
    expect(isRetryable("completed")).toBe(false);
  });
});

describe("parseInputs", () => {
  it("treats empty text as no inputs", () => {
    expect(parseInputs("  \n")).toEqual({ ok: true, inputs: null });
  });
  it("accepts a JSON object", () => {
    expect(parseInputs('{"version": "1.2", "dry": true}')).toEqual({ ok: true, inputs: { version: "1.2", dry: true } });
  });
  it("refuses JSON that is not an object", () => {
    for (const text of ["[1, 2]", "null", "3", '"x"']) {
      const result = parseInputs(text);
      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.error).toMatch(/JSON object/);
    }
  });
  it("refuses text that is not JSON, saying why", () => {
    const result = parseInputs("{version: 1}");
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toMatch(/^Inputs are not valid JSON/);
  });
  it("refuses inputs over 64 KiB", () => {
    const result = parseInputs(JSON.stringify({ big: "x".repeat(64 * 1024) }));
    expect(result.ok).toBe(false);
  });
});

describe("progress", () => {
  it("shows the counters the summary has", () => {
    expect(progress("2", "5")).toBe("2 / 5");
    expect(progress("", "3")).toBe("0 / 3");
    expect(progress("1", "")).toBe("1 / ?");
    expect(progress("", "")).toBe("");
  });
});
