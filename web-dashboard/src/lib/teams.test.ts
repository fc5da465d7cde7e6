import { describe, expect, it } from "vitest";
import { edgeLabel, graphErrorsOf, normalizeEdges, pruneEdges, validateTeamGraph, type TeamEdge } from "./teams";

function edge(from: string, to: string, type: string): TeamEdge {
  return { from_kref: from, to_kref: to, edge_type: type };
}

function codes(members: string[], edges: TeamEdge[]): string[] {
  return validateTeamGraph(members, edges).map((problem) => problem.code);
}

describe("validateTeamGraph", () => {
  it("accepts a valid graph (REPORTS_TO does not order execution)", () => {
    expect(
      codes(["a", "b", "c"], [edge("a", "b", "SUPPORTS"), edge("b", "c", "FEEDS_INTO"), edge("c", "a", "REPORTS_TO")]),
    ).toEqual([]);
  });
  it("finds self edges, dangling ends and unknown types", () => {
    expect(codes(["a"], [edge("a", "a", "SUPPORTS")])).toEqual(["self_edge"]);
    expect(codes(["a"], [edge("a", "z", "REPORTS_TO")])).toEqual(["dangling_ref"]);
    expect(codes(["a", "b"], [edge("a", "b", "LIKES")])).toEqual(["invalid_edge_type"]);
  });
  it("finds mutual dependencies once, and the cycle they make", () => {
    expect(codes(["a", "b"], [edge("a", "b", "DEPENDS_ON"), edge("b", "a", "DEPENDS_ON")])).toEqual([
      "reciprocal_depends",
      "cycle",
    ]);
  });
  it("orders DEPENDS_ON the other way round from SUPPORTS", () => {
    expect(codes(["a", "b", "c"], [edge("a", "b", "SUPPORTS"), edge("b", "c", "SUPPORTS"), edge("c", "a", "FEEDS_INTO")])).toEqual([
      "cycle",
    ]);
    expect(codes(["a", "b"], [edge("a", "b", "DEPENDS_ON"), edge("b", "a", "SUPPORTS")])).toEqual([]);
    expect(codes(["a", "b"], [edge("a", "b", "DEPENDS_ON"), edge("a", "b", "SUPPORTS")])).toEqual(["cycle"]);
  });
  it("accepts lower-case types, as the gateway does, and names members for people", () => {
    expect(codes(["a", "b"], [edge("a", "b", "feeds_into")])).toEqual([]);
    expect(validateTeamGraph(["a"], [edge("a", "a", "SUPPORTS")], (kref) => kref.toUpperCase())[0]?.message).toBe(
      "A points at itself",
    );
  });
});

describe("edge helpers", () => {
  it("normalises types and merges repeats", () => {
    expect(normalizeEdges([edge("a", "b", " supports"), edge("a", "b", "SUPPORTS"), edge("b", "a", "SUPPORTS")])).toEqual([
      edge("a", "b", "SUPPORTS"),
      edge("b", "a", "SUPPORTS"),
    ]);
  });
  it("drops edges to members that left", () => {
    expect(pruneEdges(["a", "b"], [edge("a", "b", "SUPPORTS"), edge("a", "c", "SUPPORTS")])).toEqual([
      edge("a", "b", "SUPPORTS"),
    ]);
  });
  it("labels edge types for people", () => {
    expect(edgeLabel("REPORTS_TO")).toBe("reports to");
  });
  it("reads the gateway's validation_errors", () => {
    expect(graphErrorsOf({ validation_errors: [{ code: "cycle", message: "x" }, { code: "y" }, null] })).toEqual(["x"]);
    expect(graphErrorsOf({})).toEqual([]);
  });
});
