// A small force-directed layout (Fruchterman–Reingold with gravity), deterministic for a seed, with a
// bounded amount of work so a 500-node graph lays out in well under a second.

export interface Point {
  x: number;
  y: number;
}

export interface LayoutEdge {
  source: string;
  target: string;
}

export interface LayoutOptions {
  width: number;
  height: number;
  /** The same seed (and input) gives the same layout. */
  seed?: number;
  /** Iterations; by default fewer for bigger graphs (the work is iterations × nodes²). */
  iterations?: number;
  /** Room kept free along every side (for node radius and labels). */
  padding?: number;
}

/** A seeded pseudo-random generator (mulberry32): numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The most iterations run, and the pair-work budget that lowers it for big graphs. */
export const MAX_ITERATIONS = 300;
const WORK_BUDGET = 30_000_000;

export function defaultIterations(nodeCount: number): number {
  const pairs = Math.max(1, nodeCount * nodeCount);
  return Math.max(40, Math.min(MAX_ITERATIONS, Math.floor(WORK_BUDGET / pairs)));
}

/**
 * Positions for `ids` inside `[padding, width - padding] × [padding, height - padding]`. Edges whose ends
 * are not both in `ids`, self-loops and duplicates are ignored.
 */
export function forceLayout(
  ids: readonly string[],
  edges: readonly LayoutEdge[],
  options: LayoutOptions,
): Map<string, Point> {
  const width = Math.max(1, options.width);
  const height = Math.max(1, options.height);
  const padding = Math.min(options.padding ?? 20, width / 4, height / 4);
  const minX = padding;
  const maxX = width - padding;
  const minY = padding;
  const maxY = height - padding;
  const cx = width / 2;
  const cy = height / 2;
  const unique = [...new Set(ids)];
  const count = unique.length;
  const result = new Map<string, Point>();
  if (count === 0) {
    return result;
  }
  if (count === 1) {
    result.set(unique[0] ?? "", { x: cx, y: cy });
    return result;
  }

  const index = new Map(unique.map((id, i) => [id, i]));
  const links: [number, number][] = [];
  const seen = new Set<string>();
  for (const edge of edges) {
    const a = index.get(edge.source);
    const b = index.get(edge.target);
    if (a === undefined || b === undefined || a === b) {
      continue;
    }
    const key = a < b ? `${a}:${b}` : `${b}:${a}`;
    if (!seen.has(key)) {
      seen.add(key);
      links.push([a, b]);
    }
  }

  const random = seededRandom(options.seed ?? 1);
  const xs = new Float64Array(count);
  const ys = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    xs[i] = minX + random() * (maxX - minX);
    ys[i] = minY + random() * (maxY - minY);
  }

  const area = (maxX - minX) * (maxY - minY);
  // The ideal edge length, and a pull towards the centre strong enough that the repulsion of a big graph
  // does not pin its outer nodes to the walls.
  const k = 0.7 * Math.sqrt(area / count);
  const k2 = k * k;
  const gravity = 2.5;
  // Weaker across the longer side, so the layout fills a wide viewport as an ellipse, not a circle.
  const aspect = (maxY - minY) / Math.max(1e-9, maxX - minX);
  const gravityX = gravity * aspect;
  const iterations = Math.max(1, Math.floor(options.iterations ?? defaultIterations(count)));
  const startTemperature = Math.min(maxX - minX, maxY - minY) / 8;
  const dx = new Float64Array(count);
  const dy = new Float64Array(count);

  for (let step = 0; step < iterations; step++) {
    dx.fill(0);
    dy.fill(0);
    for (let i = 0; i < count; i++) {
      const xi = xs[i] ?? 0;
      const yi = ys[i] ?? 0;
      for (let j = i + 1; j < count; j++) {
        let ox = xi - (xs[j] ?? 0);
        let oy = yi - (ys[j] ?? 0);
        let distance2 = ox * ox + oy * oy;
        if (distance2 < 1e-6) {
          // Two nodes on one spot: push them apart in a seeded direction.
          const angle = random() * Math.PI * 2;
          ox = Math.cos(angle) * 0.01;
          oy = Math.sin(angle) * 0.01;
          distance2 = 1e-4;
        }
        const push = k2 / distance2;
        dx[i] = (dx[i] ?? 0) + ox * push;
        dy[i] = (dy[i] ?? 0) + oy * push;
        dx[j] = (dx[j] ?? 0) - ox * push;
        dy[j] = (dy[j] ?? 0) - oy * push;
      }
    }
    for (const [a, b] of links) {
      const ox = (xs[a] ?? 0) - (xs[b] ?? 0);
      const oy = (ys[a] ?? 0) - (ys[b] ?? 0);
      const distance = Math.sqrt(ox * ox + oy * oy);
      const pull = distance / k;
      dx[a] = (dx[a] ?? 0) - ox * pull;
      dy[a] = (dy[a] ?? 0) - oy * pull;
      dx[b] = (dx[b] ?? 0) + ox * pull;
      dy[b] = (dy[b] ?? 0) + oy * pull;
    }
    const temperature = startTemperature * (1 - step / iterations) + 0.5;
    for (let i = 0; i < count; i++) {
      const x = xs[i] ?? 0;
      const y = ys[i] ?? 0;
      const fx = (dx[i] ?? 0) + (cx - x) * gravityX;
      const fy = (dy[i] ?? 0) + (cy - y) * gravity;
      const length = Math.sqrt(fx * fx + fy * fy);
      if (length > 0 && Number.isFinite(length)) {
        const move = Math.min(length, temperature) / length;
        xs[i] = Math.min(maxX, Math.max(minX, x + fx * move));
        ys[i] = Math.min(maxY, Math.max(minY, y + fy * move));
      }
    }
  }

  unique.forEach((id, i) => result.set(id, { x: xs[i] ?? cx, y: ys[i] ?? cy }));
  return result;
}
