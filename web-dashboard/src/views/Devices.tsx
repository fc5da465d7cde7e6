import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { api, basePath, segment } from "../api";
import {
  DEFAULT_PAIRING_SCOPES,
  PAIRING_SCOPES,
  deviceLabel,
  formatDuration,
  isExpired,
  isOwnDevice,
  pairingPayload,
  pairingScopes,
  qrMatrix,
  qrPath,
  remainingMs,
  type Device,
  type DeviceList,
  type PairingCode,
  type RotatedToken,
} from "../lib/devices";
import { copyOrSelect } from "../lib/clipboard";
import { useEvents } from "../lib/events";
import { useSession } from "../session";
import { ErrorNote, formatTime, Page, Pager, useAction, useClientPage, useResource } from "../ui";
import "./Devices.css";

const PER_PAGE = 20;
const QR_MARGIN = 4;

/** A QR code drawn from its module matrix (dark on white whatever the theme, as scanners expect). */
function QrCode({ text }: { text: string }) {
  const matrix = useMemo(() => qrMatrix(text), [text]);
  const size = matrix.length + QR_MARGIN * 2;
  return (
    <svg
      className="devices-qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label="Pairing QR code"
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#ffffff" />
      <path d={qrPath(matrix, QR_MARGIN)} fill="#000000" />
    </svg>
  );
}

