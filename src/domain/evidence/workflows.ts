/**
 * Naming workflows in the policy: an entry is a workflow file name ("backup-restore-smoke.yml"), its full path
 * (".github/workflows/backup-restore-smoke.yml") or its display name ("Test/Build", any case). One rule, used by
 * the GitHub adapter, the poller, the evidence ledger and the release gate, so they always agree.
 */

/** The last path segment of a workflow path, without a `@ref` suffix (reusable/dynamic workflow paths carry one). */
export function workflowFileName(path: string): string {
  const last = path.split('/').pop() ?? path;
  const at = last.indexOf('@');
  return at > 0 ? last.slice(0, at) : last;
}

/** Does a policy entry name this workflow (given its paths and names as the provider reported them)? */
export function namesWorkflow(
  entry: string,
  workflow: { paths: (string | null | undefined)[]; names: (string | null | undefined)[] },
): boolean {
  const paths = workflow.paths.filter((p): p is string => typeof p === 'string' && p !== '');
  if (paths.some((p) => p === entry || workflowFileName(p) === entry)) return true;
  const wanted = entry.toLowerCase();
  return workflow.names.some((n) => typeof n === 'string' && n.toLowerCase() === wanted);
}

/** Same rule for a stored workflow-run record. */
export function recordMatches(entry: string, run: { workflow_path: string; workflow_name: string }): boolean {
  return namesWorkflow(entry, { paths: [run.workflow_path], names: [run.workflow_name] });
}
