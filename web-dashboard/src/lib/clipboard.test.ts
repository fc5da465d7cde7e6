import { afterEach, describe, expect, it, vi } from "vitest";
import { copyOrSelect } from "./clipboard";

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
});

describe("copyOrSelect", () => {
  it("copies with the Clipboard API", async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal("navigator", { clipboard: { writeText } });
    expect(await copyOrSelect("kref://a/b.c", null)).toBe(true);
    expect(writeText).toHaveBeenCalledWith("kref://a/b.c");
  });
  it("selects the input's text when copying is refused or unavailable", async () => {
    const input = document.createElement("input");
    input.value = "secret-token";
    document.body.append(input);
    vi.stubGlobal("navigator", { clipboard: { writeText: async () => Promise.reject(new Error("denied")) } });
    expect(await copyOrSelect("secret-token", input)).toBe(false);
    expect([input.selectionStart, input.selectionEnd]).toEqual([0, "secret-token".length]);
    vi.stubGlobal("navigator", {});
    expect(await copyOrSelect("secret-token", input)).toBe(false);
  });
  it("selects an element's contents", async () => {
    const code = document.createElement("code");
    code.textContent = "kref://p/s/i.k";
    document.body.append(code);
    vi.stubGlobal("navigator", {});
    expect(await copyOrSelect("kref://p/s/i.k", code)).toBe(false);
    expect(window.getSelection()?.toString()).toBe("kref://p/s/i.k");
  });
});
