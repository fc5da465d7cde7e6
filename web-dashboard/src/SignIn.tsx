import { useState, type FormEvent } from "react";
import { api, ApiError } from "./api";

/** Pairing: the code from the terminal banner (or `construct-gateway pair-code`) signs this browser in. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/api/auth/login", { method: "POST", body: JSON.stringify({ code: code.trim(), name: "browser" }) });
      onSignedIn();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : "The gateway could not be reached");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <h1>Construct Gateway</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label htmlFor="code">Pairing code</label>
        <input
          id="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          value={code}
          onChange={(event) => setCode(event.target.value)}
          placeholder="from the gateway's terminal"
        />
        <button type="submit" disabled={busy || code.trim().length === 0}>
          {busy ? "Pairing…" : "Pair this browser"}
        </button>
        {error !== null && <p role="alert" className="error">{error}</p>}
      </form>
      <p className="hint">
        The code is printed when the gateway starts; <code>construct-gateway pair-code</code> shows it again.
      </p>
    </main>
  );
}
