// The memory browser: Kumiho's projects → spaces → items → revisions → artifacts (and edges), read through
// the gateway's read-only proxy. Where it is lives in the address (`/assets?project=&space=&item=&revision=
// &artifact=&q=`, see lib/memorybrowser), so the memory graph can link into it and every place has a URL.
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { useLocation, useSearch } from "wouter";
import { api, basePath } from "../api";
import {
  artifactBodyPath,
  breadcrumb,
  formatBytes,
  itemKrefOf,
  kumihoPath,
  loadArtifactPreview,
  locationOfKref,
  locationSearch,
  parseKref,
  readLocation,
  ROOT,
  splitPage,
  type BrowserLocation,
  type KumihoArtifact,
  type KumihoBundleMembers,
  type KumihoEdge,
  type KumihoItem,
  type KumihoProject,
  type KumihoRevision,
  type KumihoSearchHit,
  type KumihoSpace,
} from "../lib/memorybrowser";
import { browserHref, BrowserLink, KrefText } from "../lib/memorybrowser-ui";
import { ErrorNote, formatTime, Page, Pager, useClientPage, useResource, type Resource } from "../ui";
import "./Assets.css";

const PER_PAGE = 20;

/** A whole-list answer shown a page at a time. */
function ClientPaged<T>({
  items,
  render,
  empty,
}: {
  items: readonly T[];
  render: (page: T[]) => ReactNode;
  empty: string;
}) {
  const { page, setPage, shown } = useClientPage(items, PER_PAGE);
  if (items.length === 0) {
    return <p className="hint">{empty}</p>;
  }
  return (
    <>
      {render(shown)}
      <Pager page={page} perPage={PER_PAGE} total={items.length} onPage={setPage} />
    </>
  );
}

