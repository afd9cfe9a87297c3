/** Topics are `group:action`; the catalog of valid ones is configuration. Pure. */

export interface Topic {
  group: string;
  action: string;
}

export function parseTopic(topic: string): Topic | null {
  const m = /^([a-z][a-z0-9_-]*):([a-z][a-z0-9_-]*)$/.exec(topic);
  return m ? { group: m[1]!, action: m[2]! } : null;
}

export function formatTopic(t: Topic): string {
  return `${t.group}:${t.action}`;
}

/** Why `topic` is not in `catalog`, or null when it is. */
export function topicProblem(catalog: readonly string[], topic: string): string | null {
  if (catalog.includes(topic)) return null;
  const parsed = parseTopic(topic);
  if (!parsed) return `must be "group:action" (got ${JSON.stringify(topic)})`;
  const groups = [...new Set(catalog.map((t) => t.split(":")[0]))];
  if (!groups.includes(parsed.group)) return `unknown group "${parsed.group}"; known groups: ${groups.join(", ")}`;
  const actions = catalog.filter((t) => t.startsWith(`${parsed.group}:`)).map((t) => t.split(":")[1]);
  return `unknown action "${parsed.action}" for group "${parsed.group}"; known actions: ${actions.join(", ")}`;
}
