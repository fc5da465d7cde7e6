import { describe, expect, it } from "vitest";
import { query } from "../api";
import { auditQuery, formatDetail, verificationLabel } from "./audit";

describe("auditQuery", () => {
  it("sends the limit, the type and the time bound", () => {
    const result = auditQuery({ limit: " 250 ", eventType: "config_changed", since: "2026-01-02T03:04" });
    expect(result).toEqual({
      query: { limit: 250, event_type: "config_changed", since: new Date("2026-01-02T03:04").toISOString() },
    });
    if ("query" in result) {
      expect(query(result.query)).toMatch(/^\?limit=250&event_type=config_changed&since=2026-01-0\dT\d\d%3A04%3A00.000Z$/);
    }
  });
  it("leaves out what is not set", () => {
    expect(auditQuery({ limit: "100", eventType: "", since: "" })).toEqual({ query: { limit: 100 } });
  });
  it("refuses limits the API refuses", () => {
    for (const limit of ["", "0", "1001", "2.5", "ten", "-3"]) {
      expect(auditQuery({ limit, eventType: "", since: "" })).toHaveProperty("error");
    }
    expect(auditQuery({ limit: "1000", eventType: "", since: "" })).toEqual({ query: { limit: 1000 } });
  });
  it("refuses unknown types and bad times", () => {
    expect(auditQuery({ limit: "10", eventType: "everything", since: "" })).toHaveProperty("error");
    expect(auditQuery({ limit: "10", eventType: "", since: "yesterday" })).toHaveProperty("error");
  });
});

describe("verificationLabel", () => {
  it("names the first entry that does not fit", () => {
    expect(verificationLabel({ valid: true, entries: 12, first_invalid: null })).toEqual({
      tone: "ok",
      text: "Chain valid (12 entries checked)",
    });
    expect(verificationLabel({ valid: false, entries: 12, first_invalid: 7 })).toEqual({
      tone: "bad",
      text: "Chain broken at entry 7",
    });
    expect(verificationLabel({ valid: false, entries: 0, first_invalid: null }).tone).toBe("bad");
  });
});

describe("formatDetail", () => {
  it("puts an object on one line", () => {
    expect(formatDetail({ device_id: "d1", applied: ["workflows"], code: 3 })).toBe(
      'device_id: d1, applied: ["workflows"], code: 3',
    );
  });
  it("shows nothing for no detail and JSON for the rest", () => {
    expect(formatDetail(null)).toBe("");
    expect(formatDetail([1, 2])).toBe("[1,2]");
    expect(formatDetail("text")).toBe("text");
  });
});
