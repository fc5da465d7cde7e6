// Small pieces every view shares: loading a resource, showing errors, paging, times.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { errorMessage } from "./api";

export interface Resource<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `loader()` now and whenever `deps` change (or `reload()` is called). A stale answer (one that
 * arrives after a newer load started) is dropped, so fast paging never shows the wrong page.
 */
export function useResource<T>(loader: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  const load = useRef(loader);
  load.current = loader;

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    load
      .current()
      .then((value) => {
        if (mine === generation.current) {
          setData(value);
          setError(null);
        }
      })
      .catch((caught: unknown) => {
        if (mine === generation.current) {
          setError(errorMessage(caught));
        }
      })
      .finally(() => {
        if (mine === generation.current) {
          setLoading(false);
        }
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, loading, reload };
}

/** Runs an action, remembering its error; `busy` while it runs. */
export function useAction(): {
  busy: boolean;
  error: string | null;
  run: <T>(action: () => Promise<T>) => Promise<T | undefined>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await action();
    } catch (caught) {
      setError(errorMessage(caught));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(null) };
}

export function ErrorNote({ error }: { error: string | null }) {
  return error === null ? null : (
    <p role="alert" className="error">
      {error}
    </p>
  );
}

/** A view's frame: its title, optional actions, and the body. */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <div className="page">
      <div className="page-head">
        <h1>{title}</h1>
        {actions !== undefined && <div className="page-actions">{actions}</div>}
      </div>
      {children}
    </div>
  );
}

/** Previous/next paging over `total` items, `perPage` at a time; `page` is 1-based. */
export function Pager({
  page,
  perPage,
  total,
  onPage,
}: {
  page: number;
  perPage: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) {
    return null;
  }
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" className="secondary" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

/** Client-side paging of a list the API returns whole: the slice for `page` (1-based). */
export function pageOf<T>(items: readonly T[], page: number, perPage: number): T[] {
  return items.slice((page - 1) * perPage, page * perPage);
}

/** The page to show once the total is known: within 1..last page. */
export function clampPage(page: number, total: number, perPage: number): number {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return Math.min(Math.max(1, page), pages);
}

/**
 * Client-side paging state for a whole list: the page on show (kept within the list as it shrinks, so a
 * removal never leaves an empty "page 3 of 2"), its items, and the setter for <Pager onPage>.
 */
export function useClientPage<T>(
  items: readonly T[],
  perPage: number,
): { page: number; setPage: (page: number) => void; shown: T[] } {
  const [chosen, setPage] = useState(1);
  const page = clampPage(chosen, items.length, perPage);
  return { page, setPage, shown: pageOf(items, page, perPage) };
}

/** A timestamp (RFC 3339 or epoch milliseconds) in the reader's locale; "" for nothing. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") {
    return "";
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}
