// The list + detail + form pattern the agent, skill, team and workflow views share: a server-paged,
// searchable list; the selected item's detail with its admin actions (edit, deprecate, delete); and the
// create/edit form, whose fields, checks and error handling live here too.
import {
  useEffect,
  useId,
  useRef,
  useState,
  type ComponentType,
  type FormEvent,
  type ReactNode,
  type RefObject,
} from "react";
import { api, errorMessage, hasScope, query, segment } from "../api";
import {
  bodyFrom,
  fieldOfError,
  validateFields,
  valuesFrom,
  type FieldErrors,
  type FieldSpec,
  type FormValues,
} from "../lib/entity";
import { useSession } from "../session";
import { clampPage, ErrorNote, formatTime, Page, Pager, useAction, useResource } from "../ui";
import "./entity.css";

/** What every listed thing has. */
export interface Entity {
  kref: string;
  name: string;
  deprecated: boolean;
}

export interface EntityFormProps<T> {
  /** The item being edited; null when creating. */
  item: T | null;
  onSaved: (saved: T) => void;
  onCancel: () => void;
}

interface ListAnswer {
  total_count: number;
  [key: string]: unknown;
}

export interface EntityViewProps<T extends Entity> {
  /** The page title, e.g. "Agents". */
  title: string;
  /** One of them, e.g. "agent". */
  noun: string;
  /** The collection route, e.g. "/api/agents" (with `/deprecate` and `/{kref}` under it). */
  path: string;
  /** The list answer's key, e.g. "agents". */
  listKey: string;
  /** Whether the list route takes `q`. */
  searchable: boolean;
  /** A line under each name in the list. */
  describe: (item: T) => ReactNode;
  /** Fetches the full item when the list's is partial. */
  loadDetail?: (item: T) => Promise<T>;
  /** The detail panel's body. */
  detail: ComponentType<{ item: T; admin: boolean }>;
  form: ComponentType<EntityFormProps<T>>;
  /** Rendered after the list and detail, with a way to reload the list. */
  after?: (reload: () => void, admin: boolean) => ReactNode;
}

const PER_PAGE = 20;

