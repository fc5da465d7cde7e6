// The signed-in browser session, for views that need the principal or its scopes.
import { createContext, useContext } from "react";
import type { Session } from "./api";

export interface SessionValue {
  session: Session;
  /** Forget the session locally (after logout, or when the gateway answers 401). */
  signedOut: () => void;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (value === null) {
    throw new Error("useSession outside SessionContext");
  }
  return value;
}
