import { describe, expect, it } from "vitest";
import { clampPage, pageOf } from "./ui";

describe("clampPage", () => {
  it("keeps the page within the pages the total makes", () => {
    expect(clampPage(3, 41, 20)).toBe(3);
    expect(clampPage(3, 40, 20)).toBe(2);
    expect(clampPage(2, 0, 20)).toBe(1);
    expect(clampPage(0, 10, 20)).toBe(1);
  });
});

describe("pageOf", () => {
  it("slices the 1-based page", () => {
    const items = [1, 2, 3, 4, 5];
    expect(pageOf(items, 1, 2)).toEqual([1, 2]);
    expect(pageOf(items, 3, 2)).toEqual([5]);
  });
});
