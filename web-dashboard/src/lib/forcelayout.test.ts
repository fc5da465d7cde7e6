import { describe, expect, it } from "vitest";
import { defaultIterations, forceLayout, MAX_ITERATIONS, seededRandom, type LayoutEdge, type Point } from "./forcelayout";

const WIDTH = 800;
const HEIGHT = 600;

function distance(a: Point | undefined, b: Point | undefined): number {
  if (a === undefined || b === undefined) {
    throw new Error("missing point");
  }
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Three five-node rings, the rings tied by one edge each, plus four isolated nodes. */
function sample(): { ids: string[]; edges: LayoutEdge[] } {
  const ids: string[] = [];
  const edges: LayoutEdge[] = [];
  for (let ring = 0; ring < 3; ring++) {
    for (let i = 0; i < 5; i++) {
      ids.push(`r${ring}n${i}`);
      edges.push({ source: `r${ring}n${i}`, target: `r${ring}n${(i + 1) % 5}` });
    }
  }
  edges.push({ source: "r0n0", target: "r1n0" }, { source: "r1n2", target: "r2n2" });
  ids.push("solo1", "solo2", "solo3", "solo4");
  return { ids, edges };
}

function inside(points: Map<string, Point>, padding: number) {
  for (const [id, point] of points) {
    expect(Number.isFinite(point.x), id).toBe(true);
    expect(Number.isFinite(point.y), id).toBe(true);
    expect(point.x).toBeGreaterThanOrEqual(padding);
    expect(point.x).toBeLessThanOrEqual(WIDTH - padding);
    expect(point.y).toBeGreaterThanOrEqual(padding);
    expect(point.y).toBeLessThanOrEqual(HEIGHT - padding);
  }
}

describe("seededRandom", () => {
  it("repeats for a seed and differs between seeds", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect([c(), c(), c()]).not.toEqual(first);
    for (const value of first) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

describe("forceLayout", () => {
  it("places every node, finite and inside the viewport minus padding", () => {
    const { ids, edges } = sample();
    const points = forceLayout(ids, edges, { width: WIDTH, height: HEIGHT, seed: 7, padding: 24 });
    expect(points.size).toBe(ids.length);
    inside(points, 24);
  });

  it("is deterministic for a seed", () => {
    const { ids, edges } = sample();
    const options = { width: WIDTH, height: HEIGHT, seed: 3 };
    expect([...forceLayout(ids, edges, options)]).toEqual([...forceLayout(ids, edges, options)]);
    expect([...forceLayout(ids, edges, { ...options, seed: 4 })]).not.toEqual([...forceLayout(ids, edges, options)]);
  });

  it("puts connected nodes closer together than unconnected ones, on average", () => {
    const { ids, edges } = sample();
    for (const seed of [1, 2, 3, 99]) {
      const points = forceLayout(ids, edges, { width: WIDTH, height: HEIGHT, seed });
      const linked = new Set(edges.map((edge) => [edge.source, edge.target].sort().join("|")));
      let near = 0;
      let nearCount = 0;
      let far = 0;
      let farCount = 0;
      for (let i = 0; i < ids.length; i++) {
        for (let j = i + 1; j < ids.length; j++) {
          const a = ids[i] ?? "";
          const b = ids[j] ?? "";
          const d = distance(points.get(a), points.get(b));
          if (linked.has([a, b].sort().join("|"))) {
            near += d;
            nearCount++;
          } else {
            far += d;
            farCount++;
          }
        }
      }
      expect(near / nearCount).toBeLessThan(0.6 * (far / farCount));
    }
  });

  it("separates nodes rather than stacking them", () => {
    const { ids, edges } = sample();
    const points = [...forceLayout(ids, edges, { width: WIDTH, height: HEIGHT, seed: 5 }).values()];
    let closest = Infinity;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        closest = Math.min(closest, distance(points[i], points[j]));
      }
    }
    expect(closest).toBeGreaterThan(10);
  });

  it("spreads a big graph over the viewport without pinning it to the walls", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const edges = ids.slice(1).map((id, i) => ({ source: `n${Math.floor(i / 4)}`, target: id }));
    const points = [...forceLayout(ids, edges, { width: WIDTH, height: HEIGHT, seed: 2, padding: 30 }).values()];
    const pinned = points.filter(
      (point) => point.x <= 31 || point.x >= WIDTH - 31 || point.y <= 31 || point.y >= HEIGHT - 31,
    );
    expect(pinned.length).toBeLessThan(points.length / 10);
    const xs = points.map((point) => point.x);
    const ys = points.map((point) => point.y);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(WIDTH / 2);
    expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(HEIGHT / 2);
  });

  it("handles empty, single, duplicate ids, self-loops and dangling edges", () => {
    expect(forceLayout([], [], { width: WIDTH, height: HEIGHT }).size).toBe(0);
    expect(forceLayout(["a"], [{ source: "a", target: "a" }], { width: WIDTH, height: HEIGHT }).get("a")).toEqual({
      x: WIDTH / 2,
      y: HEIGHT / 2,
    });
    const points = forceLayout(
      ["a", "b", "a", "c"],
      [
        { source: "a", target: "a" },
        { source: "a", target: "ghost" },
        { source: "a", target: "b" },
        { source: "b", target: "a" },
      ],
      { width: WIDTH, height: HEIGHT, seed: 1 },
    );
    expect([...points.keys()]).toEqual(["a", "b", "c"]);
    inside(points, 20);
  });

  it("stays finite and bounded in a tiny viewport with many nodes on one spot", () => {
    const ids = Array.from({ length: 60 }, (_, i) => `n${i}`);
    const edges = ids.slice(1).map((id) => ({ source: "n0", target: id }));
    const points = forceLayout(ids, edges, { width: 40, height: 30, seed: 9, iterations: 50 });
    for (const point of points.values()) {
      expect(Number.isFinite(point.x) && Number.isFinite(point.y)).toBe(true);
      expect(point.x).toBeGreaterThanOrEqual(0);
      expect(point.x).toBeLessThanOrEqual(40);
      expect(point.y).toBeGreaterThanOrEqual(0);
      expect(point.y).toBeLessThanOrEqual(30);
    }
  });

  it("bounds the work for big graphs", () => {
    expect(defaultIterations(10)).toBe(MAX_ITERATIONS);
    expect(defaultIterations(500)).toBeLessThan(MAX_ITERATIONS);
    expect(defaultIterations(500) * 500 * 500).toBeLessThanOrEqual(30_000_000);
    expect(defaultIterations(5000)).toBe(40);
  });
});
