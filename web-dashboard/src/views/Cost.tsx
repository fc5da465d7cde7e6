import { api } from "../api";
import { formatCount, formatUsd, modelRows, type CostSummary } from "../lib/cost";
import { ErrorNote, Page, Pager, useClientPage, useResource } from "../ui";

const PER_PAGE = 20;

/** What the model turns cost: this process, today and this month (UTC), and per model. */
export function CostView() {
  const { data, error, loading, reload } = useResource(() => api<{ cost: CostSummary }>("/api/cost"), []);
  const cost = data?.cost ?? null;
  const rows = cost === null ? [] : modelRows(cost.by_model);
  const { page, setPage, shown } = useClientPage(rows, PER_PAGE);

  return (
    <Page
      title="Cost"
      actions={
        <button type="button" className="secondary" onClick={reload} disabled={loading}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={error} />
      {cost !== null && (
        <>
          <div className="cards">
            <section aria-labelledby="cost-spend">
              <h2 id="cost-spend">Spend</h2>
              <dl>
                <dt>Since the gateway started</dt>
                <dd>{formatUsd(cost.session_cost_usd)}</dd>
                <dt>Today (UTC)</dt>
                <dd>{formatUsd(cost.daily_cost_usd)}</dd>
                <dt>This month (UTC)</dt>
                <dd>{formatUsd(cost.monthly_cost_usd)}</dd>
              </dl>
            </section>
            <section aria-labelledby="cost-usage">
              <h2 id="cost-usage">Usage since the gateway started</h2>
              <dl>
                <dt>Tokens</dt>
                <dd>{formatCount(cost.total_tokens)}</dd>
                <dt>Requests</dt>
                <dd>{formatCount(cost.request_count)}</dd>
              </dl>
            </section>
          </div>
          <section aria-labelledby="cost-models">
            <h2 id="cost-models">By model (since the gateway started)</h2>
            {rows.length === 0 ? (
              <p className="hint">No model turns since the gateway started.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Model</th>
                      <th scope="col">Cost</th>
                      <th scope="col">Input tokens</th>
                      <th scope="col">Output tokens</th>
                      <th scope="col">Total tokens</th>
                      <th scope="col">Requests</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((row) => (
                      <tr key={row.model}>
                        <td>{row.model}</td>
                        <td>{formatUsd(row.cost_usd)}</td>
                        <td>{formatCount(row.input_tokens)}</td>
                        <td>{formatCount(row.output_tokens)}</td>
                        <td>{formatCount(row.total_tokens)}</td>
                        <td>{formatCount(row.request_count)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <Pager page={page} perPage={PER_PAGE} total={rows.length} onPage={setPage} />
            <p className="hint">
              Costs use the <code>[provider]</code> prices at the time of each turn; a price of 0 records tokens
              without cost.
            </p>
          </section>
        </>
      )}
    </Page>
  );
}
