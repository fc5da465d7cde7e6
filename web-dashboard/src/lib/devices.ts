// Devices and pairing: the list's shapes, the scopes a new device may get, and the QR code a phone scans.
import qrcode from "qrcode-generator";

export interface Device {
  id: string;
  name: string | null;
  device_type: string | null;
  scopes: string[];
  paired_at: string;
  last_seen: string | null;
  ip_address: string | null;
  expires_at: string | null;
}

export interface DeviceList {
  count: number;
  devices: Device[];
}

export interface PairingCode {
  pairing_code: string;
  expires_at: string;
  scopes: string[] | null;
  message: string;
}

export interface RotatedToken {
  device_id: string;
  token: string;
  message: string;
}

/** The scopes an admin can grant a new device, in the order the form shows them. */
export const PAIRING_SCOPES = ["read", "chat", "admin", "terminal"] as const;
export type PairingScope = (typeof PAIRING_SCOPES)[number];

/** What a device gets unless the admin chooses otherwise (the gateway's default for later devices). */
export const DEFAULT_PAIRING_SCOPES: readonly PairingScope[] = ["read", "chat"];

/** `selected` in the canonical order, or an error when nothing is selected. */
export function pairingScopes(selected: ReadonlySet<string>): { scopes: PairingScope[] } | { error: string } {
  const scopes = PAIRING_SCOPES.filter((scope) => selected.has(scope));
  return scopes.length === 0 ? { error: "Choose at least one scope for the new device." } : { scopes };
}

/** The name to show for a device: its name, else its type and the start of its id. */
export function deviceLabel(device: Pick<Device, "id" | "name" | "device_type">): string {
  const name = device.name?.trim();
  if (name !== undefined && name.length > 0) {
    return name;
  }
  return `${device.device_type ?? "device"} ${device.id.slice(0, 8)}`;
}

/** Whether `device` is the one this browser signed in as (the session's principal is its device id). */
export function isOwnDevice(device: Pick<Device, "id">, principal: string): boolean {
  return device.id === principal;
}

/** Whether `expires_at` is in the past at `now` (milliseconds). */
export function isExpired(expiresAt: string | null, now: number): boolean {
  if (expiresAt === null) {
    return false;
  }
  const at = Date.parse(expiresAt);
  return !Number.isNaN(at) && at <= now;
}

/** Upstream's pairing QR payload: what the companion app scans to find this gateway and the code. */
export function pairingPayload(origin: string, basePath: string, code: string): string {
  return JSON.stringify({ v: 1, type: "construct-pair", host: `${origin}${basePath}`, code });
}

/** The QR code of `text` as rows of dark (true) and light modules (UTF-8, error correction M). */
export function qrMatrix(text: string): boolean[][] {
  const qr = qrcode(0, "M");
  // The library maps each UTF-16 unit to one byte; hand it the UTF-8 bytes, one per character.
  qr.addData(String.fromCharCode(...new TextEncoder().encode(text)), "Byte");
  qr.make();
  const size = qr.getModuleCount();
  return Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => qr.isDark(row, col)));
}

/** One SVG path (`d`) drawing every dark module of `matrix` as a unit square, offset by `margin`. */
export function qrPath(matrix: readonly (readonly boolean[])[], margin: number): string {
  const parts: string[] = [];
  matrix.forEach((cells, row) => {
    let col = 0;
    while (col < cells.length) {
      if (!cells[col]) {
        col += 1;
        continue;
      }
      const start = col;
      while (col < cells.length && cells[col]) {
        col += 1;
      }
      parts.push(`M${start + margin} ${row + margin}h${col - start}v1h${start - col}z`);
    }
  });
  return parts.join("");
}

/** The time left until `until` (RFC 3339) at `now` (ms): null when it is unparseable, 0 once it passed. */
export function remainingMs(until: string, now: number): number | null {
  const at = Date.parse(until);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A short human duration: seconds under a minute, minutes and seconds under an hour, else hours. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) {
    return `${seconds} s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
  }
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}
