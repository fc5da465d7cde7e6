import { useEffect, useState, type FormEvent } from "react";
import { api, errorMessage } from "./api";

interface LoopbackCode {
  pairing_required: boolean;
  pairing_code: string | null;
}

/**
 * Pairing: the code from the terminal banner (or `construct-gateway pair-code`) signs this browser in.
 * On the gateway's own machine the loopback helper (`GET /pair/code`) offers the code directly; anywhere
 * else that route refuses and the operator types it.
 */
export function SignIn({ onSignedIn, failure }: { onSignedIn: () => void; failure?: string | null }) {
  const [code, setCode] = useState("");
  const [name, setName] = useState("browser");
  const [offered, setOffered] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(failure ?? null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<LoopbackCode>("/pair/code")
      .then((answer) => {
        if (answer.pairing_code !== null) {
          setOffered(answer.pairing_code);
        }
      })
      .catch(() => undefined);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/api/auth/login", { method: "POST", body: { code: code.trim(), name: name.trim() || "browser" } });
      onSignedIn();
    } catch (caught) {
      setError(errorMessage(caught));
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
        <label htmlFor="device-name">Name this browser</label>
        <input
          id="device-name"
          maxLength={64}
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder="browser"
        />
        <button type="submit" disabled={busy || code.trim().length === 0}>
          {busy ? "Pairing…" : "Pair this browser"}
        </button>
        {error !== null && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
      {offered !== null && (
        <p className="hint">
          This browser is on the gateway's machine; the current code is <code>{offered}</code>.{" "}
          <button type="button" className="link" onClick={() => setCode(offered)}>
            Use it
          </button>
        </p>
      )}
      <p className="hint">
        The code is printed when the gateway starts; <code>construct-gateway pair-code</code> shows it again.
      </p>
    </main>
  );
}
