import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ComponentType } from "react";
import { Link, Redirect, Route, Router, Switch, useLocation } from "wouter";
import { api, ApiError, basePath, errorMessage, hasScope, onUnauthorized, type Session } from "./api";
import { EventsProvider, useEvents } from "./lib/events";
import { SessionContext, useSession } from "./session";
import { SignIn } from "./SignIn";
import { applyTheme, nextTheme, storedTheme, type Theme } from "./theme";
import { AgentsView } from "./views/Agents";
import { AssetsView } from "./views/Assets";
import { AuditView } from "./views/Audit";
import { CanvasView } from "./views/Canvas";
import { ChatView } from "./views/Chat";
import { ConfigView } from "./views/Config";
import { CostView } from "./views/Cost";
import { DevicesView } from "./views/Devices";
import { DoctorView } from "./views/Doctor";
import { EventsView } from "./views/Events";
import { LogsView } from "./views/Logs";
import { NodesView } from "./views/Nodes";
import { Overview } from "./views/Overview";
import { RunsView } from "./views/Runs";
import { SkillsView } from "./views/Skills";
import { TeamsView } from "./views/Teams";
import { WorkflowsView } from "./views/Workflows";

// The terminal and the memory graph carry the heaviest code; they load when first opened.
const TerminalView = lazy(() => import("./views/Terminal").then((module) => ({ default: module.TerminalView })));
const MemoryView = lazy(() => import("./views/Memory").then((module) => ({ default: module.MemoryView })));

type Scope = "read" | "chat" | "admin" | "terminal";

interface NavItem {
  path: string;
  label: string;
  scope: Scope;
  view: ComponentType;
  group: string;
}

/** Every view, its address (upstream's where it had one) and the scope its API calls need. */
export const NAV: readonly NavItem[] = [
  { path: "/dashboard", label: "Overview", scope: "read", view: Overview, group: "Gateway" },
  { path: "/chat", label: "Chat", scope: "chat", view: ChatView, group: "Gateway" },
  { path: "/events", label: "Live events", scope: "read", view: EventsView, group: "Gateway" },
  { path: "/canvas", label: "Canvas", scope: "read", view: CanvasView, group: "Gateway" },
  { path: "/nodes", label: "Nodes", scope: "read", view: NodesView, group: "Gateway" },
  { path: "/terminal", label: "Terminal", scope: "terminal", view: TerminalView, group: "Gateway" },
  { path: "/agents", label: "Agents", scope: "read", view: AgentsView, group: "Orchestration" },
  { path: "/skills", label: "Skills", scope: "read", view: SkillsView, group: "Orchestration" },
  { path: "/teams", label: "Teams", scope: "read", view: TeamsView, group: "Orchestration" },
  { path: "/workflows", label: "Workflows", scope: "read", view: WorkflowsView, group: "Orchestration" },
  { path: "/runs", label: "Runs & approvals", scope: "read", view: RunsView, group: "Orchestration" },
  { path: "/assets", label: "Memory browser", scope: "read", view: AssetsView, group: "Memory" },
  { path: "/memory", label: "Memory graph", scope: "read", view: MemoryView, group: "Memory" },
  { path: "/pairing", label: "Devices", scope: "admin", view: DevicesView, group: "Operations" },
  { path: "/config", label: "Configuration", scope: "admin", view: ConfigView, group: "Operations" },
  { path: "/cost", label: "Cost", scope: "read", view: CostView, group: "Operations" },
  { path: "/logs", label: "Logs", scope: "admin", view: LogsView, group: "Operations" },
  { path: "/audit", label: "Audit", scope: "admin", view: AuditView, group: "Operations" },
  { path: "/doctor", label: "Doctor", scope: "admin", view: DoctorView, group: "Operations" },
];

