import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api";
import {
  artifactBodyPath,
  breadcrumb,
  formatBytes,
  itemKrefOf,
  kumihoPath,
  loadArtifactPreview,
  locationOfKref,
  locationSearch,
  looksBinary,
  parseKref,
  PREVIEW_LIMIT,
  rangeTotal,
  readLocation,
  ROOT,
  spacePathOf,
  splitPage,
  textualType,
  trimPartialUtf8,
} from "./memorybrowser";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("parseKref", () => {
  it("parses items, revisions, tags and artifacts, with or without the scheme", () => {
    expect(parseKref("kref://Construct/AgentPool/bob-coder.agent")).toEqual({
      project: "Construct",
      spaces: ["AgentPool"],
      itemName: "bob-coder",
      kind: "agent",
      revision: null,
      tag: null,
      artifact: null,
    });
    const full = parseKref("P/a/b/my.item.v2.skilldef?r=3&a=SKILL.md");
    expect(full).toMatchObject({ project: "P", spaces: ["a", "b"], itemName: "my.item.v2", kind: "skilldef" });
    expect(full?.revision).toBe(3);
    expect(full?.artifact).toBe("SKILL.md");
    expect(parseKref("kref://P/s/x.k?t=published")?.tag).toBe("published");
  });

  it("rejects what is not a kref", () => {
    for (const bad of [
      "",
      "kref://P/x.k",
      "kref://P/s/noKind",
      "kref://P/s/.k",
      "kref://P/s/x.",
      "kref://P/../x.k",
      "kref://P//x.k",
      "kref://P/s p/x.k",
      "kref://P/s/x.k?r=0",
      "kref://P/s/x.k?r=abc",
      "kref://P/s/x.k?r=1&r=2",
      "kref://P/s/x.k?z=1",
      "kref://P/s/x.k?r=",
    ]) {
      expect(parseKref(bad), bad).toBeNull();
    }
  });

  it("derives the item kref and the space path", () => {
    const parsed = parseKref("kref://P/a/b/x.k?r=2&a=f.txt");
    expect(parsed).not.toBeNull();
    if (parsed !== null) {
      expect(itemKrefOf(parsed)).toBe("kref://P/a/b/x.k");
      expect(spacePathOf(parsed)).toBe("/P/a/b");
    }
  });
});

describe("readLocation", () => {
  const read = (search: string) => readLocation(new URLSearchParams(search));

  it("is the root without parameters", () => {
    expect(read("")).toEqual(ROOT);
  });

  it("derives project and space from the deepest field", () => {
    expect(read("revision=kref%3A%2F%2FP%2Fa%2Fb%2Fx.k%3Fr%3D2&artifact=f.txt")).toEqual({
      project: "P",
      space: "/P/a/b",
      item: "kref://P/a/b/x.k",
      revision: "kref://P/a/b/x.k?r=2",
      artifact: "f.txt",
      q: null,
    });
    expect(read("item=kref%3A%2F%2FP%2Fa%2Fx.k&project=Other")).toMatchObject({
      project: "P",
      space: "/P/a",
      item: "kref://P/a/x.k",
      revision: null,
    });
    expect(read("space=%2FP%2Fa%2Fb")).toMatchObject({ project: "P", space: "/P/a/b", item: null });
    expect(read("project=P")).toMatchObject({ project: "P", space: null });
  });

  it("drops malformed fields", () => {
    expect(read("space=%2FP")).toEqual(ROOT);
    expect(read("space=P%2Fa")).toEqual(ROOT);
    expect(read("space=%2FP%2F..%2Fx&project=P")).toMatchObject({ project: "P", space: null });
    expect(read("item=nonsense&project=P")).toMatchObject({ project: "P", item: null });
    expect(read("project=a%2Fb")).toEqual(ROOT);
    expect(read("revision=kref%3A%2F%2FP%2Fa%2Fx.k&artifact=f")).toMatchObject({ item: null, artifact: null });
    expect(read("revision=kref%3A%2F%2FP%2Fa%2Fx.k%3Fr%3D1&artifact=..")).toMatchObject({ artifact: null });
  });

  it("keeps a search, trimmed", () => {
    expect(read("q=%20deploy%20&project=P")).toMatchObject({ project: "P", q: "deploy" });
    expect(read("q=%20%20")).toEqual(ROOT);
  });

  it("round-trips through locationSearch", () => {
    const location = read("revision=kref%3A%2F%2FP%2Fa%2Fx.k%3Ft%3Dpublished&artifact=SKILL.md");
    expect(location.revision).toBe("kref://P/a/x.k?t=published");
    const search = locationSearch(location);
    expect(search.startsWith("?project=P&space=%2FP%2Fa&item=")).toBe(true);
    expect(readLocation(new URLSearchParams(search))).toEqual(location);
    expect(locationSearch(ROOT)).toBe("");
  });
});

