// Pieces the memory browser and the memory graph share: a kref with a copy button, and a link into the
// browser at a location.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "wouter";
import { basePath } from "../api";
import { copyOrSelect } from "./clipboard";
import { locationSearch, type BrowserLocation } from "./memorybrowser";
import "./memorybrowser-ui.css";

/** The href of the memory browser at `location`, absolute (so it works from inside any nested route). */
export function browserHref(location: BrowserLocation): string {
  return `~${basePath()}/assets${locationSearch(location)}`;
}

export function BrowserLink({ location, children }: { location: BrowserLocation; children: ReactNode }) {
  return <Link href={browserHref(location)}>{children}</Link>;
}

/** A kref and a button copying it (or selecting it, where copying is not possible). */
export function KrefText({ kref }: { kref: string }) {
  const [state, setState] = useState<"idle" | "copied" | "selected">("idle");
  const text = useRef<HTMLElement>(null);

  useEffect(() => {
    if (state === "idle") {
      return;
    }
    const timer = window.setTimeout(() => setState("idle"), 2500);
    return () => window.clearTimeout(timer);
  }, [state]);

  async function copy() {
    setState((await copyOrSelect(kref, text.current)) ? "copied" : "selected");
  }

  return (
    <span className="kref">
      <code ref={text}>{kref}</code>
      <button type="button" className="secondary kref-copy" aria-label={`Copy ${kref}`} onClick={() => void copy()}>
        {state === "copied" ? "Copied" : "Copy"}
      </button>
      <span className="hint" role="status">
        {state === "selected" ? "Selected: press Ctrl+C (⌘C) to copy." : ""}
      </span>
    </span>
  );
}