function ThemeButton() {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  useEffect(() => applyTheme(theme), [theme]);
  return (
    <button type="button" className="secondary" onClick={() => setTheme(nextTheme(theme))} title="Switch theme">
      Theme: {theme}
    </button>
  );
}

function Connection() {
  const { state } = useEvents();
  return (
    <span className={`badge ${state === "open" ? "ok" : "warn"}`} role="status" aria-live="polite">
      {state === "open" ? "live" : state}
    </span>
  );
}

function Shell() {
  const { session, signedOut } = useSession();
  const [location] = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const items = useMemo(() => NAV.filter((item) => hasScope(session, item.scope)), [session]);
  const groups = [...new Set(items.map((item) => item.group))];

  useEffect(() => setMenuOpen(false), [location]);

  const [signOutError, setSignOutError] = useState<string | null>(null);

  // Signed out only once the gateway has revoked this browser's device: if the call fails, the cookie may
  // still work, so the browser stays signed in and says why. (A 401 means it is gone already.)
  async function signOut() {
    setSignOutError(null);
    try {
      await api("/api/auth/logout", { method: "POST" });
      signedOut();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) {
        signedOut();
      } else {
        setSignOutError(`Not signed out: ${errorMessage(caught)}`);
      }
    }
  }

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="secondary menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <strong className="brand">Construct Gateway</strong>
        <Connection />
        <span className="who" title={session.principal}>
          {session.name ?? (session.kind === "local_operator" ? "local operator" : session.principal)}
        </span>
        <ThemeButton />
        {session.kind === "device" && (
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        )}
        {signOutError !== null && (
          <span role="alert" className="error">
            {signOutError}
          </span>
        )}
      </header>
      <nav id="nav" className={menuOpen ? "sidebar open" : "sidebar"} aria-label="Views">
        {groups.map((group) => (
          <div key={group}>
            <h2>{group}</h2>
            <ul>
              {items
                .filter((item) => item.group === group)
                .map((item) => (
                  <li key={item.path}>
                    <Link
                      href={item.path}
                      className={location === item.path || location.startsWith(`${item.path}/`) ? "active" : ""}
                      aria-current={location === item.path ? "page" : undefined}
                    >
                      {item.label}
                    </Link>
                  </li>
                ))}
            </ul>
          </div>
        ))}
      </nav>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Switch>
            <Route path="/">
              <Redirect to="/dashboard" replace />
            </Route>
            <Route path="/_app/">
              <Redirect to="/dashboard" replace />
            </Route>
            <Route path="/_app/index.html">
              <Redirect to="/dashboard" replace />
            </Route>
            {items.map((item) => (
              <Route key={item.path} path={item.path} nest>
                <item.view />
              </Route>
            ))}
            <Route>
              <p className="error" role="alert">
                There is no view at {location}, or this device's scopes ({session.scopes.join(", ")}) do not
                reach it.
              </p>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}

/** Signed in (a session cookie the gateway accepts, or a loopback gateway without pairing) or not. */
export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api<Session>("/api/auth/session")
      .then((value) => {
        setFailure(null);
        setSession(value);
      })
      .catch((caught: unknown) => {
        if (caught instanceof ApiError && caught.status !== 401) {
          setFailure(caught.message);
        }
        setSession(null);
      });
  }, []);

  useEffect(refresh, [refresh]);
  useEffect(() => {
    onUnauthorized(() => setSession(null));
    return () => onUnauthorized(null);
  }, []);

  const signedOut = useCallback(() => setSession(null), []);
  const value = useMemo(() => (session ? { session, signedOut } : null), [session, signedOut]);

  if (session === undefined) {
    return <p className="loading">Connecting…</p>;
  }
  if (value === null) {
    return <SignIn onSignedIn={refresh} failure={failure} />;
  }
  return (
    <SessionContext.Provider value={value}>
      <EventsProvider>
        <Router base={basePath()}>
          <Shell />
        </Router>
      </EventsProvider>
    </SessionContext.Provider>
  );
}