describe("breadcrumb", () => {
  it("walks from the projects down to an artifact", () => {
    const location = readLocation(
      new URLSearchParams({ revision: "kref://P/a/b/x.k?r=2", artifact: "f.txt" }),
    );
    const crumbs = breadcrumb(location);
    expect(crumbs.map((crumb) => crumb.label)).toEqual(["Projects", "P", "a", "b", "x.k", "r2", "f.txt"]);
    expect(crumbs[0]?.location).toEqual(ROOT);
    expect(crumbs[2]?.location).toEqual({ ...ROOT, project: "P", space: "/P/a" });
    expect(crumbs[4]?.location).toEqual({ ...ROOT, project: "P", space: "/P/a/b", item: "kref://P/a/b/x.k" });
    expect(crumbs[6]?.location).toEqual(location);
  });

  it("shows a search under its project", () => {
    expect(breadcrumb({ ...ROOT, project: "P", q: "x" }).map((crumb) => crumb.label)).toEqual([
      "Projects",
      "P",
      "Search “x”",
    ]);
    expect(breadcrumb({ ...ROOT, q: "x" }).map((crumb) => crumb.label)).toEqual(["Projects", "Search “x”"]);
  });

  it("labels a tagged revision", () => {
    const crumbs = breadcrumb(readLocation(new URLSearchParams({ revision: "kref://P/a/x.k?t=published" })));
    expect(crumbs.at(-1)?.label).toBe("tag published");
  });
});

describe("locationOfKref", () => {
  it("opens revisions, tags and items", () => {
    expect(locationOfKref("kref://P/a/x.k?r=4")).toEqual({
      ...ROOT,
      project: "P",
      space: "/P/a",
      item: "kref://P/a/x.k",
      revision: "kref://P/a/x.k?r=4",
    });
    expect(locationOfKref("kref://P/a/x.k?t=latest")?.revision).toBe("kref://P/a/x.k?t=latest");
    expect(locationOfKref("kref://P/a/x.k")?.revision).toBeNull();
    expect(locationOfKref("junk")).toBeNull();
  });
});

