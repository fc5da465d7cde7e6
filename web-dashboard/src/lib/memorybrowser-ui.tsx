// Pieces the memory browser and the memory graph share: a kref with a copy button, and a link into the
// browser at a location.
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "wouter";
import { basePath } from "../api";
import { locationSearch, type BrowserLocation } from "./memorybrowser";
import "./memorybrowser-ui.css";

/** The href of the memory browser at `location`, absolute (so it works from inside any nested route). */
export function browserHref(location: BrowserLocation): string {
  return `~${basePath()}/assets${locationSearch(location)}`;
}

export function BrowserLink({ location, children }: { location: BrowserLocation; children: ReactNode }) {
  return <Link href={browserHref(location)}>{children}</Link>;
}

/**
 * A kref and a button copying it. Without the Clipboard API (a page served over plain http to another
 * host), the kref is selected instead, for the reader to copy by hand.
 */
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
    try {
      await navigator.clipboard.writeText(kref);
      setState("copied");
    } catch {
      const selection = window.getSelection();
      if (text.current !== null && selection !== null) {
        const range = document.createRange();
        range.selectNodeContents(text.current);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      setState("selected");
    }
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
