import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { errorsByLine, lineCount, lineOffset, positionOf, scrollTopFor, validationErrorsOf } from "./lines";

const TEXT = "name: x\nsteps:\n  - id: a\n";

describe("lineCount", () => {
  it("counts the last line even when it is empty", () => {
    expect(lineCount("")).toBe(1);
    expect(lineCount("a")).toBe(1);
    expect(lineCount("a\n")).toBe(2);
    expect(lineCount(TEXT)).toBe(4);
  });
});

describe("lineOffset", () => {
  it("finds the start of each line", () => {
    expect(lineOffset(TEXT, 1)).toBe(0);
    expect(lineOffset(TEXT, 2)).toBe(8);
    expect(TEXT.slice(lineOffset(TEXT, 3))).toBe("  - id: a\n");
    expect(lineOffset(TEXT, 4)).toBe(TEXT.length);
  });
  it("adds the column, clamped to the line", () => {
    expect(TEXT.slice(lineOffset(TEXT, 3, 5))).toBe("id: a\n");
    expect(lineOffset(TEXT, 2, 99)).toBe(14);
    expect(lineOffset(TEXT, 2, 0)).toBe(8);
  });
  it("clamps lines outside the text", () => {
    expect(lineOffset(TEXT, 40)).toBe(TEXT.length);
    expect(lineOffset("a\nbc", 9)).toBe(2);
    expect(lineOffset(TEXT, 0)).toBe(0);
    expect(lineOffset(TEXT, -3)).toBe(0);
  });
  it("handles CRLF text line by line", () => {
    expect(lineOffset("a\r\nb", 2)).toBe(3);
  });
});

describe("positionOf", () => {
  it("is the inverse of lineOffset", () => {
    for (const [line, column] of [
      [1, 1],
      [2, 3],
      [3, 5],
      [4, 1],
    ] as const) {
      expect(positionOf(TEXT, lineOffset(TEXT, line, column))).toEqual({ line, column });
    }
  });
});

describe("scrollTopFor", () => {
  it("puts the line a third of the way down, never above the top", () => {
    expect(scrollTopFor(1, 20, 300)).toBe(0);
    expect(scrollTopFor(51, 20, 300)).toBe(900);
  });
});

describe("validationErrorsOf / errorsByLine", () => {
  const error = new ApiError(422, "INVALID_WORKFLOW", "Workflow validation failed", {
    validation_errors: [
      { message: "did not find expected ','", line: 5, column: 1 },
      { message: "step a depends on unknown step ghost", line: 4 },
      { message: "a workflow needs at least one step" },
      { message: "bad place", line: 0, column: -1 },
      { line: 2 },
      "junk",
    ],
  });

  it("keeps messages with their valid places", () => {
    expect(validationErrorsOf(error)).toEqual([
      { message: "did not find expected ','", line: 5, column: 1 },
      { message: "step a depends on unknown step ghost", line: 4 },
      { message: "a workflow needs at least one step" },
      { message: "bad place" },
    ]);
    expect(validationErrorsOf(new Error("x"))).toEqual([]);
    expect(validationErrorsOf(new ApiError(422, "INVALID_FIELD", "x"))).toEqual([]);
  });

  it("groups messages by line, clamping lines past the end", () => {
    const byLine = errorsByLine(validationErrorsOf(error), 4);
    expect([...byLine.entries()]).toEqual([
      [4, ["did not find expected ','", "step a depends on unknown step ghost"]],
    ]);
  });
});
