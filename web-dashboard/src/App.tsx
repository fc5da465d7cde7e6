import { useCallback, useEffect, useState } from "react";
import { api, ApiError, type Session } from "./api";
import { Overview } from "./Overview";
import { SignIn } from "./SignIn";

/** Signed in (a session cookie the gateway accepts) or not. */
export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const refresh = useCallback(() => {
    api<Session>("/api/auth/session")
      .then(setSession)
      .catch((caught: unknown) => {
        setSession(caught instanceof ApiError && caught.status === 401 ? null : null);
      });
  }, []);

  useEffect(refresh, [refresh]);

  if (session === undefined) {
    return <p className="loading">Connecting…</p>;
  }
  if (session === null) {
    return <SignIn onSignedIn={refresh} />;
  }
  return <Overview session={session} onSignedOut={() => setSession(null)} />;
}
