import { describe, expect, it } from "vitest";
import { clipToBox, DEFAULT_LAYOUT, layoutGraph, pointsUp, type Layout } from "./graphlayout";

function node(layout: Layout, id: string) {
  const found = layout.nodes.find((candidate) => candidate.id === id);
  if (found === undefined) {
    throw new Error(`no node ${id}`);
  }
  return found;
}

describe("layoutGraph", () => {
  it("is empty for no nodes", () => {
    const layout = layoutGraph([], []);
    expect(layout.nodes).toEqual([]);
    expect(layout.edges).toEqual([]);
  });

  it("puts managers and dependencies above, supporters and feeders above what they reach", () => {
    const layout = layoutGraph(
      ["dev", "lead", "lib", "qa"],
      [
        { from: "dev", to: "lead", type: "REPORTS_TO" },
        { from: "dev", to: "lib", type: "DEPENDS_ON" },
        { from: "dev", to: "qa", type: "FEEDS_INTO" },
      ],
    );
    expect(node(layout, "lead").layer).toBe(0);
    expect(node(layout, "lib").layer).toBe(0);
    expect(node(layout, "dev").layer).toBe(1);
    expect(node(layout, "qa").layer).toBe(2);
    expect(node(layout, "dev").y).toBeGreaterThan(node(layout, "lead").y);
    expect(pointsUp("reports_to")).toBe(true);
    expect(pointsUp("SUPPORTS")).toBe(false);
  });

  it("uses the longest path for rows", () => {
    const layout = layoutGraph(
      ["a", "b", "c"],
      [
        { from: "a", to: "b", type: "SUPPORTS" },
        { from: "b", to: "c", type: "SUPPORTS" },
        { from: "a", to: "c", type: "SUPPORTS" },
      ],
    );
    expect([node(layout, "a").layer, node(layout, "b").layer, node(layout, "c").layer]).toEqual([0, 1, 2]);
  });

  it("keeps node order, centres rows and sizes the picture", () => {
    const { nodeWidth, nodeHeight, columnGap, margin } = DEFAULT_LAYOUT;
    const layout = layoutGraph(["a", "b", "c", "a"], []);
    expect(layout.nodes.map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(layout.width).toBe(margin * 2 + 3 * nodeWidth + 2 * columnGap);
    expect(layout.height).toBe(margin * 2 + nodeHeight);
    expect(node(layout, "a").x).toBeLessThan(node(layout, "b").x);
    expect(node(layout, "b").x).toBe(layout.width / 2);
  });

  it("orders a row under its parents to avoid crossings", () => {
    const layout = layoutGraph(
      ["p", "q", "under-q", "under-p"],
      [
        { from: "p", to: "under-p", type: "SUPPORTS" },
        { from: "q", to: "under-q", type: "SUPPORTS" },
      ],
    );
    expect(node(layout, "under-p").x).toBeLessThan(node(layout, "under-q").x);
  });

  it("terminates on cycles and still draws every edge", () => {
    const edges = [
      { from: "a", to: "b", type: "SUPPORTS" },
      { from: "b", to: "c", type: "SUPPORTS" },
      { from: "c", to: "a", type: "SUPPORTS" },
    ];
    const layout = layoutGraph(["a", "b", "c"], edges);
    expect(layout.edges).toHaveLength(3);
    expect(new Set(layout.nodes.map((n) => n.layer))).toEqual(new Set([0, 1, 2]));
  });

  it("skips self edges and edges to unknown nodes", () => {
    const layout = layoutGraph(["a"], [
      { from: "a", to: "a", type: "SUPPORTS" },
      { from: "a", to: "z", type: "SUPPORTS" },
    ]);
    expect(layout.edges).toEqual([]);
  });

  it("is deterministic", () => {
    const edges = [
      { from: "x", to: "y", type: "REPORTS_TO" },
      { from: "z", to: "y", type: "REPORTS_TO" },
      { from: "x", to: "z", type: "FEEDS_INTO" },
    ];
    expect(layoutGraph(["x", "y", "z"], edges)).toEqual(layoutGraph(["x", "y", "z"], edges));
  });

  it("bends edges between the same two nodes to opposite sides", () => {
    const layout = layoutGraph(
      ["a", "b"],
      [
        { from: "a", to: "b", type: "SUPPORTS" },
        { from: "b", to: "a", type: "REPORTS_TO" },
      ],
    );
    const [first, second] = layout.edges;
    expect(first?.control.x).not.toBe(second?.control.x);
    const midX = (node(layout, "a").x + node(layout, "b").x) / 2;
    expect(Math.sign((first?.control.x ?? 0) - midX)).toBe(-Math.sign((second?.control.x ?? 0) - midX));
  });

  it("bends an edge that skips a row round the node in its way", () => {
    const layout = layoutGraph(
      ["a", "b", "c"],
      [
        { from: "a", to: "b", type: "SUPPORTS" },
        { from: "b", to: "c", type: "SUPPORTS" },
        { from: "a", to: "c", type: "SUPPORTS" },
      ],
    );
    const b = node(layout, "b");
    const skip = layout.edges.find((edge) => edge.from === "a" && edge.to === "c");
    const direct = layout.edges.find((edge) => edge.from === "a" && edge.to === "b");
    expect(direct?.label.x).toBe(b.x);
    expect(Math.abs((skip?.label.x ?? 0) - b.x)).toBeGreaterThan(DEFAULT_LAYOUT.nodeWidth / 2);
  });

  it("fits every box and label inside the picture", () => {
    const { nodeWidth, nodeHeight, labelWidth, labelHeight } = DEFAULT_LAYOUT;
    const layout = layoutGraph(
      ["a", "b", "c"],
      [
        { from: "a", to: "b", type: "SUPPORTS" },
        { from: "b", to: "a", type: "REPORTS_TO" },
        { from: "b", to: "c", type: "FEEDS_INTO" },
        { from: "a", to: "c", type: "FEEDS_INTO" },
      ],
    );
    for (const n of layout.nodes) {
      expect(n.x - nodeWidth / 2).toBeGreaterThanOrEqual(0);
      expect(n.x + nodeWidth / 2).toBeLessThanOrEqual(layout.width);
      expect(n.y - nodeHeight / 2).toBeGreaterThanOrEqual(0);
      expect(n.y + nodeHeight / 2).toBeLessThanOrEqual(layout.height);
    }
    for (const edge of layout.edges) {
      expect(edge.label.x - labelWidth / 2).toBeGreaterThanOrEqual(0);
      expect(edge.label.x + labelWidth / 2).toBeLessThanOrEqual(layout.width);
      expect(edge.label.y - labelHeight / 2).toBeGreaterThanOrEqual(0);
      expect(edge.label.y + labelHeight / 2).toBeLessThanOrEqual(layout.height);
    }
  });

  it("ends edges on the boxes and puts the label on the curve's middle", () => {
    const layout = layoutGraph(["top", "bottom"], [{ from: "bottom", to: "top", type: "REPORTS_TO" }]);
    const [edge] = layout.edges;
    const top = node(layout, "top");
    const bottom = node(layout, "bottom");
    expect(edge?.end).toEqual({ x: top.x, y: top.y + DEFAULT_LAYOUT.nodeHeight / 2 });
    expect(edge?.start).toEqual({ x: bottom.x, y: bottom.y - DEFAULT_LAYOUT.nodeHeight / 2 });
    expect(edge?.label).toEqual({ x: top.x, y: (top.y + bottom.y) / 2 });
    expect(edge?.path).toMatch(/^M [\d.]+ [\d.]+ Q [\d.]+ [\d.]+ [\d.]+ [\d.]+$/);
  });
});

describe("clipToBox", () => {
  it("leaves the box through the side the target is beyond", () => {
    expect(clipToBox({ x: 0, y: 0 }, { x: 100, y: 10 }, 50, 20)).toEqual({ x: 50, y: 5 });
    expect(clipToBox({ x: 0, y: 0 }, { x: 10, y: -100 }, 50, 20)).toEqual({ x: 2, y: -20 });
    expect(clipToBox({ x: 3, y: 4 }, { x: 3, y: 4 }, 50, 20)).toEqual({ x: 3, y: 4 });
  });
  it("stops at the target when it lies inside the box", () => {
    expect(clipToBox({ x: 0, y: 0 }, { x: 10, y: 0 }, 50, 20)).toEqual({ x: 10, y: 0 });
  });
});