export function EntityView<T extends Entity>(props: EntityViewProps<T>) {
  const { title, noun, path, listKey, searchable, describe, loadDetail, after } = props;
  const Detail = props.detail;
  const Form = props.form;
  const admin = hasScope(useSession().session, "admin");
  const plural = title.toLowerCase();
  const [page, setPage] = useState(1);
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [includeDeprecated, setIncludeDeprecated] = useState(false);
  const [selected, setSelected] = useState<T | null>(null);
  const [mode, setMode] = useState<"view" | "create" | "edit">("view");
  const action = useAction();
  const heading = useRef<HTMLHeadingElement>(null);
  const focusHeading = useRef(false);

  const list = useResource(
    () =>
      api<ListAnswer>(
        `${path}${query({
          page,
          per_page: PER_PAGE,
          q: searchable ? search : undefined,
          include_deprecated: includeDeprecated ? true : undefined,
        })}`,
      ),
    [path, page, search, includeDeprecated],
  );
  const items = (list.data?.[listKey] as T[] | undefined) ?? [];
  const total = list.data?.total_count ?? 0;

  // After a delete empties the last page, show the page before it.
  useEffect(() => {
    if (list.data !== null) {
      const clamped = clampPage(page, list.data.total_count, PER_PAGE);
      if (clamped !== page) {
        setPage(clamped);
      }
    }
  }, [list.data, page]);

  const detail = useResource(
    () => (selected === null || loadDetail === undefined ? Promise.resolve(selected) : loadDetail(selected)),
    [selected],
  );
  const shown = loadDetail === undefined ? selected : detail.data?.kref === selected?.kref ? detail.data : null;

  useEffect(() => {
    if (focusHeading.current && heading.current !== null) {
      heading.current.focus();
      focusHeading.current = false;
    }
  }, [shown, mode]);

  const select = (item: T) => {
    action.clear();
    setMode("view");
    focusHeading.current = true;
    setSelected(item);
  };

  const saved = (item: T) => {
    focusHeading.current = true;
    setSelected(item);
    setMode("view");
    list.reload();
  };

  const deprecate = async (item: T, deprecated: boolean) => {
    const done = await action.run(() =>
      api(`${path}/deprecate`, { method: "POST", body: { kref: item.kref, deprecated } }),
    );
    if (done !== undefined) {
      setSelected({ ...item, deprecated });
      list.reload();
    }
  };

  const remove = async (item: T) => {
    if (!window.confirm(`Delete the ${noun} “${item.name}”? This cannot be undone.`)) {
      return;
    }
    const done = await action.run(() => api(`${path}/${segment(item.kref)}`, { method: "DELETE" }));
    if (done !== undefined) {
      setSelected(null);
      list.reload();
    }
  };

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setSearch(draft.trim());
    setPage(1);
  };

  let panel: ReactNode;
  if (mode === "create") {
    panel = (
      <>
        <h2>New {noun}</h2>
        <Form key="new" item={null} onSaved={saved} onCancel={() => setMode("view")} />
      </>
    );
  } else if (selected === null) {
    panel = (
      <p className="hint">
        Select {/^[aeiou]/.test(noun) ? "an" : "a"} {noun} to see it{admin ? `, or add one with “New ${noun}”` : ""}.
      </p>
    );
  } else if (shown === null) {
    panel = detail.error !== null ? <ErrorNote error={detail.error} /> : <p className="loading">Loading…</p>;
  } else if (mode === "edit") {
    panel = (
      <>
        <h2 ref={heading} tabIndex={-1}>
          Edit {shown.name}
        </h2>
        <Form key={`edit ${shown.kref}`} item={shown} onSaved={saved} onCancel={() => setMode("view")} />
      </>
    );
  } else {
    panel = (
      <>
        <div className="row entity-head">
          <h2 ref={heading} tabIndex={-1}>
            {shown.name}
          </h2>
          {shown.deprecated && <span className="badge warn">deprecated</span>}
        </div>
        {admin && (
          <div className="row entity-actions">
            <button type="button" onClick={() => setMode("edit")} disabled={action.busy}>
              Edit
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => void deprecate(shown, !shown.deprecated)}
              disabled={action.busy}
            >
              {shown.deprecated ? "Undeprecate" : "Deprecate"}
            </button>
            <button type="button" className="danger" onClick={() => void remove(shown)} disabled={action.busy}>
              Delete
            </button>
          </div>
        )}
        <ErrorNote error={action.error} />
        <ErrorNote error={detail.error} />
        <Detail key={shown.kref} item={shown} admin={admin} />
      </>
    );
  }

  return (
    <Page
      title={title}
      actions={
        admin ? (
          <button
            type="button"
            onClick={() => {
              action.clear();
              setMode("create");
            }}
          >
            New {noun}
          </button>
        ) : undefined
      }
    >
      <div className="entity-layout">
        <section className="entity-list-panel" aria-label={`${title} list`}>
          <div className="entity-tools">
            {searchable && (
              <form role="search" className="row search-row" onSubmit={onSearch}>
                <label className="grow-label">
                  <span>Search {plural}</span>
                  <input type="search" value={draft} onChange={(event) => setDraft(event.target.value)} />
                </label>
                <button type="submit" className="secondary">
                  Search
                </button>
              </form>
            )}
            <label className="check">
              <input
                type="checkbox"
                checked={includeDeprecated}
                onChange={(event) => {
                  setIncludeDeprecated(event.target.checked);
                  setPage(1);
                }}
              />
              Show deprecated
            </label>
          </div>
          <ErrorNote error={list.error} />
          {list.data === null && list.loading && <p className="loading">Loading…</p>}
          {list.data !== null && items.length === 0 && (
            <p className="hint">{search !== "" ? `No ${plural} match “${search}”.` : `No ${plural} yet.`}</p>
          )}
          <ul className="entity-list">
            {items.map((item) => (
              <li key={item.kref} className={selected?.kref === item.kref ? "selected" : undefined}>
                <button
                  type="button"
                  className="entity-name"
                  aria-current={selected?.kref === item.kref ? "true" : undefined}
                  onClick={() => select(item)}
                >
                  {item.name}
                </button>
                {item.deprecated && <span className="badge warn">deprecated</span>}
                <div className="entity-meta hint">{describe(item)}</div>
              </li>
            ))}
          </ul>
          <Pager page={page} perPage={PER_PAGE} total={total} onPage={setPage} />
          {list.data !== null && total > 0 && (
            <p className="hint">
              {total} {total === 1 ? noun : plural}
            </p>
          )}
        </section>
        <section className="entity-detail" aria-label={`${noun[0]?.toUpperCase() ?? ""}${noun.slice(1)} details`}>
          {panel}
        </section>
      </div>
      {after?.(list.reload, admin)}
    </Page>
  );
}

