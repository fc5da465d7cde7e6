// The memory graph: a project's items and the edges between them (`GET /api/memory/graph`), drawn as SVG
// with the force layout of lib/forcelayout. A node's details link into the memory browser.
import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api } from "../api";
import { forceLayout } from "../lib/forcelayout";
import { kumihoPath, type KumihoProject } from "../lib/memorybrowser";
import { BrowserLink, KrefText } from "../lib/memorybrowser-ui";
import {
  DEFAULT_GRAPH_FORM,
  graphQuery,
  kindSlots,
  MAX_GRAPH_LIMIT,
  neighbours,
  nodeLocation,
  type GraphForm,
  type GraphNode,
  type MemoryGraph,
} from "../lib/memorygraph";
import { ErrorNote, formatTime, Page, Pager, useClientPage, useResource } from "../ui";
import "./Memory.css";

const WIDTH = 720;
const HEIGHT = 520;
const PER_PAGE = 25;
/** Above this many nodes, only the selected node and its neighbours are labelled. */
const LABEL_ALL_UP_TO = 60;

function QueryForm({ onApply }: { onApply: (query: string) => void }) {
  const [form, setForm] = useState<GraphForm>(DEFAULT_GRAPH_FORM);
  const [problem, setProblem] = useState<string | null>(null);
  const projects = useResource(() => api<KumihoProject[]>(kumihoPath("projects")), []);
  const set = <K extends keyof GraphForm>(key: K, value: GraphForm[K]) => setForm({ ...form, [key]: value });

  function submit(event: FormEvent) {
    event.preventDefault();
    const result = graphQuery(form);
    if ("error" in result) {
      setProblem(result.error);
      return;
    }
    setProblem(null);
    onApply(result.query);
  }

  return (
    <form className="memory-form" aria-label="Graph query" onSubmit={submit} noValidate>
      <div className="memory-field">
        <label htmlFor="memory-project">Project</label>
        <select id="memory-project" value={form.project} onChange={(event) => set("project", event.target.value)}>
          <option value="">Default memory project</option>
          {(projects.data ?? []).map((project) => (
            <option key={project.name} value={project.name}>
              {project.name}
            </option>
          ))}
        </select>
      </div>
      <div className="memory-field">
        <label htmlFor="memory-kinds">Kinds</label>
        <input
          id="memory-kinds"
          value={form.kinds}
          onChange={(event) => set("kinds", event.target.value)}
          placeholder="agent, skilldef"
          aria-describedby="memory-kinds-hint"
        />
        <span id="memory-kinds-hint" className="hint">
          Comma-separated; empty for every kind.
        </span>
      </div>
      <label>
        Space
        <input value={form.space} onChange={(event) => set("space", event.target.value)} placeholder="Project/Space" />
      </label>
      <label>
        Search
        <input type="search" value={form.search} onChange={(event) => set("search", event.target.value)} />
      </label>
      <label>
        Limit
        <input
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_GRAPH_LIMIT}
          value={form.limit}
          onChange={(event) => set("limit", event.target.value)}
        />
      </label>
      <div className="memory-field">
        <label htmlFor="memory-sort">Order</label>
        <select
          id="memory-sort"
          value={form.sort}
          onChange={(event) => set("sort", event.target.value === "name" ? "name" : "recent")}
        >
          <option value="recent">Newest first</option>
          <option value="name">By name</option>
        </select>
      </div>
      <div className="memory-form-actions">
        <button type="submit">Show graph</button>
      </div>
      <ErrorNote error={problem ?? (projects.error === null ? null : `Projects: ${projects.error}`)} />
    </form>
  );
}

function Legend({ graph, slots }: { graph: MemoryGraph; slots: ReadonlyMap<string, number> }) {
  const kinds = Object.entries(graph.stats.kinds).sort(([a], [b]) => a.localeCompare(b));
  return (
    <ul className="memory-legend" aria-label="Kind counts">
      {kinds.map(([kind, count]) => (
        <li key={kind}>
          <span className={`memory-swatch kind-${slots.get(kind) ?? 0}`} aria-hidden="true" />
          {kind} <span className="hint">{count}</span>
        </li>
      ))}
    </ul>
  );
}