function Metadata({ metadata }: { metadata: Record<string, string> | null | undefined }) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) {
    return null;
  }
  return (
    <>
      <h3>Metadata</h3>
      <dl>
        {entries.map(([key, value]) => (
          <div key={key} className="metadata-row">
            <dt>{key}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function Loading({ loading }: { loading: boolean }) {
  return loading ? <p className="loading">Loading…</p> : null;
}

/** A titled section over a whole-list answer: its error, its loading note, then the list a page at a time. */
function ListSection<D, T>({
  id,
  title,
  resource,
  items,
  empty,
  render,
}: {
  id: string;
  title: string;
  resource: Pick<Resource<D>, "data" | "error" | "loading">;
  items: (data: D) => readonly T[];
  empty: string;
  render: (page: T[]) => ReactNode;
}) {
  const { data, error, loading } = resource;
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{title}</h2>
      <ErrorNote error={error} />
      <Loading loading={loading && data === null} />
      {data !== null && <ClientPaged items={items(data)} empty={empty} render={render} />}
    </section>
  );
}

/** A table with these column headings and `children` as its rows. */
function Table({ columns, children }: { columns: readonly (string | false)[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((column) => column !== false && <th key={column}>{column}</th>)}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

function SearchForm({ location }: { location: BrowserLocation }) {
  const [, navigate] = useLocation();
  const [text, setText] = useState(location.q ?? "");

  function submit(event: FormEvent) {
    event.preventDefault();
    const q = text.trim();
    const here = { ...ROOT, project: location.project };
    navigate(browserHref(q.length === 0 ? here : { ...here, q }));
  }

  return (
    <form role="search" aria-label="Search memory" className="row assets-search" onSubmit={submit}>
      <label>
        {location.project === null ? "Search all projects" : `Search ${location.project}`}
        <input type="search" value={text} onChange={(event) => setText(event.target.value)} maxLength={500} />
      </label>
      <button type="submit">Search</button>
      {location.q !== null && (
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setText("");
            navigate(browserHref({ ...ROOT, project: location.project }));
          }}
        >
          Clear search
        </button>
      )}
    </form>
  );
}

function ItemsTable({ items, score }: { items: readonly KumihoItem[]; score?: ReadonlyMap<string, number> }) {
  return (
    <Table columns={["Item", "Kind", score !== undefined && "Score", "Created", "Kref"]}>
      {items.map((item) => (
        <tr key={item.kref}>
          <td>
            <BrowserLink location={locationOfKref(item.kref) ?? ROOT}>{item.item_name}</BrowserLink>
            {item.deprecated === true && <span className="badge warn">deprecated</span>}
          </td>
          <td>{item.kind}</td>
          {score !== undefined && <td>{score.get(item.kref)?.toFixed(2) ?? ""}</td>}
          <td>
            <time>{formatTime(item.created_at)}</time>
          </td>
          <td>
            <KrefText kref={item.kref} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

function Projects() {
  const projects = useResource(() => api<KumihoProject[]>(kumihoPath("projects")), []);
  return (
    <ListSection
      id="projects"
      title="Projects"
      resource={projects}
      items={(data) => data}
      empty="Kumiho holds no projects yet."
      render={(page) => (
        <Table columns={["Project", "Description", "Created"]}>
          {page.map((project) => (
            <tr key={project.name}>
              <td>
                <BrowserLink location={{ ...ROOT, project: project.name }}>{project.name}</BrowserLink>
                {project.deprecated === true && <span className="badge warn">deprecated</span>}
              </td>
              <td>{project.description ?? ""}</td>
              <td>
                <time>{formatTime(project.created_at)}</time>
              </td>
            </tr>
          ))}
        </Table>
      )}
    />
  );
}

/** The spaces under `parent`; below a project's top level, nothing at all when there are none. */
function Spaces({ parent, project, quietWhenEmpty }: { parent: string; project: string; quietWhenEmpty: boolean }) {
  const spaces = useResource(() => api<KumihoSpace[]>(kumihoPath("spaces", { parent_path: parent })), [parent]);
  if (quietWhenEmpty && spaces.error === null && spaces.data?.length === 0) {
    return null;
  }
  return (
    <ListSection
      id="spaces"
      title="Spaces"
      resource={spaces}
      items={(data) => data}
      empty={`No spaces in ${parent}.`}
      render={(page) => (
        <ul className="space-list">
          {page.map((space) => (
            <li key={space.path}>
              <BrowserLink location={{ ...ROOT, project, space: space.path }}>{space.name}</BrowserLink>{" "}
              <code className="hint">{space.path}</code>
            </li>
          ))}
        </ul>
      )}
    />
  );
}

/** A space's items, a page at a time from Kumiho (`limit`/`offset`; it gives no total). */
function Items({ space }: { space: string }) {
  const [page, setPage] = useState(1);
  const [filter, setFilter] = useState("");
  const [applied, setApplied] = useState("");
  const [deprecated, setDeprecated] = useState(false);
  const { data, error, loading } = useResource(
    () =>
      api<KumihoItem[]>(
        kumihoPath("items", {
          space_path: space,
          name_filter: applied,
          include_deprecated: deprecated ? true : undefined,
          limit: PER_PAGE + 1,
          offset: (page - 1) * PER_PAGE,
        }),
      ),
    [space, applied, deprecated, page],
  );
  const { shown, hasMore } = splitPage(data ?? [], PER_PAGE);

  return (
    <section aria-labelledby="items-heading">
      <h2 id="items-heading">Items</h2>
      <form
        className="row"
        aria-label="Filter items"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(filter.trim());
          setPage(1);
        }}
      >
        <label>
          Name contains
          <input type="search" value={filter} onChange={(event) => setFilter(event.target.value)} maxLength={200} />
        </label>
        <label className="inline">
          <input
            type="checkbox"
            checked={deprecated}
            onChange={(event) => {
              setDeprecated(event.target.checked);
              setPage(1);
            }}
          />
          Include deprecated
        </label>
        <button type="submit" className="secondary">
          Filter
        </button>
      </form>
      <ErrorNote error={error} />
      <Loading loading={loading} />
      {data !== null &&
        (shown.length === 0 ? (
          <p className="hint">
            {page > 1 ? "No more items." : applied ? `No items named like “${applied}”.` : "No items in this space."}
          </p>
        ) : (
          <ItemsTable items={shown} />
        ))}
      {(page > 1 || hasMore) && (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="secondary" disabled={page <= 1 || loading} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>Page {page}</span>
          <button type="button" className="secondary" disabled={!hasMore || loading} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}

function SearchResults({ project, q }: { project: string | null; q: string }) {
  const results = useResource(
    () => api<KumihoSearchHit[]>(kumihoPath("items/fulltext-search", { query: q, context: project ?? undefined })),
    [project, q],
  );
  const scores = useMemo(
    () => new Map((results.data ?? []).map((hit) => [hit.item.kref, hit.score ?? 0])),
    [results.data],
  );
  return (
    <ListSection
      id="results"
      title="Search results"
      resource={results}
      items={(data) => data.map((hit) => hit.item)}
      empty={`Nothing matches “${q}”${project === null ? "" : ` in ${project}`}.`}
      render={(page) => <ItemsTable items={page} score={scores} />}
    />
  );
}

/** Edges touching an item (any of its revisions) or one revision; `self` is the item's kref. */
function Edges({ kref, self }: { kref: string; self: string }) {
  const edges = useResource(() => api<KumihoEdge[]>(kumihoPath("edges", { kref })), [kref]);
  const isSelf = (other: string) => {
    const parsed = parseKref(other);
    return parsed !== null && itemKrefOf(parsed) === self;
  };
  return (
    <ListSection
      id="edges"
      title="Edges"
      resource={edges}
      items={(data) => data}
      empty="No edges."
      render={(page) => (
        <Table columns={["Direction", "Type", "Other end", "Created"]}>
          {page.map((edge) => {
            const outgoing = isSelf(edge.source_kref);
            const other = outgoing ? edge.target_kref : edge.source_kref;
            const target = locationOfKref(other);
            return (
              <tr key={`${edge.source_kref} ${edge.edge_type} ${edge.target_kref}`}>
                <td>{outgoing ? "outgoing →" : "← incoming"}</td>
                <td>
                  <code>{edge.edge_type}</code>
                </td>
                <td>
                  {target === null ? (
                    other
                  ) : (
                    <BrowserLink location={target}>{other.replace(/^kref:\/\//, "")}</BrowserLink>
                  )}
                </td>
                <td>
                  <time>{formatTime(edge.created_at)}</time>
                </td>
              </tr>
            );
          })}
        </Table>
      )}
    />
  );
}

function BundleMembers({ kref }: { kref: string }) {
  const members = useResource(
    () => api<KumihoBundleMembers>(kumihoPath("bundles/members", { bundle_kref: kref })),
    [kref],
  );
  return (
    <ListSection
      id="members"
      title="Bundle members"
      resource={members}
      items={(data) => data.members}
      empty="The bundle has no members."
      render={(page) => (
        <ul className="space-list">
          {page.map((member) => (
            <li key={member.item_kref}>
              <BrowserLink location={locationOfKref(member.item_kref) ?? ROOT}>
                {member.item_kref.replace(/^kref:\/\//, "")}
              </BrowserLink>{" "}
              <time>{formatTime(member.added_at)}</time>
            </li>
          ))}
        </ul>
      )}
    />
  );
}

function Revisions({ location, item }: { location: BrowserLocation; item: string }) {
  const revisions = useResource(
    () => api<KumihoRevision[]>(kumihoPath("revisions", { item_kref: item })),
    [item],
  );
  const newestFirst = useMemo(() => [...(revisions.data ?? [])].sort((a, b) => b.number - a.number), [revisions.data]);
  return (
    <ListSection
      id="revisions"
      title="Revisions"
      resource={revisions}
      items={() => newestFirst}
      empty="No revisions."
      render={(page) => (
        <Table columns={["Revision", "Tags", "Created", "Kref"]}>
          {page.map((revision) => (
            <tr key={revision.kref}>
              <td>
                <BrowserLink location={{ ...location, revision: revision.kref, artifact: null }}>
                  r{revision.number}
                </BrowserLink>
                {revision.deprecated === true && <span className="badge warn">deprecated</span>}
              </td>
              <td>
                {(revision.tags ?? []).map((tag) => (
                  <span key={tag} className="badge">
                    {tag}
                  </span>
                ))}
              </td>
              <td>
                <time>{formatTime(revision.created_at)}</time>
              </td>
              <td>
                <KrefText kref={revision.kref} />
              </td>
            </tr>
          ))}
        </Table>
      )}
    />
  );
}

function ItemView({ location, item }: { location: BrowserLocation; item: string }) {
  const details = useResource(() => api<KumihoItem>(kumihoPath("items/by-kref", { kref: item })), [item]);
  const data = details.data;
  return (
    <>
      <section aria-labelledby="item-heading">
        <h2 id="item-heading">Item {data === null ? "" : `${data.item_name}.${data.kind}`}</h2>
        <ErrorNote error={details.error} />
        <Loading loading={details.loading && data === null} />
        {data !== null && (
          <>
            <dl>
              <dt>Kref</dt>
              <dd>
                <KrefText kref={data.kref} />
              </dd>
              <dt>Kind</dt>
              <dd>{data.kind}</dd>
              <dt>Created</dt>
              <dd>{formatTime(data.created_at)}</dd>
              <dt>State</dt>
              <dd>{data.deprecated === true ? <span className="badge warn">deprecated</span> : "active"}</dd>
            </dl>
            <Metadata metadata={data.metadata} />
          </>
        )}
      </section>
      {data !== null && <Revisions location={location} item={item} />}
      {data?.kind === "bundle" && <BundleMembers kref={item} />}
      {data !== null && <Edges kref={item} self={item} />}
    </>
  );
}

function RevisionView({ location, item, revision }: { location: BrowserLocation; item: string; revision: string }) {
  const details = useResource(
    () => api<KumihoRevision>(kumihoPath("revisions/by-kref", { kref: revision })),
    [revision],
  );
  const data = details.data;
  // A tagged revision (`?t=`) is resolved first; its artifacts and edges hang off the numbered kref.
  const resolved = data?.kref ?? null;
  return (
    <>
      <section aria-labelledby="revision-heading">
        <h2 id="revision-heading">Revision {data === null ? "" : `r${data.number}`}</h2>
        <ErrorNote error={details.error} />
        <Loading loading={details.loading && data === null} />
        {data !== null && (
          <>
            <dl>
              <dt>Kref</dt>
              <dd>
                <KrefText kref={data.kref} />
              </dd>
              <dt>Tags</dt>
              <dd>{(data.tags ?? []).join(", ") || "none"}</dd>
              <dt>Created</dt>
              <dd>{formatTime(data.created_at)}</dd>
              <dt>State</dt>
              <dd>{data.deprecated === true ? <span className="badge warn">deprecated</span> : "active"}</dd>
            </dl>
            <Metadata metadata={data.metadata} />
          </>
        )}
      </section>
      {resolved !== null && <Artifacts location={location} revision={resolved} />}
      {resolved !== null && <Edges kref={resolved} self={item} />}
    </>
  );
}

function Artifacts({ location, revision }: { location: BrowserLocation; revision: string }) {
  const artifacts = useResource(
    () => api<KumihoArtifact[]>(kumihoPath("artifacts", { revision_kref: revision })),
    [revision],
  );
  return (
    <ListSection
      id="artifacts"
      title="Artifacts"
      resource={artifacts}
      items={(data) => data}
      empty="This revision has no artifacts."
      render={(page) => (
        <Table columns={["Artifact", "Location", "Kref"]}>
          {page.map((artifact) => (
            <tr key={artifact.kref}>
              <td>
                <BrowserLink location={{ ...location, artifact: artifact.name }}>{artifact.name}</BrowserLink>
              </td>
              <td>
                <code className="wrap">{artifact.location}</code>
              </td>
              <td>
                <KrefText kref={artifact.kref} />
              </td>
            </tr>
          ))}
        </Table>
      )}
    />
  );
}

function ArtifactPreview({ location }: { location: string }) {
  const { data, error, loading } = useResource(() => loadArtifactPreview(location), [location]);
  return (
    <section aria-labelledby="preview-heading">
      <h2 id="preview-heading">Content</h2>
      <ErrorNote error={error} />
      <Loading loading={loading} />
      {data !== null &&
        !loading &&
        (data.kind === "text" ? (
          <>
            {data.truncated && (
              <p className="hint" role="note">
                Showing the first {formatBytes(data.shownBytes)}
                {data.totalBytes === null ? "" : ` of ${formatBytes(data.totalBytes)}`}; download the artifact for
                all of it.
              </p>
            )}
            {data.text.length === 0 ? (
              <p className="hint">The artifact is empty.</p>
            ) : (
              <pre className="artifact-text" tabIndex={0} aria-label="Artifact content">
                {data.text}
              </pre>
            )}
          </>
        ) : (
          <p className="hint">
            Not shown: {data.contentType}
            {data.totalBytes === null ? "" : `, ${formatBytes(data.totalBytes)}`}. Use the download link.
          </p>
        ))}
    </section>
  );
}

function ArtifactView({ revision, name }: { revision: string; name: string }) {
  const { data, error, loading } = useResource(
    () => api<KumihoArtifact>(kumihoPath("artifacts/by-kref", { revision_kref: revision, name })),
    [revision, name],
  );
  return (
    <>
      <section aria-labelledby="artifact-heading">
        <h2 id="artifact-heading">Artifact {name}</h2>
        <ErrorNote error={error} />
        <Loading loading={loading && data === null} />
        {data !== null && (
          <>
            <dl>
              <dt>Kref</dt>
              <dd>
                <KrefText kref={data.kref} />
              </dd>
              <dt>Location</dt>
              <dd>
                <code className="wrap">{data.location}</code>
              </dd>
              <dt>Created</dt>
              <dd>{formatTime(data.created_at)}</dd>
            </dl>
            <Metadata metadata={data.metadata} />
            <p>
              <a href={`${basePath()}${artifactBodyPath(data.location)}`} download={data.name}>
                Download {data.name}
              </a>
            </p>
          </>
        )}
      </section>
      {data !== null && <ArtifactPreview location={data.location} />}
    </>
  );
}

function Body({ location }: { location: BrowserLocation }) {
  if (location.q !== null) {
    return <SearchResults project={location.project} q={location.q} />;
  }
  if (location.project === null) {
    return <Projects />;
  }
  if (location.item === null) {
    const space = location.space ?? `/${location.project}`;
    return (
      <>
        <Spaces parent={space} project={location.project} quietWhenEmpty={location.space !== null} />
        {location.space !== null && <Items space={location.space} />}
      </>
    );
  }
  if (location.revision === null) {
    return <ItemView location={location} item={location.item} />;
  }
  if (location.artifact === null) {
    return <RevisionView location={location} item={location.item} revision={location.revision} />;
  }
  return <ArtifactView revision={location.revision} name={location.artifact} />;
}

export function AssetsView() {
  // Re-render on every change of the query string; read it from window.location, since wouter's copy is
  // partly percent-decoded (a kref's `%` would not survive it).
  const search = useSearch();
  const location = useMemo(() => readLocation(new URLSearchParams(window.location.search)), [search]);
  const crumbs = breadcrumb(location);

  return (
    <Page title="Memory browser">
      <div className="assets">
        <nav aria-label="Location" className="crumbs">
          <ol>
            {crumbs.map((crumb, index) => (
              <li key={index}>
                {index === crumbs.length - 1 ? (
                  <span aria-current="page">{crumb.label}</span>
                ) : (
                  <BrowserLink location={crumb.location}>{crumb.label}</BrowserLink>
                )}
              </li>
            ))}
          </ol>
        </nav>
        <SearchForm key={`${location.project ?? ""}\u0000${location.q ?? ""}`} location={location} />
        <Body key={locationSearch(location)} location={location} />
      </div>
    </Page>
  );
}
