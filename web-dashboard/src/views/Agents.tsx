import type { FieldSpec } from "../lib/entity";
import { Details, EntityView, provenance, saveEntity, SpecForm, tagList, type EntityFormProps } from "./entity";

export interface Agent {
  kref: string;
  name: string;
  kind: string;
  deprecated: boolean;
  created_at: string;
  identity: string;
  soul: string;
  expertise: string[];
  tone: string;
  role: string;
  agent_type: string;
  model: string;
  system_hint: string;
  revision: number | null;
}

/** The fields of `POST /api/agents`, with the gateway's limits. */
const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text", required: true, max: 100 },
  { name: "identity", label: "Identity", kind: "textarea", required: true, max: 16_384, hint: "Who the agent is." },
  { name: "soul", label: "Soul", kind: "textarea", required: true, max: 16_384, hint: "Its character and values." },
  {
    name: "expertise",
    label: "Expertise",
    kind: "list",
    max: 50,
    itemMax: 100,
    hint: "Separated by commas; at most 50.",
  },
  { name: "tone", label: "Tone", kind: "text", max: 200 },
  { name: "role", label: "Role", kind: "text", max: 200 },
  { name: "agent_type", label: "Agent type", kind: "text", max: 100 },
  { name: "model", label: "Model", kind: "text", max: 200 },
  { name: "system_hint", label: "System hint", kind: "textarea", max: 4_096 },
];

function AgentForm({ item, onSaved, onCancel }: EntityFormProps<Agent>) {
  return (
    <SpecForm
      specs={FIELDS}
      item={item as Record<string, unknown> | null}
      save={(body) => saveEntity<Agent>("/api/agents", "agent", item, body)}
      onSaved={onSaved}
      onCancel={onCancel}
    />
  );
}

function AgentDetail({ item }: { item: Agent }) {
  return (
    <Details
      entries={[
        ["Identity", item.identity === "" ? "" : <span className="prose">{item.identity}</span>],
        ["Soul", item.soul === "" ? "" : <span className="prose">{item.soul}</span>],
        ["Expertise", tagList(item.expertise)],
        ["Tone", item.tone],
        ["Role", item.role],
        ["Agent type", item.agent_type],
        ["Model", item.model],
        ["System hint", item.system_hint === "" ? "" : <span className="prose">{item.system_hint}</span>],
        ...provenance(item, item.revision),
      ]}
    />
  );
}

/** The agent pool: search, browse, create, edit, deprecate and delete agents. */
export function AgentsView() {
  return (
    <EntityView<Agent>
      title="Agents"
      noun="agent"
      path="/api/agents"
      listKey="agents"
      searchable
      describe={(agent) => [agent.role, agent.agent_type, agent.model].filter((part) => part !== "").join(" · ")}
      detail={AgentDetail}
      form={AgentForm}
    />
  );
}
