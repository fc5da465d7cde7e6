// A small deterministic layered layout for team graphs: nodes in rows by the direction of their edges
// (a manager above who reports to it, a dependency above what depends on it, a supporter or feeder above
// what it supports or feeds), rows ordered to keep edges short, edges as curves clipped to the boxes.

export interface Point {
  x: number;
  y: number;
}

export interface GraphEdgeInput {
  from: string;
  to: string;
  type: string;
}

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  columnGap: number;
  rowGap: number;
  margin: number;
  /** The room an edge label takes round its middle. */
  labelWidth: number;
  labelHeight: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  nodeWidth: 150,
  nodeHeight: 44,
  columnGap: 36,
  rowGap: 76,
  margin: 12,
  labelWidth: 76,
  labelHeight: 16,
};

export interface PositionedNode {
  id: string;
  /** Centre. */
  x: number;
  y: number;
  layer: number;
}

export interface PositionedEdge extends GraphEdgeInput {
  start: Point;
  control: Point;
  end: Point;
  /** An SVG path: a quadratic curve from `start` to `end`. */
  path: string;
  /** Where the label goes: the middle of the curve. */
  label: Point;
}

export interface Layout {
  nodes: PositionedNode[];
  edges: PositionedEdge[];
  width: number;
  height: number;
}

/** Whether the edge's `to` end is drawn above its `from` end. */
export function pointsUp(type: string): boolean {
  const upper = type.toUpperCase();
  return upper === "REPORTS_TO" || upper === "DEPENDS_ON";
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The point where the line from the centre of a box towards `toward` leaves the box. */
export function clipToBox(centre: Point, toward: Point, halfWidth: number, halfHeight: number): Point {
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  if (dx === 0 && dy === 0) {
    return centre;
  }
  const scale = Math.min(dx === 0 ? Infinity : halfWidth / Math.abs(dx), dy === 0 ? Infinity : halfHeight / Math.abs(dy));
  return { x: centre.x + dx * Math.min(scale, 1), y: centre.y + dy * Math.min(scale, 1) };
}

/** Rows: the longest path from a top node, over the edges that do not close a cycle. */
function layers(ids: readonly string[], arcs: readonly [string, string][]): Map<string, number> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [upper, lower] of arcs) {
    out.get(upper)?.push(lower);
  }
  // Depth-first in input order; an arc back to a node on the stack would close a cycle and is ignored.
  const state = new Map<string, "open" | "done">();
  const kept: [string, string][] = [];
  const visit = (id: string) => {
    state.set(id, "open");
    for (const next of out.get(id) ?? []) {
      const seen = state.get(next);
      if (seen === "open") {
        continue;
      }
      kept.push([id, next]);
      if (seen === undefined) {
        visit(next);
      }
    }
    state.set(id, "done");
  };
  for (const id of ids) {
    if (!state.has(id)) {
      visit(id);
    }
  }
  const indegree = new Map<string, number>(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [upper, lower] of kept) {
    next.get(upper)?.push(lower);
    indegree.set(lower, (indegree.get(lower) ?? 0) + 1);
  }
  const layer = new Map<string, number>(ids.map((id) => [id, 0]));
  const ready = ids.filter((id) => indegree.get(id) === 0);
  while (ready.length > 0) {
    const id = ready.shift() as string;
    for (const lower of next.get(id) ?? []) {
      layer.set(lower, Math.max(layer.get(lower) ?? 0, (layer.get(id) ?? 0) + 1));
      const degree = (indegree.get(lower) ?? 0) - 1;
      indegree.set(lower, degree);
      if (degree === 0) {
        ready.push(lower);
      }
    }
  }
  return layer;
}

