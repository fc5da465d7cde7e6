import { useState, type FormEvent } from "react";
import { api, query, segment } from "../api";
import { clawHubSkills, type ClawHubSkill } from "../lib/clawhub";
import type { FieldSpec } from "../lib/entity";
import { ErrorNote, Pager, useAction, useClientPage, useResource } from "../ui";
import { Details, EntityView, provenance, saveEntity, SpecForm, tagList, type EntityFormProps } from "./entity";

interface Skill {
  kref: string;
  name: string;
  item_name: string;
  deprecated: boolean;
  created_at: string;
  description: string;
  content: string;
  domain: string;
  tags: string[];
  revision_number: number;
}

/** The fields of `POST /api/skills`, with the gateway's limits; the name is the item's and stays. */
const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text", required: true, max: 100, fixedOnEdit: true },
  { name: "description", label: "Description", kind: "textarea", required: true, max: 2_000 },
  { name: "domain", label: "Domain", kind: "text", required: true, max: 100, hint: "For example Engineering or Writing." },
  { name: "tags", label: "Tags", kind: "list", max: 30, itemMax: 50, hint: "Separated by commas; at most 30." },
  {
    name: "content",
    label: "Content",
    kind: "code",
    required: true,
    maxBytes: 256 * 1024,
    hint: "The skill's SKILL.md (Markdown), up to 256 KiB.",
  },
];

function SkillForm({ item, onSaved, onCancel }: EntityFormProps<Skill>) {
  return (
    <SpecForm
      specs={FIELDS}
      item={item as Record<string, unknown> | null}
      save={(body) => saveEntity<Skill>("/api/skills", "skill", item, body)}
      onSaved={onSaved}
      onCancel={onCancel}
    />
  );
}

function SkillDetail({ item }: { item: Skill }) {
  return (
    <>
      <Details
        entries={[
          ["Description", <span className="prose">{item.description}</span>],
          ["Domain", item.domain],
          ["Tags", tagList(item.tags)],
          ...provenance(item, item.revision_number),
        ]}
      />
      <h3>Content</h3>
      <pre className="scroll-box">{item.content}</pre>
    </>
  );
}

interface Installed {
  slug: string;
  name: string;
  kref: string;
}

const CLAWHUB_PER_PAGE = 10;

/** Trending ClawHub skills, or search results, with details and install. */
function ClawHubPanel({ admin, onInstalled }: { admin: boolean; onInstalled: () => void }) {
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [installed, setInstalled] = useState<Installed | null>(null);
  const install = useAction();
  const results = useResource(
    () =>
      api<unknown>(
        search === ""
          ? `/api/clawhub/trending${query({ limit: 50 })}`
          : `/api/clawhub/search${query({ q: search, limit: 50 })}`,
      ).then(clawHubSkills),
    [search],
  );
  const detail = useResource(
    () =>
      open === null
        ? Promise.resolve(null)
        : api<{ skill_md?: string | null }>(`/api/clawhub/skills/${segment(open)}`),
    [open],
  );
  const skills = results.data ?? [];
  const { page, setPage, shown } = useClientPage(skills, CLAWHUB_PER_PAGE);

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setSearch(draft.trim());
    setPage(1);
    setOpen(null);
  };

  const doInstall = async (skill: ClawHubSkill) => {
    setInstalled(null);
    const answer = await install.run(() =>
      api<Installed>(`/api/clawhub/install/${segment(skill.slug)}`, { method: "POST" }),
    );
    if (answer !== undefined) {
      setInstalled(answer);
      onInstalled();
    }
  };

  return (
    <section aria-labelledby="clawhub-heading">
      <h2 id="clawhub-heading">ClawHub</h2>
      <form role="search" className="row search-row" onSubmit={onSearch}>
        <label className="grow-label">
          <span>Search ClawHub</span>
          <input type="search" maxLength={200} value={draft} onChange={(event) => setDraft(event.target.value)} />
        </label>
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      <p className="hint">{search === "" ? "Trending skills." : `Results for “${search}”.`}</p>
      <ErrorNote error={results.error} />
      <ErrorNote error={install.error} />
      {installed !== null && (
        <p role="status" className="ok">
          Installed {installed.name} as a skill.
        </p>
      )}
      {results.loading && <p className="loading">Loading…</p>}
      {results.data !== null && skills.length === 0 && <p className="hint">No skills found.</p>}
      <ul className="entity-list">
        {shown.map((skill) => (
          <li key={skill.slug}>
            <div className="row">
              <strong>{skill.name}</strong>
              <code>{skill.slug}</code>
              {skill.version !== "" && <span className="badge">{skill.version}</span>}
              <span className="spacer" />
              <button
                type="button"
                className="secondary"
                aria-expanded={open === skill.slug}
                aria-label={`Details of ${skill.name}`}
                onClick={() => setOpen(open === skill.slug ? null : skill.slug)}
              >
                Details
              </button>
              {admin && (
                <button
                  type="button"
                  aria-label={`Install ${skill.name}`}
                  disabled={install.busy}
                  onClick={() => void doInstall(skill)}
                >
                  Install
                </button>
              )}
            </div>
            {skill.summary !== "" && <p className="entity-meta">{skill.summary}</p>}
            {open === skill.slug && (
              <div>
                <ErrorNote error={detail.error} />
                {detail.loading ? (
                  <p className="loading">Loading…</p>
                ) : (
                  detail.data !== null && (
                    <pre className="scroll-box">{detail.data.skill_md ?? "This skill has no SKILL.md."}</pre>
                  )
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      <Pager page={page} perPage={CLAWHUB_PER_PAGE} total={skills.length} onPage={setPage} />
    </section>
  );
}

/** Skills: search, browse, create, edit, deprecate and delete them, and install more from ClawHub. */
export function SkillsView() {
  return (
    <EntityView<Skill>
      title="Skills"
      noun="skill"
      path="/api/skills"
      listKey="skills"
      searchable
      describe={(skill) => [skill.domain, skill.content].filter((part) => part !== "").join(" · ")}
      loadDetail={(skill) =>
        api<{ skill: Skill }>(`/api/skills/${segment(skill.kref)}`).then((answer) => answer.skill)
      }
      detail={SkillDetail}
      form={SkillForm}
      after={(reload, admin) => <ClawHubPanel admin={admin} onInstalled={reload} />}
    />
  );
}
