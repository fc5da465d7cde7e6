// ClawHub answers come from the registry as they are; this reads the skills out of the shapes it uses
// (`{results: [...]}` for search, `{items: [...]}` for lists) without trusting any field's type.

export interface ClawHubSkill {
  slug: string;
  name: string;
  summary: string;
  version: string;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

/** The skills in a search or trending answer; entries without a usable slug are dropped. */
export function clawHubSkills(answer: unknown): ClawHubSkill[] {
  let list: unknown = answer;
  if (answer !== null && typeof answer === "object" && !Array.isArray(answer)) {
    const record = answer as Record<string, unknown>;
    list = [record.results, record.items, record.skills, record.data].find(Array.isArray) ?? [];
  }
  if (!Array.isArray(list)) {
    return [];
  }
  const seen = new Set<string>();
  const skills: ClawHubSkill[] = [];
  for (const entry of list as unknown[]) {
    if (entry === null || typeof entry !== "object") {
      continue;
    }
    const record = entry as Record<string, unknown>;
    const slug = text(record.slug);
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(slug) || slug === "." || slug === ".." || seen.has(slug)) {
      continue;
    }
    seen.add(slug);
    const latest = record.latestVersion;
    const tags = record.tags;
    const version =
      text(record.version) ||
      (latest !== null && typeof latest === "object" ? text((latest as Record<string, unknown>).version) : "") ||
      (tags !== null && typeof tags === "object" ? text((tags as Record<string, unknown>).latest) : "");
    skills.push({
      slug,
      name: text(record.displayName) || text(record.display_name) || text(record.name) || slug,
      summary: text(record.summary) || text(record.description),
      version,
    });
  }
  return skills;
}
