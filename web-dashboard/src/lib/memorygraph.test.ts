import { describe, expect, it } from "vitest";
import { readLocation } from "./memorybrowser";
import {
  DEFAULT_GRAPH_FORM,
  graphQuery,
  kindSlots,
  neighbours,
  nodeBrowserHref,
  nodeLocation,
  PALETTE_SIZE,
  type GraphNode,
} from "./memorygraph";

const node = (id: string, kind = "agent"): GraphNode => ({
  id,
  name: id.split("/").at(-1)?.split(".")[0] ?? id,
  kind,
  space: id.split("/").slice(0, -1).join("/"),
});

describe("graphQuery", () => {
  it("sends only what is set, kinds trimmed and de-duplicated, the space without a leading slash", () => {
    expect(graphQuery(DEFAULT_GRAPH_FORM)).toEqual({ query: "?limit=100&sort=recent" });
    expect(
      graphQuery({
        project: " Construct ",
        kinds: " agent, ,skilldef,agent ",
        space: "/Construct/AgentPool",
        search: " bob ",
        limit: "20",
        sort: "name",
      }),
    ).toEqual({
      query: "?project=Construct&kinds=agent%2Cskilldef&space=Construct%2FAgentPool&search=bob&limit=20&sort=name",
    });
  });

  it("refuses a bad limit or project", () => {
    for (const limit of ["", "0", "501", "2.5", "-1", "ten"]) {
      expect(graphQuery({ ...DEFAULT_GRAPH_FORM, limit }), limit).toHaveProperty("error");
    }
    expect(graphQuery({ ...DEFAULT_GRAPH_FORM, limit: "500" })).toHaveProperty("query");
    expect(graphQuery({ ...DEFAULT_GRAPH_FORM, project: "a/b" })).toHaveProperty("error");
  });
});

describe("kindSlots", () => {
  it("gives kinds stable slots by name, cycling the palette", () => {
    const slots = kindSlots(["skilldef", "agent", "bundle", "agent"]);
    expect([...slots]).toEqual([
      ["agent", 0],
      ["bundle", 1],
      ["skilldef", 2],
    ]);
    const many = kindSlots(Array.from({ length: PALETTE_SIZE + 2 }, (_, i) => `k${String(i).padStart(2, "0")}`));
    expect(many.get(`k${String(PALETTE_SIZE).padStart(2, "0")}`)).toBe(0);
  });
});

describe("nodeLocation", () => {
  it("opens the node's item in the browser", () => {
    const location = nodeLocation(node("Construct/AgentPool/bob-coder.agent"));
    expect(location).toMatchObject({
      project: "Construct",
      space: "/Construct/AgentPool",
      item: "kref://Construct/AgentPool/bob-coder.agent",
      revision: null,
    });
    const href = nodeBrowserHref(node("Construct/AgentPool/bob-coder.agent"));
    expect(href.startsWith("/assets?project=Construct&space=%2FConstruct%2FAgentPool&item=")).toBe(true);
    expect(readLocation(new URLSearchParams(href.slice("/assets".length)))).toEqual(location);
  });

  it("falls back to the node's space when its id is not a kref", () => {
    expect(nodeLocation({ id: "odd", name: "odd", kind: "x", space: "P/s" })).toMatchObject({
      project: "P",
      space: "/P/s",
      item: null,
    });
  });
});

describe("neighbours", () => {
  it("lists the nodes tied to one, outgoing first, skipping unknown ends", () => {
    const nodes = [node("P/s/a.k"), node("P/s/b.k"), node("P/s/c.k")];
    const edges = [
      { source: "P/s/c.k", target: "P/s/a.k", edge_type: "DEPENDS_ON" },
      { source: "P/s/a.k", target: "P/s/b.k", edge_type: "REPORTS_TO" },
      { source: "P/s/a.k", target: "P/s/gone.k", edge_type: "X" },
    ];
    expect(neighbours("P/s/a.k", { nodes, edges }).map((n) => [n.node.id, n.edgeType, n.direction])).toEqual([
      ["P/s/b.k", "REPORTS_TO", "out"],
      ["P/s/c.k", "DEPENDS_ON", "in"],
    ]);
  });
});