/** Lays out `nodeIds` (in their order, repeats ignored) and the edges between them; same input, same picture. */
export function layoutGraph(
  nodeIds: readonly string[],
  edges: readonly GraphEdgeInput[],
  options: LayoutOptions = DEFAULT_LAYOUT,
): Layout {
  const ids = [...new Set(nodeIds)];
  const known = new Set(ids);
  const drawn = edges.filter((edge) => known.has(edge.from) && known.has(edge.to) && edge.from !== edge.to);
  const arcs = drawn.map((edge): [string, string] => (pointsUp(edge.type) ? [edge.to, edge.from] : [edge.from, edge.to]));
  const layerOf = layers(ids, arcs);
  const rowCount = Math.max(0, ...layerOf.values()) + (ids.length > 0 ? 1 : 0);
  const rows: string[][] = Array.from({ length: rowCount }, () => []);
  for (const id of ids) {
    rows[layerOf.get(id) ?? 0]?.push(id);
  }
  // Each row after the first is sorted by the mean position of its neighbours in the rows above.
  const position = new Map<string, number>();
  rows.forEach((row, index) => {
    if (index > 0) {
      const weight = (id: string) => {
        const above = arcs
          .filter(([upper, lower]) => lower === id && (layerOf.get(upper) ?? 0) < index)
          .map(([upper]) => position.get(upper) ?? 0);
        return above.length === 0 ? Infinity : above.reduce((sum, value) => sum + value, 0) / above.length;
      };
      const weights = new Map(row.map((id) => [id, weight(id)]));
      const order = new Map(row.map((id, at) => [id, at]));
      row.sort((a, b) => {
        const difference = (weights.get(a) ?? 0) - (weights.get(b) ?? 0);
        return Number.isNaN(difference) || difference === 0 ? (order.get(a) ?? 0) - (order.get(b) ?? 0) : difference;
      });
    }
    row.forEach((id, at) => position.set(id, at - (row.length - 1) / 2));
  });

  const { nodeWidth, nodeHeight, columnGap, rowGap, margin, labelWidth, labelHeight } = options;
  const centre = new Map<string, Point>();
  rows.forEach((row, layer) => {
    row.forEach((id, at) => {
      centre.set(id, {
        x: (at - (row.length - 1) / 2) * (nodeWidth + columnGap),
        y: layer * (nodeHeight + rowGap),
      });
    });
  });

  // Edges between the same two nodes bend apart; an edge crossing a row bends round a node in its way.
  const pairKey = (edge: GraphEdgeInput) => (edge.from < edge.to ? `${edge.from}\n${edge.to}` : `${edge.to}\n${edge.from}`);
  const pairs = new Map<string, number>();
  for (const edge of drawn) {
    pairs.set(pairKey(edge), (pairs.get(pairKey(edge)) ?? 0) + 1);
  }
  const blocked = (from: Point, to: Point) =>
    ids.some((id) => {
      const other = centre.get(id) as Point;
      if (other.y <= Math.min(from.y, to.y) || other.y >= Math.max(from.y, to.y)) {
        return false;
      }
      const crossing = from.x + ((to.x - from.x) * (other.y - from.y)) / (to.y - from.y);
      return Math.abs(crossing - other.x) < nodeWidth / 2 + columnGap / 4;
    });
  const seenInPair = new Map<string, number>();
  const curves = drawn.map((edge) => {
    const from = centre.get(edge.from) as Point;
    const to = centre.get(edge.to) as Point;
    const key = pairKey(edge);
    const count = pairs.get(key) ?? 1;
    const index = seenInPair.get(key) ?? 0;
    seenInPair.set(key, index + 1);
    // The normal of the pair's canonical direction, so both directions agree on which side is which.
    const [first, second] = edge.from < edge.to ? [from, to] : [to, from];
    const length = Math.hypot(second.x - first.x, second.y - first.y) || 1;
    const normal = { x: -(second.y - first.y) / length, y: (second.x - first.x) / length };
    let bend = (index - (count - 1) / 2) * 64;
    if (bend === 0 && blocked(from, to)) {
      // The curve's middle lies half way to the control point: clear the box, towards the right.
      bend = (normal.x >= 0 ? 1 : -1) * (nodeWidth + columnGap);
    }
    const control = { x: (from.x + to.x) / 2 + normal.x * bend, y: (from.y + to.y) / 2 + normal.y * bend };
    const start = clipToBox(from, control, nodeWidth / 2, nodeHeight / 2);
    const end = clipToBox(to, control, nodeWidth / 2, nodeHeight / 2);
    const label = {
      x: 0.25 * start.x + 0.5 * control.x + 0.25 * end.x,
      y: 0.25 * start.y + 0.5 * control.y + 0.25 * end.y,
    };
    return { edge, start, control, end, label };
  });

  // Everything (boxes and labels) fits, with the margin round it.
  const xs = [...centre.values()].flatMap((p) => [p.x - nodeWidth / 2, p.x + nodeWidth / 2]);
  const ys = [...centre.values()].flatMap((p) => [p.y - nodeHeight / 2, p.y + nodeHeight / 2]);
  for (const { label } of curves) {
    xs.push(label.x - labelWidth / 2, label.x + labelWidth / 2);
    ys.push(label.y - labelHeight / 2, label.y + labelHeight / 2);
  }
  const left = (xs.length > 0 ? Math.min(...xs) : 0) - margin;
  const top = (ys.length > 0 ? Math.min(...ys) : 0) - margin;
  const width = round((xs.length > 0 ? Math.max(...xs) : 0) + margin - left);
  const height = round((ys.length > 0 ? Math.max(...ys) : 0) + margin - top);
  const place = (p: Point): Point => ({ x: round(p.x - left), y: round(p.y - top) });

  const nodes: PositionedNode[] = ids.map((id) => ({ id, ...place(centre.get(id) as Point), layer: layerOf.get(id) ?? 0 }));
  const edgesOut = curves.map(({ edge, ...curve }): PositionedEdge => {
    const start = place(curve.start);
    const control = place(curve.control);
    const end = place(curve.end);
    return {
      ...edge,
      start,
      control,
      end,
      path: `M ${start.x} ${start.y} Q ${control.x} ${control.y} ${end.x} ${end.y}`,
      label: place(curve.label),
    };
  });
  return { nodes, edges: edgesOut, width, height };
}
