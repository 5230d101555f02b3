import type { SenderPick } from './ipc.js';
import type { TargetName } from './targets.js';

/** Message scenarios: groups of members, a closed-loop throughput phase and a fixed-rate latency phase. */
export interface GroupsScenario {
  kind: 'groups';
  name: string;
  description: string;
  targets: TargetName[];
  groups: number;
  membersPerGroup: number;
  sendersPerGroup: number;
  payloadBytes: number;
  /** Messages in flight during the closed loop (over all senders). */
  inflight: number;
  pick: SenderPick;
  /** The fixed-rate phase offers this many deliveries per second (messages/s = this / (members - 1)). */
  fixedDeliveriesPerSecond: number;
}

/** Idle connections: server memory per connection. */
export interface IdleScenario {
  kind: 'idle';
  name: string;
  description: string;
  targets: TargetName[];
  connections: number;
}

/** Join/leave churn: joins per second and server CPU per join (+ its leave). */
export interface ChurnScenario {
  kind: 'churn';
  name: string;
  description: string;
  targets: TargetName[];
  groups: number;
  churners: number;
}

/** One benchmark scenario. */
export type Scenario = GroupsScenario | IdleScenario | ChurnScenario;

const SINGLE_NODE: TargetName[] = ['rooms', 'socketio', 'ws-baseline'];

/** Every scenario, in the order `--scenario all` runs them. */
export const SCENARIOS: Scenario[] = [
  {
    kind: 'groups',
    name: 'fanout100',
    description: 'one 100-member group, 10 senders, 64-byte payloads',
    targets: SINGLE_NODE,
    groups: 1,
    membersPerGroup: 100,
    sendersPerGroup: 10,
    payloadBytes: 64,
    inflight: 200,
    pick: 'roundrobin',
    fixedDeliveriesPerSecond: 50_000,
  },
  {
    kind: 'groups',
    name: 'fanout1000',
    description: 'one 1,000-member group, 10 senders, 64-byte payloads',
    targets: SINGLE_NODE,
    groups: 1,
    membersPerGroup: 1000,
    sendersPerGroup: 10,
    payloadBytes: 64,
    inflight: 50,
    pick: 'roundrobin',
    fixedDeliveriesPerSecond: 50_000,
  },
  {
    kind: 'groups',
    name: 'groups1000',
    description: '1,000 groups of 10 members, random broadcasters, 64-byte payloads',
    targets: SINGLE_NODE,
    groups: 1000,
    membersPerGroup: 10,
    sendersPerGroup: 9,
    payloadBytes: 64,
    inflight: 1000,
    pick: 'random',
    fixedDeliveriesPerSecond: 50_000,
  },
  {
    kind: 'groups',
    name: 'cluster2',
    description: 'one 100-member group split over two nodes on one Redis, 10 senders, 64-byte payloads',
    targets: ['rooms-redis', 'socketio-redis'],
    groups: 1,
    membersPerGroup: 100,
    sendersPerGroup: 10,
    payloadBytes: 64,
    inflight: 200,
    pick: 'roundrobin',
    fixedDeliveriesPerSecond: 50_000,
  },
  {
    kind: 'idle',
    name: 'idle10k',
    description: '10,000 idle connections (RSS and heap delta per connection, after a full GC)',
    targets: SINGLE_NODE,
    connections: 10_000,
  },
  {
    kind: 'churn',
    name: 'churn',
    description: '200 connections each looping join + leave over 100 anchored groups, one request in flight each',
    targets: ['rooms', 'rooms-redis', 'socketio', 'socketio-redis', 'ws-baseline'],
    groups: 100,
    churners: 200,
  },
];

/** The scenarios named by `--scenario` (a name, a comma-separated list, or `all`); throws on an unknown name. */
export function selectScenarios(names: string): Scenario[] {
  if (names === 'all') return SCENARIOS;
  return names.split(',').map((name) => {
    const scenario = SCENARIOS.find((s) => s.name === name.trim());
    if (!scenario) throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.map((s) => s.name).join(', ')}, all)`);
    return scenario;
  });
}
