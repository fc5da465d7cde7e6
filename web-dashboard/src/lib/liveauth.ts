// Sockets and event streams cannot read the status of a refused upgrade; this asks the gateway instead.
import { api, ApiError } from "../api";

/** True when the browser session is gone (the gateway answers 401); false when signed in or unknown. */
export async function sessionGone(): Promise<boolean> {
  try {
    await api("/api/auth/session");
    return false;
  } catch (caught) {
    return caught instanceof ApiError && caught.status === 401;
  }
}
