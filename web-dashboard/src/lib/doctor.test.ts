import { describe, expect, it } from "vitest";
import { groupBySeverity, severityTone, type DoctorResult } from "./doctor";

const result = (severity: string, category: string): DoctorResult =>
  ({ severity, category, message: category }) as DoctorResult;

describe("groupBySeverity", () => {
  it("puts errors first, keeps the order within a group and drops empty groups", () => {
    const groups = groupBySeverity([
      result("ok", "bind"),
      result("warn", "pairing"),
      result("error", "provider"),
      result("ok", "tls"),
      result("warn", "channels"),
    ]);
    expect(groups.map((group) => [group.title, group.results.map((r) => r.category)])).toEqual([
      ["Errors", ["provider"]],
      ["Warnings", ["pairing", "channels"]],
      ["Passed", ["bind", "tls"]],
    ]);
    expect(groupBySeverity([result("ok", "bind")]).map((group) => group.severity)).toEqual(["ok"]);
  });
  it("counts an unknown severity as an error rather than hiding it", () => {
    expect(groupBySeverity([result("fatal", "x")])[0]?.severity).toBe("error");
  });
});

describe("severityTone", () => {
  it("maps severities to badge classes", () => {
    expect(severityTone("ok")).toBe("ok");
    expect(severityTone("warn")).toBe("warn");
    expect(severityTone("error")).toBe("bad");
  });
});
