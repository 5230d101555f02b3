import { describe, expect, it } from 'vitest';
import { parseOptions } from '../src/load/options.js';
import { selectScenarios, SCENARIOS } from '../src/load/scenarios.js';

describe('command line', () => {
  it('has defaults for a full run', () => {
    const o = parseOptions([]);
    expect(o.scenario).toBe('all');
    expect(o.durationSeconds).toBe(5);
    expect(o.warmupSeconds).toBe(1);
    expect(o.clients).toBe(2);
    expect(o.targets).toEqual(['rooms', 'rooms-redis', 'socketio', 'socketio-redis', 'ws-baseline']);
    expect(o.quick).toBe(false);
  });

  it('takes --name value and --name=value, and shortens windows with --quick', () => {
    const o = parseOptions(['--scenario', 'fanout100', '--quick', '--targets=rooms,ws', '--duration=2', '--clients', '1']);
    expect(o.scenario).toBe('fanout100');
    expect(o.quick).toBe(true);
    expect(o.targets).toEqual(['rooms', 'ws-baseline']);
    expect(o.durationSeconds).toBe(2);
    expect(o.warmupSeconds).toBe(0.5);
    expect(o.clients).toBe(1);
    expect(parseOptions(['--quick=true']).durationSeconds).toBe(1.5);
  });

  it('rejects unknown options, targets and bad numbers with a message', () => {
    expect(() => parseOptions(['--fast'])).toThrow(/unknown option --fast/);
    expect(() => parseOptions(['--targets', 'nats'])).toThrow(/unknown target "nats"/);
    expect(() => parseOptions(['--duration', '-1'])).toThrow(/--duration/);
    expect(() => parseOptions(['--duration'])).toThrow(/needs a value/);
    expect(() => parseOptions(['--clients', '0'])).toThrow(/--clients/);
    expect(() => parseOptions(['fanout100'])).toThrow(/unexpected argument/);
  });

  it('selects scenarios by name, list or all', () => {
    expect(selectScenarios('all')).toBe(SCENARIOS);
    expect(selectScenarios('churn,fanout100').map((s) => s.name)).toEqual(['churn', 'fanout100']);
    expect(() => selectScenarios('fanout7')).toThrow(/unknown scenario "fanout7"/);
  });
});
