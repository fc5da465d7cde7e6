import { useId, useMemo, useState, type FormEvent } from "react";
import { api, ApiError, query, segment } from "../api";
import { bodyFrom, validateFields, valuesFrom, type FieldSpec, type FormValues } from "../lib/entity";
import { layoutGraph, DEFAULT_LAYOUT } from "../lib/graphlayout";
import {
  EDGE_TYPES,
  edgeLabel,
  graphErrorsOf,
  normalizeEdges,
  pruneEdges,
  validateTeamGraph,
  type TeamEdge,
} from "../lib/teams";
import { clampPage, ErrorNote, Pager, pageOf, useClientPage, useResource } from "../ui";
import type { Agent } from "./Agents";
import {
  Details,
  EntityView,
  Field,
  FormButtons,
  provenance,
  saveEntity,
  tagList,
  useSubmit,
  type EntityFormProps,
} from "./entity";
import "./Teams.css";

interface Member {
  kref: string;
  name: string;
  display_name: string;
  role: string;
  agent_type: string;
  identity: string;
  expertise: string[];
}

interface Team {
  kref: string;
  name: string;
  description: string;
  deprecated: boolean;
  created_at: string;
  member_count: number;
  member_names: string[];
  edge_count: number;
  /** Only in the full team (`GET /api/teams/{kref}`). */
  members?: Member[];
  edges?: TeamEdge[];
}

/** A node of the drawn graph. */
interface GraphNode {
  kref: string;
  label: string;
  role: string;
}

const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text", required: true, max: 100 },
  { name: "description", label: "Description", kind: "textarea", max: 2_000 },
];

