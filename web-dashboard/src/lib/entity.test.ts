import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { bodyFrom, fieldOfError, parseList, validateFields, valuesFrom, type FieldSpec } from "./entity";

const SPECS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text", required: true, max: 5 },
  { name: "tone", label: "Tone", kind: "text", max: 10 },
  { name: "expertise", label: "Expertise", kind: "list", max: 2, itemMax: 4 },
  { name: "content", label: "Content", kind: "code", required: true, maxBytes: 4 },
];

describe("parseList", () => {
  it("splits on commas and new lines, trims, drops empty and repeated entries", () => {
    expect(parseList(" rust, go\n\nrust ,  ,sql")).toEqual(["rust", "go", "sql"]);
    expect(parseList("   ")).toEqual([]);
  });
});

describe("validateFields", () => {
  it("accepts valid values", () => {
    expect(validateFields(SPECS, { name: "Ada", tone: "", expertise: "a, b", content: "abc" })).toEqual({});
  });
  it("requires required fields, whitespace counting as empty", () => {
    const errors = validateFields(SPECS, { name: "  ", content: " \n" });
    expect(errors.name).toBe("Name is required");
    expect(errors.content).toBe("Content is required");
    expect(errors.tone).toBeUndefined();
  });
  it("counts characters, not UTF-16 units, and trims text first", () => {
    expect(validateFields(SPECS, { name: "  héllo  ", content: "x" }).name).toBeUndefined();
    expect(validateFields(SPECS, { name: "😀😀😀😀😀", content: "x" }).name).toBeUndefined();
    expect(validateFields(SPECS, { name: "abcdef", content: "x" }).name).toBe("Name: at most 5 characters");
  });
  it("limits list entries and their length", () => {
    expect(validateFields(SPECS, { name: "a", content: "x", expertise: "a,b,c" }).expertise).toBe(
      "Expertise: at most 2 entries",
    );
    expect(validateFields(SPECS, { name: "a", content: "x", expertise: "abcde" }).expertise).toContain("abcde");
  });
  it("measures code in UTF-8 bytes", () => {
    expect(validateFields(SPECS, { name: "a", content: "éé" }).content).toBeUndefined();
    expect(validateFields(SPECS, { name: "a", content: "ééé" }).content).toBe("Content: at most 4 bytes");
  });
});

describe("bodyFrom / valuesFrom", () => {
  it("trims text, leaves out empty optional text, keeps code as typed, splits lists", () => {
    expect(bodyFrom(SPECS, { name: " Ada ", tone: "  ", expertise: "a, b", content: "  x\n" })).toEqual({
      name: "Ada",
      expertise: ["a", "b"],
      content: "  x\n",
    });
  });
  it("sends an empty required field so the gateway can name it", () => {
    expect(bodyFrom(SPECS, {}).name).toBe("");
  });
  it("turns an entity back into form values", () => {
    expect(valuesFrom(SPECS, { name: "Ada", expertise: ["a", "b"], tone: null, content: 3 })).toEqual({
      name: "Ada",
      tone: "",
      expertise: "a, b",
      content: "3",
    });
    expect(valuesFrom(SPECS, null).name).toBe("");
  });
});

describe("fieldOfError", () => {
  const fields = ["name", "identity", "soul", "expertise", "system_hint", "tags"];
  const invalid = (message: string, body: Record<string, unknown> = {}) =>
    new ApiError(422, "INVALID_FIELD", message, { error: message, code: "INVALID_FIELD", ...body });

  it("prefers the body's field", () => {
    expect(fieldOfError(invalid("bad value for soul", { field: "identity" }), fields)).toBe("identity");
  });
  it("finds the field the message names first, as a whole word", () => {
    expect(fieldOfError(invalid("name must be 1-100 characters"), fields)).toBe("name");
    expect(fieldOfError(invalid("at most 50 expertise entries"), fields)).toBe("expertise");
    expect(fieldOfError(invalid("system_hint must be 1-4096 characters"), fields)).toBe("system_hint");
    expect(fieldOfError(invalid("at most 30 tags"), fields)).toBe("tags");
    expect(fieldOfError(new ApiError(422, "INVALID_BODY", "missing field `soul` at line 1"), fields)).toBe("soul");
  });
  it("does not match inside other words, or other statuses", () => {
    expect(fieldOfError(invalid("names are odd"), fields)).toBeNull();
    expect(fieldOfError(new ApiError(409, "CONFLICT", "name taken"), fields)).toBeNull();
    expect(fieldOfError(new Error("name"), fields)).toBeNull();
  });
});
