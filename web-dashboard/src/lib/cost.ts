// Cost: the summary's shape, the per-model table's order, and money and count formatting.

export interface ModelCost {
  model: string;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  request_count: number;
}

export interface CostSummary {
  session_cost_usd: number;
  daily_cost_usd: number;
  monthly_cost_usd: number;
  total_tokens: number;
  request_count: number;
  by_model: Record<string, ModelCost>;
}

/** The per-model rows, most expensive first, then by most tokens, then by name. */
export function modelRows(byModel: Record<string, ModelCost>): ModelCost[] {
  return Object.entries(byModel)
    .map(([name, cost]) => ({ ...cost, model: cost.model || name }))
    .sort((a, b) => b.cost_usd - a.cost_usd || b.total_tokens - a.total_tokens || a.model.localeCompare(b.model));
}

/** US dollars: cents for amounts of a cent or more, four significant digits below (token prices are small). */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value)) {
    return "—";
  }
  const small = value !== 0 && Math.abs(value) < 0.01;
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    ...(small ? { maximumSignificantDigits: 4 } : { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  }).format(value);
}

/** A count with the reader's digit grouping. */
export function formatCount(value: number): string {
  return value.toLocaleString();
}
