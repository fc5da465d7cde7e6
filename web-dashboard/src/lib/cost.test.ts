import { describe, expect, it } from "vitest";
import { formatUsd, modelRows, type ModelCost } from "./cost";

function cost(model: string, cost_usd: number, total_tokens: number): ModelCost {
  return { model, cost_usd, input_tokens: total_tokens, output_tokens: 0, total_tokens, request_count: 1 };
}

describe("modelRows", () => {
  it("orders by cost, then tokens, then name", () => {
    const rows = modelRows({
      b: cost("b", 0.5, 10),
      a: cost("a", 0.5, 10),
      big: cost("big", 0.5, 99),
      top: cost("top", 2, 1),
      free: cost("free", 0, 500),
    });
    expect(rows.map((row) => row.model)).toEqual(["top", "big", "a", "b", "free"]);
  });
  it("falls back to the key when a row has no model name", () => {
    expect(modelRows({ "llama3.2": cost("", 0, 1) })[0]?.model).toBe("llama3.2");
  });
});

describe("formatUsd", () => {
  it("shows cents, or significant digits for tiny amounts", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(12.345)).toBe("$12.35");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(0.000123456)).toBe("$0.0001235");
    expect(formatUsd(Number.NaN)).toBe("—");
  });
});
