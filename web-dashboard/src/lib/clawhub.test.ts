import { describe, expect, it } from "vitest";
import { clawHubSkills } from "./clawhub";

describe("clawHubSkills", () => {
  it("reads a search answer", () => {
    expect(
      clawHubSkills({
        results: [{ score: 0.9, slug: "pg-backup", displayName: "PostgreSQL Backup", summary: "Backups", version: "1.2.0" }],
      }),
    ).toEqual([{ slug: "pg-backup", name: "PostgreSQL Backup", summary: "Backups", version: "1.2.0" }]);
  });
  it("reads a trending list, taking the version from latestVersion or the latest tag", () => {
    expect(
      clawHubSkills({
        items: [
          { slug: "a", displayName: "A", summary: null, latestVersion: { version: "2.0.0" } },
          { slug: "b", name: "B", description: "bee", tags: { latest: "0.3.1" } },
        ],
        nextCursor: null,
      }),
    ).toEqual([
      { slug: "a", name: "A", summary: "", version: "2.0.0" },
      { slug: "b", name: "B", summary: "bee", version: "0.3.1" },
    ]);
  });
  it("accepts a bare array and falls back to the slug for the name", () => {
    expect(clawHubSkills([{ slug: "x" }])).toEqual([{ slug: "x", name: "x", summary: "", version: "" }]);
  });
  it("drops entries whose slug could not be installed, and repeats", () => {
    expect(
      clawHubSkills({ results: [{ slug: "../etc" }, { slug: ".." }, { name: "no slug" }, null, { slug: "ok" }, { slug: "ok" }] }),
    ).toHaveLength(1);
  });
  it("is empty for anything else", () => {
    expect(clawHubSkills(null)).toEqual([]);
    expect(clawHubSkills({ results: "x" })).toEqual([]);
    expect(clawHubSkills("x")).toEqual([]);
  });
});