function Drawing({
  graph,
  slots,
  selected,
  onSelect,
}: {
  graph: MemoryGraph;
  slots: ReadonlyMap<string, number>;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const points = useMemo(
    () =>
      forceLayout(
        graph.nodes.map((node) => node.id),
        graph.edges,
        { width: WIDTH, height: HEIGHT, seed: 1, padding: 30 },
      ),
    [graph],
  );
  const near = useMemo(
    () => new Set(selected === null ? [] : neighbours(selected, graph).map((neighbour) => neighbour.node.id)),
    [graph, selected],
  );
  const labelAll = graph.nodes.length <= LABEL_ALL_UP_TO;

  function key(event: KeyboardEvent, id: string) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onSelect(id);
    }
  }

  return (
    <svg
      className="memory-drawing"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="group"
      aria-label={`Graph of ${graph.nodes.length} items and ${graph.edges.length} edges`}
    >
      <defs>
        <marker id="memory-arrow" viewBox="0 0 10 10" refX="17" refY="5" markerWidth="6" markerHeight="6" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" className="memory-arrow" />
        </marker>
      </defs>
      <g>
        {graph.edges.map((edge) => {
          const from = points.get(edge.source);
          const to = points.get(edge.target);
          if (from === undefined || to === undefined) {
            return null;
          }
          const lit = selected !== null && (edge.source === selected || edge.target === selected);
          return (
            <line
              key={`${edge.source} ${edge.edge_type} ${edge.target}`}
              x1={from.x}
              y1={from.y}
              x2={to.x}
              y2={to.y}
              className={lit ? "memory-edge lit" : "memory-edge"}
              markerEnd="url(#memory-arrow)"
            >
              <title>{edge.edge_type}</title>
            </line>
          );
        })}
      </g>
      <g>
        {graph.nodes.map((node) => {
          const point = points.get(node.id);
          if (point === undefined) {
            return null;
          }
          const isSelected = node.id === selected;
          const labelled = labelAll || isSelected || near.has(node.id);
          const end = point.x > WIDTH * 0.8;
          return (
            <g
              key={node.id}
              className={`memory-node${isSelected ? " selected" : ""}`}
              role="button"
              tabIndex={0}
              aria-label={`${node.name} (${node.kind})`}
              aria-pressed={isSelected}
              onClick={() => onSelect(node.id)}
              onKeyDown={(event) => key(event, node.id)}
            >
              <circle
                cx={point.x}
                cy={point.y}
                r={isSelected ? 10 : 7}
                className={`kind-${slots.get(node.kind) ?? 0}`}
              />
              {labelled && (
                <text x={end ? point.x - 12 : point.x + 12} y={point.y + 4} textAnchor={end ? "end" : "start"}>
                  {node.name}
                </text>
              )}
              <title>{`${node.name} (${node.kind})`}</title>
            </g>
          );
        })}
      </g>
    </svg>
  );
}

