// The memory graph view's pure logic: the answer of `GET /api/memory/graph`, its query form, the
// palette slot of each kind, and the way from a node into the memory browser.
import { query } from "../api";
import { locationSearch, parseKref, ROOT, type BrowserLocation } from "./memorybrowser";

export interface GraphNode {
  /** The item's kref without the scheme. */
  id: string;
  name: string;
  kind: string;
  space: string;
  created_at?: string | null;
  revision_kref?: string | null;
  title?: string | null;
  summary?: string | null;
}

export interface GraphEdge {
  source: string;
  target: string;
  edge_type: string;
  metadata?: Record<string, string> | null;
}

export interface MemoryGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  spaces: string[];
  stats: { total_items: number; total_edges: number; kinds: Record<string, number> };
}

export interface GraphForm {
  project: string;
  kinds: string;
  space: string;
  search: string;
  limit: string;
  sort: "recent" | "name";
}

export const DEFAULT_GRAPH_FORM: GraphForm = {
  project: "",
  kinds: "",
  space: "",
  search: "",
  limit: "100",
  sort: "recent",
};
export const MAX_GRAPH_LIMIT = 500;

/** The query of `GET /api/memory/graph` for a form, or what is wrong with the form. */
export function graphQuery(form: GraphForm): { query: string } | { error: string } {
  const limit = form.limit.trim();
  if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_GRAPH_LIMIT) {
    return { error: `The limit is a whole number from 1 to ${MAX_GRAPH_LIMIT}.` };
  }
  const project = form.project.trim();
  if (project.length > 0 && /[\s/?&#=]/u.test(project)) {
    return { error: "A project name has no spaces, slashes, '?', '&', '#' or '='." };
  }
  const kinds = form.kinds
    .split(",")
    .map((kind) => kind.trim())
    .filter((kind) => kind.length > 0);
  const space = form.space.trim().replace(/^\/+/, "");
  return {
    query: query({
      project,
      kinds: [...new Set(kinds)].join(","),
      space,
      search: form.search.trim(),
      limit: Number(limit),
      sort: form.sort,
    }),
  };
}

/** How many colours the legend cycles through (`--kind-0` … in Memory.css). */
export const PALETTE_SIZE = 8;

/** Each kind's palette slot: kinds in name order, so a kind keeps its colour while the others' counts move. */
export function kindSlots(kinds: Iterable<string>): Map<string, number> {
  return new Map([...new Set(kinds)].sort().map((kind, index) => [kind, index % PALETTE_SIZE]));
}

/** The memory browser's address for a node (its item, in its space and project). */
export function nodeLocation(node: GraphNode): BrowserLocation {
  const parsed = parseKref(node.id);
  if (parsed === null) {
    const project = node.space.split("/").find((part) => part.length > 0) ?? null;
    return { ...ROOT, project, space: project === null ? null : `/${node.space.replace(/^\/+/, "")}` };
  }
  return {
    ...ROOT,
    project: parsed.project,
    space: `/${[parsed.project, ...parsed.spaces].join("/")}`,
    item: `kref://${node.id.replace(/^kref:\/\//, "")}`,
  };
}

/** The href (under the router's root) of a node in the memory browser. */
export function nodeBrowserHref(node: GraphNode): string {
  return `/assets${locationSearch(nodeLocation(node))}`;
}

export interface Neighbour {
  node: GraphNode;
  edgeType: string;
  direction: "out" | "in";
}

/** The nodes an edge ties to `id`, outgoing first. */
export function neighbours(id: string, graph: Pick<MemoryGraph, "nodes" | "edges">): Neighbour[] {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const out: Neighbour[] = [];
  const incoming: Neighbour[] = [];
  for (const edge of graph.edges) {
    if (edge.source === id) {
      const node = byId.get(edge.target);
      if (node !== undefined) {
        out.push({ node, edgeType: edge.edge_type, direction: "out" });
      }
    } else if (edge.target === id) {
      const node = byId.get(edge.source);
      if (node !== undefined) {
        incoming.push({ node, edgeType: edge.edge_type, direction: "in" });
      }
    }
  }
  return [...out, ...incoming];
}
