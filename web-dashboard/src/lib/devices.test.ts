import { describe, expect, it } from "vitest";
import qrcode from "qrcode-generator";
import {
  deviceLabel,
  formatDuration,
  isExpired,
  isOwnDevice,
  pairingPayload,
  pairingScopes,
  qrMatrix,
  qrPath,
  remainingMs,
} from "./devices";

describe("pairingScopes", () => {
  it("keeps the canonical order whatever the order of selection", () => {
    expect(pairingScopes(new Set(["terminal", "read"]))).toEqual({ scopes: ["read", "terminal"] });
    expect(pairingScopes(new Set(["chat", "admin", "read"]))).toEqual({ scopes: ["read", "chat", "admin"] });
  });
  it("refuses an empty selection and ignores unknown names", () => {
    expect(pairingScopes(new Set())).toHaveProperty("error");
    expect(pairingScopes(new Set(["root"]))).toHaveProperty("error");
  });
});

describe("devices", () => {
  it("labels a device by its name, else by type and id", () => {
    expect(deviceLabel({ id: "0123456789", name: "Phone", device_type: "browser" })).toBe("Phone");
    expect(deviceLabel({ id: "0123456789", name: "  ", device_type: "cli" })).toBe("cli 01234567");
    expect(deviceLabel({ id: "abcdefghij", name: null, device_type: null })).toBe("device abcdefgh");
  });
  it("recognises the browser's own device by the session principal", () => {
    expect(isOwnDevice({ id: "d1" }, "d1")).toBe(true);
    expect(isOwnDevice({ id: "d1" }, "local-operator")).toBe(false);
  });
  it("tells expired tokens", () => {
    const now = Date.parse("2026-01-02T00:00:00Z");
    expect(isExpired(null, now)).toBe(false);
    expect(isExpired("2026-01-01T00:00:00Z", now)).toBe(true);
    expect(isExpired("2026-01-03T00:00:00Z", now)).toBe(false);
  });
});

describe("pairing QR code", () => {
  it("encodes upstream's payload with the origin and the path prefix", () => {
    expect(JSON.parse(pairingPayload("https://gw.example", "/construct", "123456"))).toEqual({
      v: 1,
      type: "construct-pair",
      host: "https://gw.example/construct",
      code: "123456",
    });
  });

  it("builds the same module matrix as the library", () => {
    const text = pairingPayload("http://127.0.0.1:42617", "", "654321");
    const matrix = qrMatrix(text);
    const reference = qrcode(0, "M");
    reference.addData(text, "Byte");
    reference.make();
    expect(matrix.length).toBe(reference.getModuleCount());
    matrix.forEach((cells, row) => {
      expect(cells.length).toBe(matrix.length);
      cells.forEach((dark, col) => expect(dark).toBe(reference.isDark(row, col)));
    });
  });

  it("encodes non-ASCII text as UTF-8 bytes", () => {
    const ascii = qrMatrix("x".repeat(20));
    const utf8 = qrMatrix("é".repeat(20));
    // 40 bytes need a larger symbol than 20 at level M, which a one-byte-per-character encoding would not.
    expect(utf8.length).toBeGreaterThan(ascii.length);
  });

  it("draws each run of dark modules as one rectangle, offset by the margin", () => {
    const matrix = [
      [true, true, false],
      [false, false, false],
      [true, false, true],
    ];
    expect(qrPath(matrix, 4)).toBe("M4 4h2v1h-2zM4 6h1v1h-1zM6 6h1v1h-1z");
    expect(qrPath([[false]], 0)).toBe("");
  });
});

describe("pairing code expiry", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("counts down to the time and stops at zero", () => {
    expect(remainingMs("2026-01-01T00:10:00Z", now)).toBe(600_000);
    expect(remainingMs("2025-12-31T23:59:00Z", now)).toBe(0);
    expect(remainingMs("soon", now)).toBeNull();
  });
  it("formats durations by size", () => {
    expect(formatDuration(0)).toBe("0 s");
    expect(formatDuration(59_999)).toBe("59 s");
    expect(formatDuration(65_000)).toBe("1 min 05 s");
    expect(formatDuration(3_600_000 + 10 * 60_000)).toBe("1 h 10 min");
    expect(formatDuration(-5)).toBe("0 s");
  });
});
