import { useEffect, useState, type FormEvent } from "react";
import { api, errorMessage, hasScope, segment } from "../api";
import { useEvents } from "../lib/events";
import {
  invokeHint,
  parseArgs,
  pickCapability,
  type InvokeResult,
  type NodeInfo,
  type NodeList,
} from "../lib/nodes";
import { useSession } from "../session";
import { ErrorNote, Page, Pager, useClientPage, useResource } from "../ui";
import "./Nodes.css";

const PER_PAGE = 20;

function InvokeForm({ nodes, onStale }: { nodes: NodeInfo[]; onStale: () => void }) {
  const [nodeId, setNodeId] = useState("");
  const [capability, setCapability] = useState("");
  const [argsText, setArgsText] = useState("{}");
  const [invalid, setInvalid] = useState<string | null>(null);
  const [failure, setFailure] = useState<{ message: string; hint: string | null } | null>(null);
  const [result, setResult] = useState<InvokeResult | null>(null);
  const [busy, setBusy] = useState(false);
  // The selection follows the live list: a node that left falls back to the first, a capability the node
  // no longer offers to its first.
  const node = nodes.find((candidate) => candidate.node_id === nodeId) ?? nodes[0];
  const chosen = pickCapability(node, capability);
  const description = node?.capabilities.find((candidate) => candidate.name === chosen)?.description ?? "";

  async function invoke(event: FormEvent) {
    event.preventDefault();
    setResult(null);
    setFailure(null);
    if (node === undefined || chosen === "") {
      setInvalid("Choose a node and one of its capabilities.");
      return;
    }
    const parsed = parseArgs(argsText);
    if ("error" in parsed) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    setBusy(true);
    try {
      const body = parsed.args === undefined ? { capability: chosen } : { capability: chosen, args: parsed.args };
      setResult(await api<InvokeResult>(`/api/nodes/${segment(node.node_id)}/invoke`, { method: "POST", body }));
    } catch (caught) {
      setFailure({ message: errorMessage(caught), hint: invokeHint(caught) });
      onStale();
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="invoke-heading">
      <h2 id="invoke-heading">Invoke a capability</h2>
      {nodes.length === 0 ? (
        <p className="hint">No node is connected.</p>
      ) : (
        <form className="stack" onSubmit={(event) => void invoke(event)}>
          <div className="row nodes-pickers">
            <label>
              Node
              <select aria-label="Node" value={node?.node_id ?? ""} onChange={(event) => setNodeId(event.target.value)}>
                {nodes.map((candidate) => (
                  <option key={candidate.node_id} value={candidate.node_id}>
                    {candidate.node_id}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Capability
              <select aria-label="Capability" value={chosen} onChange={(event) => setCapability(event.target.value)}>
                {node?.capabilities.map((candidate) => (
                  <option key={candidate.name} value={candidate.name}>
                    {candidate.name}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {description !== "" && <p className="hint">{description}</p>}
          <label>
            Arguments (a JSON object; empty for none)
            <textarea
              aria-label="Arguments"
              className="code"
              value={argsText}
              spellCheck={false}
              rows={6}
              onChange={(event) => setArgsText(event.target.value)}
            />
          </label>
          <ErrorNote error={invalid} />
          <div className="row">
            <button type="submit" disabled={busy}>
              {busy ? "Waiting for the node…" : "Invoke"}
            </button>
          </div>
        </form>
      )}
      {failure !== null && (
        <div role="alert" className="error">
          <p>{failure.message}</p>
          {failure.hint !== null && <p>{failure.hint}</p>}
        </div>
      )}
      {result !== null && (
        <div role="status" className="nodes-result" aria-label="Invocation result">
          <p>
            <span className={`badge ${result.success ? "ok" : "bad"}`}>
              {result.success ? "success" : "failed"}
            </span>{" "}
            <span className="hint">call {result.call_id}</span>
          </p>
          {result.error !== null && <p className="error">{result.error}</p>}
          <pre aria-label="Output">{result.output === "" ? "(no output)" : result.output}</pre>
        </div>
      )}
    </section>
  );
}

/** Connected nodes and their capabilities (live), and invoking one (admin). */
export function NodesView() {
  const { session } = useSession();
  const { subscribe } = useEvents();
  const { data, error, loading, reload } = useResource(() => api<NodeList>("/api/nodes"), []);
  const nodes = data?.nodes ?? [];
  const { page, setPage, shown } = useClientPage(nodes, PER_PAGE);

  useEffect(
    () =>
      subscribe((event) => {
        if (event.type === "node_connected" || event.type === "node_disconnected") {
          reload();
        }
      }),
    [subscribe, reload],
  );

  return (
    <Page
      title="Nodes"
      actions={
        <button type="button" className="secondary" onClick={reload} disabled={loading}>
          Refresh
        </button>
      }
    >
      <section aria-labelledby="nodes-heading">
        <h2 id="nodes-heading">Connected nodes{data !== null && ` (${data.count})`}</h2>
        <p className="hint">
          Nodes are programs that connect to <code>/ws/nodes</code> and offer capabilities the agent can call. The
          list follows connections as they happen.
        </p>
        <ErrorNote error={error} />
        {data !== null && nodes.length === 0 && <p className="hint">No node is connected.</p>}
        {nodes.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Capabilities</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((node) => (
                  <tr key={node.node_id}>
                    <td>
                      <code>{node.node_id}</code>
                    </td>
                    <td>
                      {node.capabilities.length === 0 ? (
                        <span className="hint">none</span>
                      ) : (
                        <ul className="nodes-capabilities" aria-label={`Capabilities of ${node.node_id}`}>
                          {node.capabilities.map((capability) => (
                            <li key={capability.name}>
                              <code>{capability.name}</code>
                              {capability.description !== "" && (
                                <span className="hint"> — {capability.description}</span>
                              )}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager page={page} perPage={PER_PAGE} total={nodes.length} onPage={setPage} />
      </section>
      {hasScope(session, "admin") && data !== null && <InvokeForm nodes={nodes} onStale={reload} />}
    </Page>
  );
}