/** Re-renders every second while `active`, for countdowns. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) {
      return;
    }
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [active]);
  return now;
}

function PairNewDevice({ onClose }: { onClose: () => void }) {
  const [selected, setSelected] = useState<Set<string>>(() => new Set(DEFAULT_PAIRING_SCOPES));
  const [invalid, setInvalid] = useState<string | null>(null);
  const [minted, setMinted] = useState<PairingCode | null>(null);
  const action = useAction();
  const now = useNow(minted !== null);
  const left = minted === null ? null : remainingMs(minted.expires_at, now);

  function toggle(scope: string, on: boolean) {
    const next = new Set(selected);
    if (on) {
      next.add(scope);
    } else {
      next.delete(scope);
    }
    setSelected(next);
    setInvalid(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const chosen = pairingScopes(selected);
    if ("error" in chosen) {
      setInvalid(chosen.error);
      return;
    }
    const answer = await action.run(() =>
      api<PairingCode>("/api/pairing/initiate", { method: "POST", body: { scopes: chosen.scopes } }),
    );
    if (answer !== undefined) {
      setMinted(answer);
    }
  }

  return (
    <section aria-labelledby="pair-heading">
      <h2 id="pair-heading">Pair a new device</h2>
      <form className="stack" onSubmit={(event) => void submit(event)}>
        <fieldset className="devices-scopes">
          <legend>Scopes for the new device</legend>
          {PAIRING_SCOPES.map((scope) => (
            <label key={scope} className="devices-check">
              <input
                type="checkbox"
                checked={selected.has(scope)}
                onChange={(event) => toggle(scope, event.target.checked)}
              />
              {scope}
            </label>
          ))}
        </fieldset>
        <p className="hint">
          read: view everything; chat: talk to the agent and change canvases; admin: devices, configuration and
          audit; terminal: open a shell on the gateway host (only when <code>[terminal] enabled</code> is on).
        </p>
        <ErrorNote error={invalid ?? action.error} />
        <div className="row">
          <button type="submit" disabled={action.busy}>
            {minted === null ? "Generate pairing code" : "Generate a new code"}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
      {minted !== null && (
        <div className="devices-pairing">
          <div className="stack">
            <p>
              Pairing code:{" "}
              <code className="devices-code" aria-label="Pairing code">
                {minted.pairing_code}
              </code>
            </p>
            <p>
              {left === 0 ? (
                <span className="badge bad">expired</span>
              ) : (
                <>
                  Expires <time dateTime={minted.expires_at}>{formatTime(minted.expires_at)}</time>
                  {left !== null && ` (in ${formatDuration(left)})`}
                </>
              )}
            </p>
            <p>Scopes: {(minted.scopes ?? [...DEFAULT_PAIRING_SCOPES]).join(", ")}</p>
            <p className="hint">
              On the new device, open this dashboard and sign in with the code, or scan the QR code with the
              Construct companion app. The code works once; generating a new one replaces it.
            </p>
          </div>
          <QrCode text={pairingPayload(window.location.origin, basePath(), minted.pairing_code)} />
        </div>
      )}
    </section>
  );
}

function NewToken({
  rotated,
  name,
  own,
  onDone,
}: {
  rotated: RotatedToken;
  name: string;
  own: boolean;
  onDone: () => void;
}) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);

  async function copy() {
    setCopied(
      (await copyOrSelect(rotated.token, field.current))
        ? "Copied."
        : "Copying was refused: the token is selected, copy it with the keyboard.",
    );
  }

  return (
    <section aria-labelledby="token-heading" className="devices-token">
      <h2 id="token-heading">New token for {name}</h2>
      <p className="warn" role="alert">
        This token is shown once. Copy it now and put it in the device; the old token no longer works.
        {own && " This browser was signed in with the old token, so its session has ended."}
      </p>
      <div className="row">
        <label className="devices-token-field">
          Token
          <input
            aria-label="New token"
            ref={field}
            readOnly
            value={rotated.token}
            className="devices-token-input"
            onFocus={(event) => event.target.select()}
          />
        </label>
        <button type="button" onClick={() => void copy()}>
          Copy token
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done
        </button>
      </div>
      {copied !== null && (
        <p className="hint" role="status">
          {copied}
        </p>
      )}
    </section>
  );
}

/** Paired devices (revoke, rotate) and pairing new ones with a code and a QR code. */
export function DevicesView() {
  const { session, signedOut } = useSession();
  const { subscribe } = useEvents();
  const { data, error, loading, reload } = useResource(() => api<DeviceList>("/api/devices"), []);
  const [pairing, setPairing] = useState(false);
  const [rotated, setRotated] = useState<{ token: RotatedToken; name: string; own: boolean } | null>(null);
  const action = useAction();
  const now = Date.now();

  useEffect(
    () =>
      subscribe((event) => {
        if (event.type === "device_paired" || event.type === "device_revoked") {
          reload();
        }
      }),
    [subscribe, reload],
  );

  const devices = data?.devices ?? [];
  const { page, setPage, shown } = useClientPage(devices, PER_PAGE);
  const own = devices.find((device) => isOwnDevice(device, session.principal));

  async function revoke(device: Device) {
    const name = deviceLabel(device);
    const mine = isOwnDevice(device, session.principal);
    const warning = mine
      ? `Revoke ${name}? This browser is signed in as this device: you will be signed out.`
      : `Revoke ${name}? Its token stops working at once.`;
    if (!window.confirm(warning)) {
      return;
    }
    const done = await action.run(() => api(`/api/devices/${segment(device.id)}`, { method: "DELETE" }));
    if (done === undefined) {
      return;
    }
    if (mine) {
      signedOut();
    } else {
      reload();
    }
  }

  async function rotate(device: Device) {
    const name = deviceLabel(device);
    const mine = isOwnDevice(device, session.principal);
    const warning = mine
      ? `Rotate the token of ${name}? This browser is signed in as this device: its session ends, ` +
        "and the new token is shown once."
      : `Rotate the token of ${name}? The old token stops working at once; the new one is shown once.`;
    if (!window.confirm(warning)) {
      return;
    }
    const answer = await action.run(() =>
      api<RotatedToken>(`/api/devices/${segment(device.id)}/token/rotate`, { method: "POST" }),
    );
    if (answer !== undefined) {
      setRotated({ token: answer, name, own: mine });
    }
  }

  function tokenDone() {
    const wasOwn = rotated?.own ?? false;
    setRotated(null);
    if (wasOwn) {
      signedOut();
    }
  }

  return (
    <Page
      title="Devices"
      actions={
        <>
          <button type="button" onClick={() => setPairing(true)} disabled={pairing}>
            Pair a new device
          </button>
          <button type="button" className="secondary" onClick={reload} disabled={loading}>
            Refresh
          </button>
        </>
      }
    >
      {pairing && <PairNewDevice onClose={() => setPairing(false)} />}
      {rotated !== null && (
        <NewToken rotated={rotated.token} name={rotated.name} own={rotated.own} onDone={tokenDone} />
      )}
      <section aria-labelledby="devices-heading">
        <h2 id="devices-heading">Paired devices{data !== null && ` (${data.count})`}</h2>
        <p className="hint">
          {own !== undefined
            ? `This browser is signed in as the device “${deviceLabel(own)}” (marked below): revoking it or ` +
              "rotating its token signs this browser out."
            : `This browser is signed in as ${session.principal}, not as one of these devices.`}
        </p>
        <ErrorNote error={error ?? action.error} />
        {data !== null && devices.length === 0 && <p className="hint">No devices are paired.</p>}
        {devices.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Paired</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">IP address</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((device) => {
                  const name = deviceLabel(device);
                  const mine = isOwnDevice(device, session.principal);
                  return (
                    <tr key={device.id} className={mine ? "devices-own" : undefined}>
                      <td>
                        {name} {mine && <span className="badge ok">this browser</span>}
                      </td>
                      <td>{device.device_type ?? "—"}</td>
                      <td>{device.scopes.join(", ")}</td>
                      <td>{formatTime(device.paired_at)}</td>
                      <td>{device.last_seen === null ? "never" : formatTime(device.last_seen)}</td>
                      <td>{device.ip_address ?? "—"}</td>
                      <td>
                        {device.expires_at === null ? "never" : formatTime(device.expires_at)}{" "}
                        {isExpired(device.expires_at, now) && <span className="badge bad">expired</span>}
                      </td>
                      <td>
                        <div className="row devices-actions">
                          <button
                            type="button"
                            className="secondary"
                            aria-label={`Rotate token for ${name}`}
                            disabled={action.busy}
                            onClick={() => void rotate(device)}
                          >
                            Rotate token
                          </button>
                          <button
                            type="button"
                            className="danger"
                            aria-label={`Revoke ${name}`}
                            disabled={action.busy}
                            onClick={() => void revoke(device)}
                          >
                            Revoke
                          </button>
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} perPage={PER_PAGE} total={devices.length} onPage={setPage} />
      </section>
    </Page>
  );
}