/** A definition list of the entries that have a value. */
export function Details({ entries }: { entries: [string, ReactNode][] }) {
  const present = entries.filter(([, value]) => value !== "" && value !== null && value !== undefined);
  return (
    <dl>
      {present.map(([label, value]) => (
        <div key={label} className="details-row">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Tags as badges; "" for none (so Details leaves the row out). */
export function tagList(items: readonly string[]): ReactNode {
  return items.length === 0 ? (
    ""
  ) : (
    <ul className="tag-list">
      {items.map((item) => (
        <li key={item} className="badge">
          {item}
        </li>
      ))}
    </ul>
  );
}

/** The rows every item shows last. */
export function provenance(item: { kref: string; created_at?: string }, revision: number | null | undefined): [string, ReactNode][] {
  return [
    ["Revision", revision === null || revision === undefined || revision === 0 ? "" : String(revision)],
    ["Created", item.created_at === undefined ? "" : <time dateTime={item.created_at}>{formatTime(item.created_at)}</time>],
    ["Kref", <code>{item.kref}</code>],
  ];
}

export interface Submit {
  busy: boolean;
  error: string | null;
  fieldErrors: FieldErrors;
  /** What was thrown by the last save, for answers with more detail (validation_errors). */
  caught: unknown;
  formRef: RefObject<HTMLFormElement | null>;
  /** Checks `clientErrors`, then runs `save` and hands its answer to `done`; a 422 naming a field marks it. */
  run: <T>(clientErrors: FieldErrors, save: () => Promise<T>, done: (value: T) => void) => Promise<void>;
}

/** Form submission: client checks first, then the request, with the server's error shown (and its field marked). */
export function useSubmit(fields: readonly string[]): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [caught, setCaught] = useState<unknown>(null);
  const formRef = useRef<HTMLFormElement | null>(null);
  const focusInvalid = () =>
    window.requestAnimationFrame(() =>
      formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(),
    );

  const run = async <T,>(clientErrors: FieldErrors, save: () => Promise<T>, done: (value: T) => void) => {
    setFieldErrors(clientErrors);
    setCaught(null);
    if (Object.keys(clientErrors).length > 0) {
      setError("Some fields need attention.");
      focusInvalid();
      return;
    }
    setBusy(true);
    setError(null);
    let value: T;
    try {
      value = await save();
    } catch (thrown) {
      setBusy(false);
      setCaught(thrown);
      setError(errorMessage(thrown));
      const field = fieldOfError(thrown, fields);
      if (field !== null) {
        setFieldErrors({ [field]: thrown instanceof Error ? thrown.message : String(thrown) });
        focusInvalid();
      }
      return;
    }
    setBusy(false);
    done(value);
  };

  return { busy, error, fieldErrors, caught, formRef, run };
}

/** One labelled input for a field spec, with its hint and error. */
export function Field({
  spec,
  value,
  onChange,
  error,
  readOnly = false,
  autoFocus = false,
}: {
  spec: FieldSpec;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  readOnly?: boolean;
  autoFocus?: boolean;
}) {
  const id = useId();
  const described = [error !== undefined ? `${id}-error` : "", spec.hint !== undefined ? `${id}-hint` : ""]
    .filter((part) => part !== "")
    .join(" ");
  const common = {
    id,
    value,
    readOnly,
    autoFocus,
    required: spec.required === true,
    "aria-invalid": error !== undefined ? true : undefined,
    "aria-describedby": described === "" ? undefined : described,
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {spec.label}
        {spec.required === true && (
          <span className="required" aria-hidden="true">
            {" "}
            *
          </span>
        )}
      </label>
      {spec.kind === "text" || spec.kind === "list" ? (
        <input type="text" {...common} onChange={(event) => onChange(event.target.value)} />
      ) : (
        <textarea
          {...common}
          className={spec.kind === "code" ? "code" : undefined}
          rows={spec.kind === "code" ? 16 : 4}
          spellCheck={spec.kind !== "code"}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
      {spec.hint !== undefined && (
        <p id={`${id}-hint`} className="hint field-note">
          {spec.hint}
        </p>
      )}
      {error !== undefined && (
        <p id={`${id}-error`} className="error field-note">
          {error}
        </p>
      )}
    </div>
  );
}

/** "Create" or "Save", and "Cancel". */
export function FormButtons({ editing, busy, onCancel }: { editing: boolean; busy: boolean; onCancel: () => void }) {
  return (
    <div className="row">
      <button type="submit" disabled={busy}>
        {editing ? "Save" : "Create"}
      </button>
      <button type="button" className="secondary" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      {busy && <span className="loading">Saving…</span>}
    </div>
  );
}

/** A form of plain fields (agents, skills): specs in, the saved entity out. */
export function SpecForm<T>({
  specs,
  item,
  save,
  onSaved,
  onCancel,
}: {
  specs: readonly FieldSpec[];
  item: Record<string, unknown> | null;
  save: (body: Record<string, unknown>) => Promise<T>;
  onSaved: (saved: T) => void;
  onCancel: () => void;
}) {
  const [values, setValues] = useState<FormValues>(() => valuesFrom(specs, item));
  const submit = useSubmit(specs.map((spec) => spec.name));
  const editing = item !== null;
  return (
    <form
      ref={submit.formRef}
      className="entity-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit.run(validateFields(specs, values), () => save(bodyFrom(specs, values)), onSaved);
      }}
    >
      <ErrorNote error={submit.error} />
      {specs.map((spec, index) => (
        <Field
          key={spec.name}
          spec={spec}
          value={values[spec.name] ?? ""}
          onChange={(value) => setValues((current) => ({ ...current, [spec.name]: value }))}
          error={submit.fieldErrors[spec.name]}
          readOnly={editing && spec.fixedOnEdit === true}
          autoFocus={index === 0 && !editing}
        />
      ))}
      <FormButtons editing={editing} busy={submit.busy} onCancel={onCancel} />
    </form>
  );
}

/** POST to `path` (create) or PUT to `path/{kref}` (edit), answering the entity under `key`. */
export function saveEntity<T>(path: string, key: string, item: { kref: string } | null, body: unknown): Promise<T> {
  const request =
    item === null
      ? api<Record<string, T>>(path, { method: "POST", body })
      : api<Record<string, T>>(`${path}/${segment(item.kref)}`, { method: "PUT", body });
  return request.then((answer) => answer[key] as T);
}
