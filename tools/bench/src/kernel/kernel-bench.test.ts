import { describe, expect, it } from 'vitest';
import { exposedGc, liveHeapBytes } from './heap.js';
import { NoOpDelivery } from './no-op-delivery.js';
import { BYTES_PER_GROUP_TARGET, markdownReport } from './report.js';
import { measureBroadcast, measureJoinLeave } from './scenarios.js';

describe('kernel benchmark', () => {
  it('the no-op port walks every recipient but the excluded one', () => {
    const delivery = new NoOpDelivery();
    delivery.deliver({ ev: 'message', group: 'g', from: 'a', data: 1, offset: 1 }, new Set(['a', 'b', 'c']), 'a');
    delivery.deliver({ ev: 'message', group: 'g', from: null, data: 1, offset: 2 }, new Set(['a', 'b', 'c']), null);
    expect(delivery).toMatchObject({ calls: 2, deliveries: 5 });
    delivery.reset();
    expect(delivery).toMatchObject({ calls: 0, deliveries: 0 });
  });

  it('the broadcast scenario delivers every message to every other member', async () => {
    const result = await measureBroadcast(10, 20);
    expect(result.members).toBe(10);
    expect(result.messages).toBeGreaterThanOrEqual(1000);
    expect(result.messages % 1000).toBe(0);
    expect(result.deliveriesPerSecond / result.messagesPerSecond).toBeCloseTo(9, 6);
  });

  it('the join/leave scenario counts joins and leaves and ends with only the anchor in the group', async () => {
    // measureJoinLeave reads the group's members before it returns and rejects unless only the anchor is left, so
    // resolving shows the group is as it found it.
    const result = await measureJoinLeave(5, 20);
    expect(result.operations).toBeGreaterThanOrEqual(10);
    expect(result.operations % 10).toBe(0);
  });

  it('heap figures refuse to run without an exposed collector', () => {
    if (exposedGc()) expect(liveHeapBytes()).toBeGreaterThan(0);
    else expect(() => liveHeapBytes()).toThrow(/--expose-gc/);
  });

  it('the report is a Markdown table with the machine and a verdict against the target', () => {
    const table = markdownReport(
      { groups: 100, groupsPerSecond: 1000, bytesPerSession: 400, bytesPerGroup: BYTES_PER_GROUP_TARGET + 1 },
      { members: 100, messages: 1000, messagesPerSecond: 10, deliveriesPerSecond: 990, cpuMicrosPerDelivery: 0.5 },
      { operations: 10, operationsPerSecond: 5 },
    );
    const lines = table.split('\n');
    expect(lines[0]).toBe('| Kernel benchmark | Result |');
    expect(lines[1]).toBe('| --- | --- |');
    expect(lines[2]).toMatch(/^\| Machine \| .+, \d+ cores, Node v\d+/);
    expect(table).toContain('| Heap per group incl. its member | 5,121 B (OVER the 5,120 B target) |');
    expect(table).toContain('| Heap per group incl. member and its session | 5,521 B |');
    expect(lines.every((line) => line.startsWith('| ') && line.endsWith(' |'))).toBe(true);
  });
});