const TABLE_PER_PAGE = 20;
const PICK_PER_PAGE = 10;

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** The members and edges as an SVG: layered, arrowheads, edge labels, focusable nodes that light up their edges. */
function TeamGraph({ nodes, edges, label }: { nodes: GraphNode[]; edges: TeamEdge[]; label: string }) {
  const base = `g${useId().replace(/[^A-Za-z0-9_-]/g, "")}`;
  const [active, setActive] = useState<string | null>(null);
  const layout = useMemo(
    () =>
      layoutGraph(
        nodes.map((node) => node.kref),
        edges.map((edge) => ({ from: edge.from_kref, to: edge.to_kref, type: edge.edge_type })),
      ),
    [nodes, edges],
  );
  if (nodes.length === 0) {
    return <p className="hint">No members yet.</p>;
  }
  const byKref = new Map(nodes.map((node) => [node.kref, node]));
  const nameOf = (kref: string) => byKref.get(kref)?.label ?? kref;
  const { nodeWidth, nodeHeight } = DEFAULT_LAYOUT;
  const describe = (node: GraphNode) => {
    const links = layout.edges
      .filter((edge) => edge.from === node.kref || edge.to === node.kref)
      .map((edge) => `${nameOf(edge.from)} ${edgeLabel(edge.type)} ${nameOf(edge.to)}.`);
    return [`${node.label}${node.role !== "" ? ` (${node.role})` : ""}.`, ...links].join(" ");
  };
  return (
    <figure className="team-graph">
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        width={layout.width}
        height={layout.height}
        role="group"
        aria-label={label}
      >
        <defs>
          {EDGE_TYPES.map((type) => (
            <marker
              key={type}
              id={`${base}-${type}`}
              className={`arrow edge-${type.toLowerCase()}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerUnits="userSpaceOnUse"
              markerWidth="10"
              markerHeight="10"
              orient="auto"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" />
            </marker>
          ))}
        </defs>
        <g aria-hidden="true">
          {layout.edges.map((edge, index) => {
            const state =
              active === null ? "" : edge.from === active || edge.to === active ? " active" : " dim";
            return (
              <g key={index} className={`edge edge-${edge.type.toLowerCase()}${state}`}>
                <path d={edge.path} markerEnd={`url(#${base}-${edge.type})`} />
                <text x={edge.label.x} y={edge.label.y}>
                  {edgeLabel(edge.type)}
                </text>
              </g>
            );
          })}
        </g>
        {layout.nodes.map((placed) => {
          const node = byKref.get(placed.id) as GraphNode;
          const text = describe(node);
          return (
            <g
              key={node.kref}
              className={`node${active === node.kref ? " active" : ""}`}
              transform={`translate(${placed.x - nodeWidth / 2} ${placed.y - nodeHeight / 2})`}
              tabIndex={0}
              role="img"
              aria-label={text}
              onFocus={() => setActive(node.kref)}
              onBlur={() => setActive(null)}
              onMouseEnter={() => setActive(node.kref)}
              onMouseLeave={() => setActive(null)}
            >
              <title>{text}</title>
              <rect width={nodeWidth} height={nodeHeight} rx="8" />
              <text x={nodeWidth / 2} y={node.role === "" ? nodeHeight / 2 : nodeHeight / 2 - 7}>
                {clip(node.label, 20)}
              </text>
              {node.role !== "" && (
                <text className="node-sub" x={nodeWidth / 2} y={nodeHeight / 2 + 9}>
                  {clip(node.role, 24)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="hint">
        Arrows run from a member to the one it reports to, supports, depends on or feeds into. Focus or point at a
        member to pick out its edges.
      </figcaption>
    </figure>
  );
}

function memberNodes(members: readonly Member[]): GraphNode[] {
  return members.map((member) => ({
    kref: member.kref,
    label: member.display_name !== "" ? member.display_name : member.name,
    role: member.role,
  }));
}

function TeamDetail({ item }: { item: Team }) {
  const members = item.members ?? [];
  const edges = item.edges ?? [];
  const memberPage = useClientPage(members, TABLE_PER_PAGE);
  const edgePage = useClientPage(edges, TABLE_PER_PAGE);
  const nodes = useMemo(() => memberNodes(members), [members]);
  const nameOf = (kref: string) => nodes.find((node) => node.kref === kref)?.label ?? kref;
  return (
    <>
      <Details
        entries={[
          ["Description", item.description === "" ? "" : <span className="prose">{item.description}</span>],
          ["Members", String(members.length)],
          ["Edges", String(edges.length)],
          ...provenance(item, null),
        ]}
      />
      <h3>Graph</h3>
      <TeamGraph nodes={nodes} edges={edges} label={`Graph of ${item.name}`} />
      <h3>Members</h3>
      {members.length === 0 ? (
        <p className="hint">No members.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Agent type</th>
                <th>Expertise</th>
              </tr>
            </thead>
            <tbody>
              {memberPage.shown.map((member) => (
                <tr key={member.kref}>
                  <td>{member.display_name !== "" ? member.display_name : member.name}</td>
                  <td>{member.role}</td>
                  <td>{member.agent_type}</td>
                  <td>{tagList(member.expertise)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={memberPage.page} perPage={TABLE_PER_PAGE} total={members.length} onPage={memberPage.setPage} />
      <h3>Edges</h3>
      {edges.length === 0 ? (
        <p className="hint">No edges.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>From</th>
                <th>Type</th>
                <th>To</th>
              </tr>
            </thead>
            <tbody>
              {edgePage.shown.map((edge) => (
                <tr key={`${edge.from_kref} ${edge.edge_type} ${edge.to_kref}`}>
                  <td>{nameOf(edge.from_kref)}</td>
                  <td>{edgeLabel(edge.edge_type)}</td>
                  <td>{nameOf(edge.to_kref)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={edgePage.page} perPage={TABLE_PER_PAGE} total={edges.length} onPage={edgePage.setPage} />
    </>
  );
}

/** Every agent (pages of 100, at most 2000), for picking members. */
async function allAgents(): Promise<Agent[]> {
  const found: Agent[] = [];
  for (let page = 1; page <= 20; page += 1) {
    const answer = await api<{ agents: Agent[]; total_count: number }>(`/api/agents${query({ page, per_page: 100 })}`);
    found.push(...answer.agents);
    if (answer.agents.length < 100 || found.length >= answer.total_count) {
      break;
    }
  }
  return found;
}

interface Candidate {
  kref: string;
  name: string;
  role: string;
}

function MemberPicker({
  candidates,
  members,
  onChange,
}: {
  candidates: Candidate[];
  members: string[];
  onChange: (members: string[]) => void;
}) {
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const shown = candidates.filter(
    (candidate) =>
      needle === "" || candidate.name.toLowerCase().includes(needle) || candidate.role.toLowerCase().includes(needle),
  );
  const { page, setPage, shown: onPage } = useClientPage(shown, PICK_PER_PAGE);
  return (
    <fieldset>
      <legend>Members ({members.length} chosen)</legend>
      <label className="grow-label">
        <span>Filter agents</span>
        <input
          type="search"
          value={filter}
          onChange={(event) => {
            setFilter(event.target.value);
            setPage(1);
          }}
        />
      </label>
      {shown.length === 0 && <p className="hint">No agents match.</p>}
      <ul className="pick-list">
        {onPage.map((candidate) => (
          <li key={candidate.kref}>
            <label className="check">
              <input
                type="checkbox"
                checked={members.includes(candidate.kref)}
                onChange={(event) =>
                  onChange(
                    event.target.checked
                      ? [...members, candidate.kref]
                      : members.filter((member) => member !== candidate.kref),
                  )
                }
              />
              {candidate.name}
              {candidate.role !== "" && <span className="hint"> · {candidate.role}</span>}
            </label>
          </li>
        ))}
      </ul>
      <Pager page={page} perPage={PICK_PER_PAGE} total={shown.length} onPage={setPage} />
    </fieldset>
  );
}

function EdgeEditor({
  members,
  edges,
  nameOf,
  problems,
  onChange,
}: {
  members: string[];
  edges: TeamEdge[];
  nameOf: (kref: string) => string;
  problems: string[];
  onChange: (edges: TeamEdge[]) => void;
}) {
  const [chosenPage, setPage] = useState(1);
  const page = clampPage(chosenPage, edges.length, TABLE_PER_PAGE);
  const change = (index: number, patch: Partial<TeamEdge>) =>
    onChange(edges.map((edge, at) => (at === index ? { ...edge, ...patch } : edge)));
  const add = () => {
    const [from, to] = members;
    if (from !== undefined && to !== undefined) {
      onChange([...edges, { from_kref: from, to_kref: to, edge_type: "REPORTS_TO" }]);
      setPage(Math.ceil((edges.length + 1) / TABLE_PER_PAGE));
    }
  };
  const indexed = edges.map((edge, index) => ({ edge, index }));
  const select = (index: number, end: "from" | "to", value: string) => (
    <select
      aria-label={`Edge ${index + 1} ${end}`}
      value={value}
      onChange={(event) => change(index, end === "from" ? { from_kref: event.target.value } : { to_kref: event.target.value })}
    >
      {members.map((member) => (
        <option key={member} value={member}>
          {nameOf(member)}
        </option>
      ))}
    </select>
  );
  return (
    <fieldset>
      <legend>Edges ({edges.length})</legend>
      {edges.length === 0 && <p className="hint">No edges. Add one to say who reports to, supports, depends on or feeds into whom.</p>}
      <ol className="edge-rows">
        {pageOf(indexed, page, TABLE_PER_PAGE).map(({ edge, index }) => (
          <li key={index} className="row">
            {select(index, "from", edge.from_kref)}
            <select
              aria-label={`Edge ${index + 1} type`}
              value={edge.edge_type}
              onChange={(event) => change(index, { edge_type: event.target.value })}
            >
              {EDGE_TYPES.map((type) => (
                <option key={type} value={type}>
                  {edgeLabel(type)}
                </option>
              ))}
            </select>
            {select(index, "to", edge.to_kref)}
            <button
              type="button"
              className="secondary"
              aria-label={`Remove edge ${index + 1}`}
              onClick={() => onChange(edges.filter((_, at) => at !== index))}
            >
              Remove
            </button>
          </li>
        ))}
      </ol>
      <Pager page={page} perPage={TABLE_PER_PAGE} total={edges.length} onPage={setPage} />
      <button type="button" className="secondary" onClick={add} disabled={members.length < 2}>
        Add edge
      </button>
      {members.length < 2 && <p className="hint">Choose two members or more to draw edges.</p>}
      {problems.length > 0 && (
        <ul className="problems error" role="alert" aria-label="Graph problems">
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

function TeamForm({ item, onSaved, onCancel }: EntityFormProps<Team>) {
  const [values, setValues] = useState<FormValues>(() => valuesFrom(FIELDS, item as Record<string, unknown> | null));
  const [members, setMembers] = useState<string[]>(() => item?.members?.map((member) => member.kref) ?? []);
  const [edges, setEdges] = useState<TeamEdge[]>(() => item?.edges ?? []);
  const [problems, setProblems] = useState<string[]>([]);
  const agents = useResource(allAgents, []);
  const submit = useSubmit(["name", "description", "members", "edges"]);

  // Current members first (an agent deprecated since stays pickable), then the pool's agents.
  const candidates = useMemo(() => {
    const list: Candidate[] = (item?.members ?? []).map((member) => ({
      kref: member.kref,
      name: member.display_name !== "" ? member.display_name : member.name,
      role: member.role,
    }));
    for (const agent of agents.data ?? []) {
      if (!list.some((candidate) => candidate.kref === agent.kref)) {
        list.push({ kref: agent.kref, name: agent.name, role: agent.role });
      }
    }
    return list;
  }, [agents.data, item]);
  const nameOf = (kref: string) => candidates.find((candidate) => candidate.kref === kref)?.name ?? kref;
  const serverProblems =
    submit.caught instanceof ApiError && submit.caught.code === "INVALID_TEAM_GRAPH" ? graphErrorsOf(submit.caught.body) : [];
  const preview = useMemo(
    () => candidates.filter((candidate) => members.includes(candidate.kref)).map((c) => ({ kref: c.kref, label: c.name, role: c.role })),
    [candidates, members],
  );
  const previewEdges = useMemo(() => normalizeEdges(edges), [edges]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const errors = validateFields(FIELDS, values);
    const found = validateTeamGraph(members, edges, nameOf).map((problem) => problem.message);
    setProblems(found);
    if (found.length > 0) {
      errors.edges = "The graph has problems";
    }
    const body = { ...bodyFrom(FIELDS, values), members, edges: normalizeEdges(edges) };
    void submit.run(errors, () => saveEntity<Team>("/api/teams", "team", item, body), onSaved);
  };

  return (
    <form ref={submit.formRef} className="entity-form" noValidate onSubmit={onSubmit}>
      <ErrorNote error={submit.error} />
      {FIELDS.map((spec, index) => (
        <Field
          key={spec.name}
          spec={spec}
          value={values[spec.name] ?? ""}
          onChange={(value) => setValues((current) => ({ ...current, [spec.name]: value }))}
          error={submit.fieldErrors[spec.name]}
          autoFocus={index === 0 && item === null}
        />
      ))}
      <ErrorNote error={agents.error} />
      {agents.loading && <p className="loading">Loading agents…</p>}
      <MemberPicker
        candidates={candidates}
        members={members}
        onChange={(next) => {
          setMembers(next);
          setEdges((current) => pruneEdges(next, current));
        }}
      />
      <EdgeEditor
        members={members}
        edges={edges}
        nameOf={nameOf}
        problems={[...problems, ...serverProblems]}
        onChange={(next) => {
          setEdges(next);
          setProblems([]);
        }}
      />
      <h3>Preview</h3>
      <TeamGraph nodes={preview} edges={previewEdges} label="Preview of the team graph" />
      <FormButtons editing={item !== null} busy={submit.busy} onCancel={onCancel} />
    </form>
  );
}

/** Teams of agents: their members and the typed edges between them, drawn as a graph. */
export function TeamsView() {
  return (
    <EntityView<Team>
      title="Teams"
      noun="team"
      path="/api/teams"
      listKey="teams"
      searchable={false}
      describe={(team) =>
        [`${team.member_count} members`, `${team.edge_count} edges`, team.description].filter((part) => part !== "").join(" · ")
      }
      loadDetail={(team) => api<{ team: Team }>(`/api/teams/${segment(team.kref)}`).then((answer) => answer.team)}
      detail={TeamDetail}
      form={TeamForm}
    />
  );
}
