import { useId, useState, type FormEvent } from "react";
import { Link } from "wouter";
import { api, segment } from "../api";
import { CodeEditor } from "../lib/codeeditor";
import { bodyFrom, validateFields, valuesFrom, type FieldSpec, type FormValues } from "../lib/entity";
import { validationErrorsOf } from "../lib/lines";
import { parseInputs } from "../lib/runs";
import { ErrorNote, useAction, useResource } from "../ui";
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
import "./Workflows.css";

interface Trigger {
  on_kind?: string;
  on_tag?: string;
  on_name_pattern?: string;
  cron?: string;
  timezone?: string;
}

interface Workflow {
  kref: string;
  name: string;
  item_name: string;
  deprecated: boolean;
  created_at: string;
  description: string;
  definition: string;
  version: string;
  tags: string[];
  steps: number;
  revision_number: number;
  source: string;
  triggers?: Trigger[];
}

interface RunAnswer {
  run_id: string;
  workflow: string;
  status: string;
  kref: string;
}

/** The fields of `POST /api/workflows`; the definition is edited in the code editor. */
const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", kind: "text", required: true, max: 100 },
  { name: "description", label: "Description", kind: "textarea", max: 2_000 },
  { name: "tags", label: "Tags", kind: "list", hint: "Separated by commas; tags in the YAML are added too." },
  { name: "definition", label: "Definition", kind: "code", required: true, maxBytes: 256 * 1024 },
];

const TEMPLATE = `name: my-workflow
steps:
  - id: gather
  - id: summarise
    depends_on: [gather]
`;

function WorkflowForm({ item, onSaved, onCancel }: EntityFormProps<Workflow>) {
  const [values, setValues] = useState<FormValues>(() => {
    const initial = valuesFrom(FIELDS, item as Record<string, unknown> | null);
    return item === null ? { ...initial, definition: TEMPLATE } : initial;
  });
  const submit = useSubmit(FIELDS.map((spec) => spec.name));
  const set = (name: string) => (value: string) => setValues((current) => ({ ...current, [name]: value }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    // `description` is a required key of the body even when empty.
    const body = { ...bodyFrom(FIELDS, values), description: (values.description ?? "").trim() };
    void submit.run(validateFields(FIELDS, values), () => saveEntity<Workflow>("/api/workflows", "workflow", item, body), onSaved);
  };

  return (
    <form ref={submit.formRef} className="entity-form" noValidate onSubmit={onSubmit}>
      <ErrorNote error={submit.error} />
      {FIELDS.filter((spec) => spec.kind !== "code").map((spec, index) => (
        <Field
          key={spec.name}
          spec={spec}
          value={values[spec.name] ?? ""}
          onChange={set(spec.name)}
          error={submit.fieldErrors[spec.name]}
          autoFocus={index === 0 && item === null}
        />
      ))}
      <CodeEditor
        label="Definition"
        value={values.definition ?? ""}
        onChange={set("definition")}
        errors={validationErrorsOf(submit.caught)}
        fieldError={submit.fieldErrors.definition}
        hint="YAML with a name and steps (each with an id, optionally depends_on), up to 256 KiB."
        required
      />
      <FormButtons editing={item !== null} busy={submit.busy} onCancel={onCancel} />
    </form>
  );
}

function describeTrigger(trigger: Trigger): string {
  if (trigger.cron !== undefined) {
    return `on schedule ${trigger.cron}${trigger.timezone !== undefined ? ` (${trigger.timezone})` : ""}`;
  }
  return [
    `when a ${trigger.on_kind ?? "item"}`,
    trigger.on_name_pattern !== undefined ? `named ${trigger.on_name_pattern}` : "",
    `is tagged ${trigger.on_tag ?? "ready"}`,
  ]
    .filter((part) => part !== "")
    .join(" ");
}

/** Starts a run: `POST /api/workflows/run/{name}` with optional JSON inputs. */
function RunPanel({ workflow }: { workflow: Workflow }) {
  const id = useId();
  const [inputs, setInputs] = useState("");
  const [inputError, setInputError] = useState<string | null>(null);
  const [started, setStarted] = useState<RunAnswer | null>(null);
  const action = useAction();

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setStarted(null);
    const parsed = parseInputs(inputs);
    if (!parsed.ok) {
      setInputError(parsed.error);
      return;
    }
    setInputError(null);
    const answer = await action.run(() =>
      api<RunAnswer>(`/api/workflows/run/${segment(workflow.item_name)}`, {
        method: "POST",
        body: parsed.inputs === null ? {} : { inputs: parsed.inputs },
      }),
    );
    if (answer !== undefined) {
      setStarted(answer);
    }
  };

  return (
    <form className="entity-form run-panel" noValidate onSubmit={(event) => void onSubmit(event)}>
      <h3>Run</h3>
      {workflow.deprecated ? (
        <p className="hint">A deprecated workflow does not run; undeprecate it first.</p>
      ) : (
        <>
          <div className="field">
            <label htmlFor={id}>Inputs (JSON object, optional)</label>
            <textarea
              id={id}
              className="code"
              rows={3}
              spellCheck={false}
              placeholder='{"topic": "release notes"}'
              value={inputs}
              aria-invalid={inputError !== null ? true : undefined}
              aria-describedby={inputError !== null ? `${id}-error` : `${id}-hint`}
              onChange={(event) => setInputs(event.target.value)}
            />
            <p id={`${id}-hint`} className="hint field-note">
              The gateway records the request; the workflow operator runs it.
            </p>
            {inputError !== null && (
              <p id={`${id}-error`} className="error field-note">
                {inputError}
              </p>
            )}
          </div>
          <div className="row">
            <button type="submit" disabled={action.busy}>
              Run workflow
            </button>
          </div>
          <ErrorNote error={action.error} />
          {started !== null && (
            <p role="status" className="ok">
              Run <code>{started.run_id}</code> requested ({started.status}).{" "}
              <Link href={`~/runs?workflow=${encodeURIComponent(started.workflow)}`}>See this workflow's runs</Link>
            </p>
          )}
        </>
      )}
    </form>
  );
}

