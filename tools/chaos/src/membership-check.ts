import type { ChaosClient } from './chaos-client.js';
import type { MembershipCheck } from './phase-tally.js';

/** A node to ask: its index and `http://127.0.0.1:<port>`. */
export interface NodeAddress {
  index: number;
  httpUrl: string;
}

/** What one look at the membership found. */
export interface MembershipView {
  /** Every node answered, every client is settled, and every node lists exactly the clients of each group. */
  converged: boolean;
  ghosts: number;
  missing: number;
  /** What was wrong, one line each. */
  problems: string[];
}

/** How often the view is looked at while waiting, and how long one admin request may take. */
const POLL_MS = 250;
const REQUEST_TIMEOUT_MS = 5000;
/** How many problems a check keeps for the report. */
const DETAIL_LINES = 5;

/**
 * Looks once at every group's members as each node lists them (`GET /admin/groups/:id`), against the clients' own
 * view: a client is in its group (under its current session id) when it says so. Ghosts: member ids a node listed
 * that no client of the group is. Missing: clients that are not connected and in their group (not back yet, or
 * never let back in), and clients some node did not list. A node that does not answer (or answers neither 200 nor
 * 404) fails the look and counts every client of the group as missing there.
 */
export async function lookAtMembership(nodes: readonly NodeAddress[], adminToken: string, clients: readonly ChaosClient[]): Promise<MembershipView> {
  const problems: string[] = [];
  const ghosts = new Set<string>();
  const missing = new Set<number>();
  const groups = new Map<string, ChaosClient[]>();
  for (const client of clients) {
    groups.set(client.group, [...(groups.get(client.group) ?? []), client]);
    if (!client.settled) {
      missing.add(client.index);
      problems.push(`client ${client.index} (${client.group}) is not back: ${client.sdk.state}, ${client.inGroup ? 'in' : 'not in'} its group`);
    }
  }
  let answered = true;
  for (const [group, members] of groups) {
    const expected = new Map(members.filter((c) => c.inGroup && c.session !== null).map((c) => [c.session as string, c]));
    for (const node of nodes) {
      const listed = await listMembers(node, group, adminToken);
      if (typeof listed === 'string') {
        answered = false;
        problems.push(`node ${node.index + 1}, ${group}: ${listed}`);
        for (const client of members) missing.add(client.index);
        continue;
      }
      for (const id of listed) {
        if (expected.has(id) || ghosts.has(`${group}/${id}`)) continue;
        ghosts.add(`${group}/${id}`);
        problems.push(`node ${node.index + 1} lists ${id} in ${group}: no client of the group is that session`);
      }
      for (const [session, client] of expected) {
        if (listed.includes(session) || missing.has(client.index)) continue;
        missing.add(client.index);
        problems.push(`node ${node.index + 1} does not list client ${client.index} (${session}) in ${group}`);
      }
    }
  }
  const converged = answered && ghosts.size === 0 && missing.size === 0;
  return { converged, ghosts: ghosts.size, missing: missing.size, problems };
}

/**
 * Looks at the membership until it has converged or `boundMs` passed, and says how it ended (the figures of the last
 * look when it did not converge).
 */
export async function waitForConvergence(label: string, boundMs: number, look: () => Promise<MembershipView>): Promise<MembershipCheck> {
  const startedAt = Date.now();
  for (;;) {
    const view = await look();
    const ms = Date.now() - startedAt;
    if (view.converged) return { label, converged: true, ms, ghosts: 0, missing: 0, detail: [] };
    if (ms >= boundMs) {
      const detail = view.problems.slice(0, DETAIL_LINES);
      if (view.problems.length > DETAIL_LINES) detail.push(`… and ${view.problems.length - DETAIL_LINES} more`);
      return { label, converged: false, ms, ghosts: view.ghosts, missing: view.missing, detail };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The member ids of `group` on `node` ([] when the node says the group does not exist), or what went wrong. */
async function listMembers(node: NodeAddress, group: string, adminToken: string): Promise<string[] | string> {
  try {
    const response = await fetch(`${node.httpUrl}/admin/groups/${encodeURIComponent(group)}`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json()) as { members?: Array<{ id?: unknown }>; error?: { code?: unknown } };
    if (response.status === 404 && body.error?.code === 'GROUP_NOT_FOUND') return [];
    if (response.status !== 200 || !Array.isArray(body.members)) return `HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`;
    return body.members.map((member) => String(member.id));
  } catch (error) {
    return `no answer (${error instanceof Error ? error.message : String(error)})`;
  }
}