describe("paths and paging", () => {
  it("encodes proxy queries", () => {
    expect(kumihoPath("artifacts", { revision_kref: "kref://P/a/x.k?r=1" })).toBe(
      "/api/kumiho/artifacts?revision_kref=kref%3A%2F%2FP%2Fa%2Fx.k%3Fr%3D1",
    );
    expect(artifactBodyPath("file:///data/a b.md")).toBe("/api/artifact-body?location=file%3A%2F%2F%2Fdata%2Fa+b.md");
  });

  it("splits a page fetched with one extra row", () => {
    expect(splitPage([1, 2, 3], 2)).toEqual({ shown: [1, 2], hasMore: true });
    expect(splitPage([1, 2], 2)).toEqual({ shown: [1, 2], hasMore: false });
    expect(splitPage([], 2)).toEqual({ shown: [], hasMore: false });
  });

  it("formats sizes", () => {
    expect(formatBytes(12)).toBe("12 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
  });
});

describe("artifact bodies", () => {
  it("classifies content types", () => {
    expect(textualType("text/markdown")).toBe("text");
    expect(textualType("application/json; charset=utf-8")).toBe("text");
    expect(textualType("application/ld+json")).toBe("text");
    expect(textualType("image/svg+xml")).toBe("text");
    expect(textualType("image/png")).toBe("binary");
    expect(textualType("application/pdf")).toBe("binary");
    expect(textualType("application/octet-stream")).toBe("sniff");
    expect(textualType(null)).toBe("sniff");
  });

  it("trims a cut UTF-8 sequence and nothing else", () => {
    const euro = new TextEncoder().encode("a€"); // 61 e2 82 ac
    expect([...trimPartialUtf8(euro)]).toEqual([...euro]);
    expect([...trimPartialUtf8(euro.subarray(0, 3))]).toEqual([0x61]);
    expect([...trimPartialUtf8(euro.subarray(0, 2))]).toEqual([0x61]);
    expect([...trimPartialUtf8(new Uint8Array([0x61, 0x62]))]).toEqual([0x61, 0x62]);
    expect(trimPartialUtf8(new Uint8Array([])).length).toBe(0);
  });

  it("sniffs binary bytes", () => {
    expect(looksBinary(new TextEncoder().encode("plain text ü"))).toBe(false);
    expect(looksBinary(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00]))).toBe(true);
    expect(looksBinary(new Uint8Array([0xff, 0xfe, 0x41]))).toBe(true);
  });

  it("reads the total from Content-Range", () => {
    expect(rangeTotal("bytes 0-262143/1000000")).toBe(1_000_000);
    expect(rangeTotal("bytes */0")).toBe(0);
    expect(rangeTotal("bytes 0-9/*")).toBeNull();
    expect(rangeTotal(null)).toBeNull();
  });

  it("asks for the first PREVIEW_LIMIT bytes and reports a truncated text", async () => {
    const fetchMock = vi.fn(
      async (..._args: unknown[]) =>
        new Response("x".repeat(PREVIEW_LIMIT), {
          status: 206,
          headers: { "Content-Type": "text/plain", "Content-Range": `bytes 0-${PREVIEW_LIMIT - 1}/900000` },
        }),
    );
    vi.stubGlobal("fetch", fetchMock);
    const preview = await loadArtifactPreview("file:///a.txt");
    expect(preview).toMatchObject({ kind: "text", shownBytes: PREVIEW_LIMIT, totalBytes: 900000, truncated: true });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/artifact-body?location=file%3A%2F%2F%2Fa.txt");
    expect(new Headers(init.headers).get("Range")).toBe(`bytes=0-${PREVIEW_LIMIT - 1}`);
    expect(init.credentials).toBe("same-origin");
  });

  it("shows a whole small text, and calls binaries binary", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response("# hi", { status: 200, headers: { "Content-Type": "text/markdown" } })),
    );
    expect(await loadArtifactPreview("/a.md")).toEqual({ kind: "text", text: "# hi", shownBytes: 4, totalBytes: 4, truncated: false });
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () =>
          new Response(new Uint8Array([1, 0, 2]), { status: 200, headers: { "Content-Type": "application/octet-stream" } }),
      ),
    );
    expect(await loadArtifactPreview("/a.bin")).toMatchObject({ kind: "binary", totalBytes: 3 });
    vi.stubGlobal("fetch", vi.fn(async () => new Response(null, { status: 416, headers: { "Content-Range": "bytes */0" } })));
    expect(await loadArtifactPreview("/empty")).toEqual({ kind: "text", text: "", shownBytes: 0, totalBytes: 0, truncated: false });
  });

  it("turns the gateway's error envelope into an ApiError", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () =>
          new Response(JSON.stringify({ error: "outside", code: "OUTSIDE_ARTIFACT_ROOTS" }), {
            status: 403,
            headers: { "Content-Type": "application/json" },
          }),
      ),
    );
    const error = (await loadArtifactPreview("/etc/passwd").catch((caught: unknown) => caught)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(403);
    expect(error.code).toBe("OUTSIDE_ARTIFACT_ROOTS");
  });
});
