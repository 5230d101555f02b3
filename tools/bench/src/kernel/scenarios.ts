import { NodeManager } from '@rooms-kit/core';
import { liveHeapBytes } from './heap.js';
import { NoOpDelivery } from './no-op-delivery.js';

/** Long enough that no lifecycle timer fires during a run: the benchmark measures operations, not expiry. */
const NO_EXPIRY_MS = 3_600_000;

async function startNode(delivery: NoOpDelivery): Promise<NodeManager> {
  const node = new NodeManager({ delivery, nodeId: `kernel-bench-${process.pid}-${Date.now()}`, emptyGraceMs: NO_EXPIRY_MS });
  await node.start();
  return node;
}

/** Result of `measureGroups`. */
export interface GroupsResult {
  groups: number;
  groupsPerSecond: number;
  /** Heap per registered session before it joins anything. */
  bytesPerSession: number;
  /** Heap per group with its one member (the membership, not the member's session). */
  bytesPerGroup: number;
}

/**
 * (a) Creates `count` groups, each with one member (its creator), one after the other on one node, and measures the
 * create rate and the live heap the sessions and the groups add (needs `--expose-gc`).
 */
export async function measureGroups(count: number): Promise<GroupsResult> {
  const delivery = new NoOpDelivery();
  const node = await startNode(delivery);
  try {
    const sessions: string[] = [];
    const start = liveHeapBytes();
    for (let i = 0; i < count; i++) {
      const session = `session-${i}`;
      sessions.push(session);
      await node.registerSession(session);
    }
    const afterSessions = liveHeapBytes();
    const began = performance.now();
    for (let i = 0; i < count; i++) await node.create(sessions[i] ?? '', { group: `group-${i}` });
    const elapsedMs = performance.now() - began;
    const afterGroups = liveHeapBytes();
    const active = node.stats().groups.active;
    if (active !== count) throw new Error(`expected ${count} active groups, the node has ${active}`);
    return {
      groups: count,
      groupsPerSecond: (count / elapsedMs) * 1000,
      bytesPerSession: (afterSessions - start) / count,
      bytesPerGroup: (afterGroups - afterSessions) / count,
    };
  } finally {
    await node.close();
  }
}

/** Result of `measureBroadcast`. */
export interface BroadcastResult {
  members: number;
  messages: number;
  messagesPerSecond: number;
  deliveriesPerSecond: number;
  /** Process CPU (user + system) per delivery, in microseconds. */
  cpuMicrosPerDelivery: number;
}

/**
 * (b) One member broadcasts to a group of `members` (others only, `self:false`), one awaited broadcast after the
 * other, for about `durationMs`. Deliveries are what the no-op port walked.
 */
export async function measureBroadcast(members: number, durationMs: number): Promise<BroadcastResult> {
  const delivery = new NoOpDelivery();
  const node = await startNode(delivery);
  try {
    const sessions = Array.from({ length: members }, (_, i) => `member-${i}`);
    for (const session of sessions) await node.registerSession(session);
    const sender = sessions[0] ?? '';
    await node.create(sender, { group: 'room' });
    for (const session of sessions.slice(1)) await node.join(session, 'room');
    const payload = { text: 'hello, room', n: 1 };
    for (let i = 0; i < 2000; i++) await node.broadcast(sender, 'room', payload);
    delivery.reset();
    const cpu = process.cpuUsage();
    const began = performance.now();
    let messages = 0;
    let elapsedMs = 0;
    while (elapsedMs < durationMs) {
      for (let i = 0; i < 1000; i++) await node.broadcast(sender, 'room', payload);
      messages += 1000;
      elapsedMs = performance.now() - began;
    }
    const used = process.cpuUsage(cpu);
    if (delivery.deliveries !== messages * (members - 1)) throw new Error(`expected ${messages * (members - 1)} deliveries, got ${delivery.deliveries}`);
    return {
      members,
      messages,
      messagesPerSecond: (messages / elapsedMs) * 1000,
      deliveriesPerSecond: (delivery.deliveries / elapsedMs) * 1000,
      cpuMicrosPerDelivery: (used.user + used.system) / delivery.deliveries,
    };
  } finally {
    await node.close();
  }
}

/** Result of `measureJoinLeave`. */
export interface JoinLeaveResult {
  operations: number;
  operationsPerSecond: number;
}

/**
 * (c) Sessions join and leave one group (kept active by one member who stays, and who gets every `joined`/`left`),
 * one awaited operation after the other, for about `durationMs`. Counts joins plus leaves.
 */
export async function measureJoinLeave(sessionCount: number, durationMs: number): Promise<JoinLeaveResult> {
  const delivery = new NoOpDelivery();
  const node = await startNode(delivery);
  try {
    await node.registerSession('anchor');
    await node.create('anchor', { group: 'room' });
    const sessions = Array.from({ length: sessionCount }, (_, i) => `visitor-${i}`);
    for (const session of sessions) await node.registerSession(session);
    const began = performance.now();
    let operations = 0;
    let elapsedMs = 0;
    while (elapsedMs < durationMs) {
      for (const session of sessions) await node.join(session, 'room');
      for (const session of sessions) await node.leave(session, 'room');
      operations += 2 * sessions.length;
      elapsedMs = performance.now() - began;
    }
    const size = (await node.members('room')).length;
    if (size !== 1) throw new Error(`expected only the anchor left in the group, found ${size} members`);
    return { operations, operationsPerSecond: (operations / elapsedMs) * 1000 };
  } finally {
    await node.close();
  }
}
