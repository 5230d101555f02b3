import type { Backend } from '../port/backend.js';
import { clusterBusCases } from './cluster-bus-cases.js';
import type { ContractCluster, ContractStoreOptions, MakeNodes } from './fixtures.js';
import { groupChangeCases } from './group-change-cases.js';
import { groupReadCases } from './group-read-cases.js';
import { historyBoundCases } from './history-bound-cases.js';
import { RecordingHandler } from './recording-handler.js';
import { sessionStoreCases } from './session-store-cases.js';
import type { TestApi } from './test-api.js';

/**
 * The contract of the backend port (`GroupLog`, `SessionStore`, `ClusterBus`: see their doc comments), run against
 * one implementation: every guarantee is checked with several nodes sharing one store, through a `RecordingHandler`
 * on each node. `api` is the test runner's (e.g. vitest's `{ describe, it, afterEach }`); the suite has no run-time
 * dependency on any runner. `makeNodes` makes the nodes of one test on a fresh store (e.g. a key prefix of its own).
 */
export function backendContract(api: TestApi, name: string, makeNodes: MakeNodes): void {
  api.describe(`Backend contract: ${name}`, () => {
    const open: Backend[] = [];

    api.afterEach(async () => {
      await Promise.all(open.splice(0).map((node) => node.close()));
    });

    async function setup(count = 3, options: ContractStoreOptions = {}): Promise<ContractCluster> {
      const nodes = await makeNodes(count, options);
      open.push(...nodes);
      const handlers = nodes.map((node) => new RecordingHandler(node.nodeId));
      await Promise.all(nodes.map((node, i) => node.start(handlers[i] as RecordingHandler)));
      return { nodes, handlers };
    }

    const cases = { api, setup };
    groupChangeCases(cases);
    groupReadCases(cases);
    historyBoundCases(cases);
    sessionStoreCases(cases);
    clusterBusCases(cases);
  });
}