/** The published definition, or an earlier revision's (`GET /api/workflows/revisions/{kref?r=N}`). */
function Definition({ workflow }: { workflow: Workflow }) {
  const id = useId();
  const current = workflow.revision_number;
  const [revision, setRevision] = useState(current);
  const earlier = useResource(
    () =>
      revision === current
        ? Promise.resolve(null)
        : api<{ workflow: Workflow }>(`/api/workflows/revisions/${segment(`${workflow.kref}?r=${revision}`)}`).then(
            (answer) => answer.workflow,
          ),
    [workflow.kref, revision, current],
  );
  const text = revision === current ? workflow.definition : earlier.data?.definition;
  return (
    <>
      <div className="row definition-head">
        <h3>Definition</h3>
        {current > 1 && (
          <label htmlFor={id} className="check">
            Revision
            <select id={id} value={revision} onChange={(event) => setRevision(Number(event.target.value))}>
              {Array.from({ length: current }, (_, index) => current - index).map((number) => (
                <option key={number} value={number}>
                  {number === current ? `${number} (published)` : number}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <ErrorNote error={earlier.error} />
      {text === undefined ? <p className="loading">Loading…</p> : <pre className="scroll-box">{text}</pre>}
    </>
  );
}

function WorkflowDetail({ item, admin }: { item: Workflow; admin: boolean }) {
  const triggers = item.triggers ?? [];
  return (
    <>
      <Details
        entries={[
          ["Description", item.description === "" ? "" : <span className="prose">{item.description}</span>],
          ["Workflow name", <code>{item.item_name}</code>],
          ["Tags", tagList(item.tags)],
          ["Steps", String(item.steps)],
          [
            "Triggers",
            triggers.length === 0 ? (
              ""
            ) : (
              <ul className="problems">
                {triggers.map((trigger, index) => (
                  <li key={index}>{describeTrigger(trigger)}</li>
                ))}
              </ul>
            ),
          ],
          ...provenance(item, item.revision_number),
        ]}
      />
      {admin && <RunPanel workflow={item} />}
      <Definition workflow={item} />
    </>
  );
}

/** Workflow definitions: search, browse, write (YAML, checked by the gateway), run, deprecate and delete. */
export function WorkflowsView() {
  return (
    <EntityView<Workflow>
      title="Workflows"
      noun="workflow"
      path="/api/workflows"
      listKey="workflows"
      searchable
      describe={(workflow) =>
        [`${workflow.steps} steps`, `revision ${workflow.revision_number}`, workflow.description]
          .filter((part) => part !== "")
          .join(" · ")
      }
      detail={WorkflowDetail}
      form={WorkflowForm}
    />
  );
}