function Details({
  node,
  graph,
  onSelect,
  focus,
}: {
  node: GraphNode;
  graph: MemoryGraph;
  onSelect: (id: string) => void;
  focus: boolean;
}) {
  const ties = neighbours(node.id, graph);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focus) {
      heading.current?.focus();
    }
  }, [focus, node]);
  return (
    <section aria-labelledby="memory-node-heading">
      <h2 id="memory-node-heading" ref={heading} tabIndex={-1}>
        {node.name}
      </h2>
      <dl>
        <dt>Kind</dt>
        <dd>{node.kind}</dd>
        <dt>Space</dt>
        <dd>{node.space}</dd>
        <dt>Kref</dt>
        <dd>
          <KrefText kref={`kref://${node.id}`} />
        </dd>
        {typeof node.revision_kref === "string" && (
          <>
            <dt>Revision</dt>
            <dd>
              <KrefText kref={node.revision_kref} />
            </dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatTime(node.created_at)}</dd>
        {typeof node.title === "string" && (
          <>
            <dt>Title</dt>
            <dd>{node.title}</dd>
          </>
        )}
        {typeof node.summary === "string" && (
          <>
            <dt>Summary</dt>
            <dd>{node.summary}</dd>
          </>
        )}
      </dl>
      <p>
        <BrowserLink location={nodeLocation(node)}>Open in memory browser</BrowserLink>
      </p>
      <h3>Edges</h3>
      {ties.length === 0 ? (
        <p className="hint">No edges to the items shown.</p>
      ) : (
        <ul className="memory-ties">
          {ties.map((tie) => (
            <li key={`${tie.direction} ${tie.edgeType} ${tie.node.id}`}>
              {tie.direction === "out" ? "→" : "←"} <code>{tie.edgeType}</code>{" "}
              <button type="button" className="link" onClick={() => onSelect(tie.node.id)}>
                {tie.node.name}
              </button>{" "}
              <span className="hint">({tie.node.kind})</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function NodeTable({ graph, onSelect }: { graph: MemoryGraph; onSelect: (id: string) => void }) {
  const { page, setPage, shown } = useClientPage(graph.nodes, PER_PAGE);
  const degree = useMemo(() => {
    const counts = new Map<string, number>();
    for (const edge of graph.edges) {
      counts.set(edge.source, (counts.get(edge.source) ?? 0) + 1);
      counts.set(edge.target, (counts.get(edge.target) ?? 0) + 1);
    }
    return counts;
  }, [graph]);
  return (
    <section aria-labelledby="memory-nodes-heading">
      <h2 id="memory-nodes-heading">Items</h2>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Space</th>
              <th>Edges</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((node) => (
              <tr key={node.id}>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() => onSelect(node.id)}
                    aria-label={`Show ${node.name}`}
                  >
                    {node.name}
                  </button>
                </td>
                <td>{node.kind}</td>
                <td>{node.space}</td>
                <td>{degree.get(node.id) ?? 0}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager page={page} perPage={PER_PAGE} total={graph.nodes.length} onPage={setPage} />
    </section>
  );
}

function Graph({ query }: { query: string }) {
  const { data, error, loading, reload } = useResource(() => api<MemoryGraph>(`/api/memory/graph${query}`), [query]);
  const [selected, setSelected] = useState<string | null>(null);
  // Chosen from the list (far below the drawing on a phone): move focus to the details.
  const [fromList, setFromList] = useState(false);
  const pick = (id: string) => {
    setSelected(id);
    setFromList(false);
  };
  const slots = useMemo(() => kindSlots(Object.keys(data?.stats.kinds ?? {})), [data]);
  const node = data?.nodes.find((candidate) => candidate.id === selected) ?? null;

  return (
    <>
      <div className="row memory-status">
        <button type="button" className="secondary" onClick={reload} disabled={loading}>
          Refresh
        </button>
        {loading && <span className="loading">Loading…</span>}
        {data !== null && (
          <span className="hint" role="status">
            {data.stats.total_items} items found; showing {data.nodes.length} and {data.edges.length} edges between
            them.
          </span>
        )}
      </div>
      <ErrorNote error={error} />
      {data !== null &&
        (data.nodes.length === 0 ? (
          <p className="hint">No items match.</p>
        ) : (
          <>
            <Legend graph={data} slots={slots} />
            <div className="memory-layout">
              <div className="memory-canvas">
                <Drawing graph={data} slots={slots} selected={selected} onSelect={pick} />
              </div>
              {node === null ? (
                <section className="hint">Select an item in the drawing or the list to see its details.</section>
              ) : (
                <Details node={node} graph={data} onSelect={pick} focus={fromList} />
              )}
            </div>
            <NodeTable
              graph={data}
              onSelect={(id) => {
                setSelected(id);
                setFromList(true);
              }}
            />
          </>
        ))}
    </>
  );
}

function initialQuery(): string {
  const result = graphQuery(DEFAULT_GRAPH_FORM);
  return "query" in result ? result.query : "";
}

export function MemoryView() {
  // Every "Show graph" loads afresh (and clears the selection), even for the same query.
  const [applied, setApplied] = useState({ query: initialQuery(), count: 0 });
  return (
    <Page title="Memory graph">
      <div className="memory-view">
        <QueryForm onApply={(query) => setApplied({ query, count: applied.count + 1 })} />
        <Graph key={applied.count} query={applied.query} />
      </div>
    </Page>
  );
}
