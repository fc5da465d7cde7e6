import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import { configProblem, maskedSecrets } from "./config";

describe("maskedSecrets", () => {
  it("counts the masked values", () => {
    expect(maskedSecrets('[provider]\napi_key = "********"\n[gmail]\nsecret = "********"\n')).toBe(2);
    expect(maskedSecrets('[gateway]\nport = 42617\nname = "*******"\n')).toBe(0);
  });
});

describe("configProblem", () => {
  it("names the refused key of an INVALID_CONFIG answer", () => {
    const error = new ApiError(422, "INVALID_CONFIG", "port must be at least 1", {
      error: "port must be at least 1",
      code: "INVALID_CONFIG",
      key: "gateway.port",
    });
    expect(configProblem(error)).toEqual({
      message: "port must be at least 1 (INVALID_CONFIG)",
      key: "gateway.port",
      unknown: [],
    });
  });

  it("lists unknown keys and ignores a null key", () => {
    const error = new ApiError(422, "INVALID_CONFIG", "The configuration has unknown keys", {
      key: null,
      unknown: ["unknown configuration key gateway.requre_pairing", 3],
    });
    expect(configProblem(error)).toEqual({
      message: "The configuration has unknown keys (INVALID_CONFIG)",
      key: null,
      unknown: ["unknown configuration key gateway.requre_pairing"],
    });
  });

  it("shows other failures by their message only", () => {
    const conflict = new ApiError(409, "CONFIG_NOT_WRITABLE", "no file", { key: "ignored" });
    expect(configProblem(conflict)).toEqual({ message: "no file (CONFIG_NOT_WRITABLE)", key: null, unknown: [] });
    expect(configProblem(new Error("boom")).message).toBe("boom");
  });
});
