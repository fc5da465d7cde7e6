// Team graphs: the edge types, and the checks the gateway makes (so the editor can say what is wrong
// before saving). Edges run between agent item krefs.

export const EDGE_TYPES = ["REPORTS_TO", "SUPPORTS", "DEPENDS_ON", "FEEDS_INTO"] as const;
export type EdgeType = (typeof EDGE_TYPES)[number];

export interface TeamEdge {
  from_kref: string;
  to_kref: string;
  edge_type: string;
}

export interface GraphProblem {
  code: "self_edge" | "dangling_ref" | "reciprocal_depends" | "cycle" | "invalid_edge_type";
  message: string;
}

/** "FEEDS_INTO" → "feeds into". */
export function edgeLabel(type: string): string {
  return type.toLowerCase().replace(/_/g, " ");
}

/** Edges with upper-case types, repeats removed (the gateway merges them the same way). */
export function normalizeEdges(edges: readonly TeamEdge[]): TeamEdge[] {
  const seen = new Set<string>();
  const result: TeamEdge[] = [];
  for (const edge of edges) {
    const normal = { ...edge, edge_type: edge.edge_type.trim().toUpperCase() };
    const key = `${normal.from_kref}\n${normal.to_kref}\n${normal.edge_type}`;
    if (!seen.has(key)) {
      seen.add(key);
      result.push(normal);
    }
  }
  return result;
}

/** Edges whose ends are both still members (for when a member is taken out). */
export function pruneEdges(members: readonly string[], edges: readonly TeamEdge[]): TeamEdge[] {
  const set = new Set(members);
  return edges.filter((edge) => set.has(edge.from_kref) && set.has(edge.to_kref));
}

/**
 * The gateway's graph rules: known edge types, no self edges, both ends members, no two members
 * depending on each other, and no cycle in execution order (DEPENDS_ON(a, b) runs b first; SUPPORTS and
 * FEEDS_INTO(a, b) run a first; REPORTS_TO does not order). `name` shows a kref to people.
 */
export function validateTeamGraph(
  members: readonly string[],
  edges: readonly TeamEdge[],
  name: (kref: string) => string = (kref) => kref,
): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const set = new Set(members);
  const normal = normalizeEdges(edges);
  for (const edge of normal) {
    if (!(EDGE_TYPES as readonly string[]).includes(edge.edge_type)) {
      problems.push({ code: "invalid_edge_type", message: `Unknown edge type ${edge.edge_type}` });
    }
    if (edge.from_kref === edge.to_kref) {
      problems.push({ code: "self_edge", message: `${name(edge.from_kref)} points at itself` });
    }
    for (const end of [edge.from_kref, edge.to_kref]) {
      if (!set.has(end)) {
        problems.push({ code: "dangling_ref", message: `${name(end)} is not a member` });
      }
    }
    if (
      edge.edge_type === "DEPENDS_ON" &&
      edge.from_kref < edge.to_kref &&
      normal.some(
        (other) =>
          other.edge_type === "DEPENDS_ON" && other.from_kref === edge.to_kref && other.to_kref === edge.from_kref,
      )
    ) {
      problems.push({
        code: "reciprocal_depends",
        message: `${name(edge.from_kref)} and ${name(edge.to_kref)} depend on each other`,
      });
    }
  }
  const indegree = new Map<string, number>(members.map((member) => [member, 0]));
  const next = new Map<string, string[]>();
  for (const edge of normal) {
    if (edge.from_kref === edge.to_kref) {
      continue;
    }
    let before: string;
    let after: string;
    if (edge.edge_type === "DEPENDS_ON") {
      [before, after] = [edge.to_kref, edge.from_kref];
    } else if (edge.edge_type === "SUPPORTS" || edge.edge_type === "FEEDS_INTO") {
      [before, after] = [edge.from_kref, edge.to_kref];
    } else {
      continue;
    }
    if (set.has(before) && set.has(after)) {
      next.set(before, [...(next.get(before) ?? []), after]);
      indegree.set(after, (indegree.get(after) ?? 0) + 1);
    }
  }
  const ready = [...indegree].filter(([, degree]) => degree === 0).map(([member]) => member);
  let visited = 0;
  while (ready.length > 0) {
    const member = ready.shift() as string;
    visited += 1;
    for (const after of next.get(member) ?? []) {
      const degree = (indegree.get(after) ?? 0) - 1;
      indegree.set(after, degree);
      if (degree === 0) {
        ready.push(after);
      }
    }
  }
  if (visited < indegree.size) {
    problems.push({ code: "cycle", message: "The execution edges (depends on, supports, feeds into) form a cycle" });
  }
  return problems;
}

/** The `validation_errors` of an INVALID_TEAM_GRAPH answer, as messages. */
export function graphErrorsOf(body: Record<string, unknown>): string[] {
  const errors = body.validation_errors;
  if (!Array.isArray(errors)) {
    return [];
  }
  return errors
    .map((entry: unknown) =>
      entry !== null && typeof entry === "object" && typeof (entry as { message?: unknown }).message === "string"
        ? (entry as { message: string }).message
        : null,
    )
    .filter((message): message is string => message !== null);
}
