import { api, type Channels, type Health, type Status } from "../api";
import { useEvents } from "../lib/events";
import { ErrorNote, formatTime, Page, useResource } from "../ui";
import { useEffect } from "react";

function uptime(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}

/** Status, component health, channels (refreshed every ten seconds) and the latest events. */
export function Overview() {
  const { data, error, reload } = useResource(
    () => Promise.all([api<Status>("/api/status"), api<Health>("/api/health"), api<Channels>("/api/channels")]),
    [],
  );
  const { events } = useEvents();
  useEffect(() => {
    const timer = window.setInterval(reload, 10_000);
    return () => window.clearInterval(timer);
  }, [reload]);
  const [status, health, channels] = data ?? [null, null, null];
  const recent = events.slice(-10).reverse();

  return (
    <Page title="Overview">
      <ErrorNote error={error} />
      <div className="cards">
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
              <dt>Pairing</dt>
              <dd>{status.pairing.required ? "required" : "off (loopback only)"}</dd>
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
      </div>
      <section>
        <h2>Recent events</h2>
        {recent.length === 0 ? (
          <p className="hint">No events since this page opened.</p>
        ) : (
          <ul className="event-list">
            {recent.map((event, index) => (
              <li key={event.id ?? `x${index}`}>
                <time>{formatTime(event.timestamp)}</time> <strong>{event.type}</strong>
              </li>
            ))}
          </ul>
        )}
      </section>
    </Page>
  );
}
