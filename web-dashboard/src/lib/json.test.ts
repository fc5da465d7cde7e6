import { describe, expect, it } from "vitest";
import { jsonObject, objectInput } from "./json";

describe("jsonObject", () => {
  it("parses a JSON object", () => {
    expect(jsonObject('{"type":"frame","n":1}')).toEqual({ type: "frame", n: 1 });
  });
  it("is null for other JSON, broken JSON and non-strings", () => {
    for (const text of ["[1]", "null", "3", '"x"', "{", ""]) {
      expect(jsonObject(text)).toBeNull();
    }
    expect(jsonObject(new ArrayBuffer(2))).toBeNull();
    expect(jsonObject(undefined)).toBeNull();
  });
});

describe("objectInput", () => {
  it("treats blank text as none and accepts an object", () => {
    expect(objectInput(" \n", "Inputs", "{}")).toEqual({ ok: true, value: null });
    expect(objectInput('{"a": 1}', "Inputs", "{}")).toEqual({ ok: true, value: { a: 1 } });
  });
  it("says what is wrong, naming the field", () => {
    const broken = objectInput("{a: 1}", "Inputs", '{"a": 1}');
    expect(broken.ok ? "" : broken.error).toMatch(/^Inputs are not valid JSON: /);
    for (const text of ["[1]", "null", "3", '"x"']) {
      const result = objectInput(text, "The arguments", '{"a": 1}');
      expect(result.ok ? "" : result.error).toBe('The arguments must be a JSON object, such as {"a": 1}.');
    }
  });
});
