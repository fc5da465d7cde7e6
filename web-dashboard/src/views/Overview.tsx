import { useEffect, useState } from "react";
import { api, ApiError, type Channels, type Health, type Session, type Status } from "./api";

function uptime(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}

/** Status, component health and channels, refreshed every ten seconds. */
export function Overview({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [health, setHealth] = useState<Health | null>(null);
  const [channels, setChannels] = useState<Channels | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    async function load() {
      try {
        const [s, h, c] = await Promise.all([
          api<Status>("/api/status"),
          api<Health>("/api/health"),
          api<Channels>("/api/channels"),
        ]);
        if (!cancelled) {
          setStatus(s);
          setHealth(h);
          setChannels(c);
          setError(null);
        }
      } catch (caught) {
        if (caught instanceof ApiError && caught.status === 401) {
          onSignedOut();
        } else if (!cancelled) {
          setError(caught instanceof Error ? caught.message : "Unknown error");
        }
      }
    }
    void load();
    const timer = window.setInterval(() => void load(), 10_000);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
  }, [onSignedOut]);

  async function signOut() {
    await api("/api/auth/logout", { method: "POST" }).catch(() => undefined);
    onSignedOut();
  }

  return (
    <main className="overview">
      <header>
        <h1>Construct Gateway</h1>
        <span className="who">
          {session.principal} · {session.scopes.join(", ")}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {error !== null && <p role="alert" className="error">{error}</p>}
      {status !== null && (
        <section>
          <h2>Status</h2>
          <dl>
            <dt>Version</dt>
            <dd>{status.version}</dd>
            <dt>Up for</dt>
            <dd>{uptime(status.uptime_secs)}</dd>
            <dt>Address</dt>
            <dd>{status.bind.url}</dd>
            <dt>TLS</dt>
            <dd>{status.tls.posture}</dd>
            <dt>Devices</dt>
            <dd>{status.pairing.device_count}</dd>
            <dt>Store</dt>
            <dd>{status.store}</dd>
          </dl>
        </section>
      )}
      {health !== null && (
        <section>
          <h2>Health</h2>
          <ul>
            {Object.entries(health.health.components).map(([name, component]) => (
              <li key={name} className={component.status === "ok" ? "ok" : "bad"}>
                {name}: {component.status}
                {component.last_error !== undefined && ` (${component.last_error})`}
              </li>
            ))}
          </ul>
        </section>
      )}
      {channels !== null && (
        <section>
          <h2>Channels</h2>
          <ul>
            {channels.channels.map((channel) => (
              <li key={channel.name} className={channel.enabled ? "ok" : "off"}>
                {channel.name}: {channel.status}
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
