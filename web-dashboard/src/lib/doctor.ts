// Doctor: the checks' results grouped by severity, the worst first.

export type Severity = "ok" | "warn" | "error";

export interface DoctorResult {
  severity: Severity;
  category: string;
  message: string;
  fix?: string;
}

export interface DoctorReport {
  results: DoctorResult[];
  summary: { ok: number; warnings: number; errors: number };
}

export interface SeverityGroup {
  severity: Severity;
  title: string;
  results: DoctorResult[];
}

const GROUPS: readonly { severity: Severity; title: string }[] = [
  { severity: "error", title: "Errors" },
  { severity: "warn", title: "Warnings" },
  { severity: "ok", title: "Passed" },
];

/** The non-empty groups, errors first; within a group the gateway's order. Unknown severities count as errors. */
export function groupBySeverity(results: readonly DoctorResult[]): SeverityGroup[] {
  const known = new Set<string>(["ok", "warn"]);
  return GROUPS.map(({ severity, title }) => ({
    severity,
    title,
    results: results.filter((result) =>
      severity === "error" ? !known.has(result.severity) : result.severity === severity,
    ),
  })).filter((group) => group.results.length > 0);
}

/** The badge class for a severity. */
export function severityTone(severity: Severity): "ok" | "warn" | "bad" {
  return severity === "ok" ? "ok" : severity === "warn" ? "warn" : "bad";
}
