import { describe, expect, it } from 'vitest';
import { FAULTS, FULL_OPTIONS, SHORT_OPTIONS, parseChaosArgs } from '../src/options.js';

const seed = () => 42;

describe('parseChaosArgs', () => {
  it('gives the full run by default (the issue load: 60 clients, 6 groups, 500 msgs/s, every fault) with the random seed', () => {
    expect(parseChaosArgs([], seed)).toEqual({ help: false, options: { ...FULL_OPTIONS, seed: 42 } });
    expect(FULL_OPTIONS).toMatchObject({ clients: 60, groups: 6, rate: 500, phases: [...FAULTS], stallMs: 4000 });
  });

  it('gives the short form with --short, and each option overrides it', () => {
    const parsed = parseChaosArgs(['--short', '--rate', '50', '--seed=7', '--phases', 'redis,kill'], seed);
    expect(parsed).toEqual({ help: false, options: { ...SHORT_OPTIONS, rate: 50, seed: 7, phases: ['redis', 'kill'] } });
  });

  it('refuses unknown options, bad numbers, unknown or repeated faults, and fewer than two clients per group', () => {
    expect(() => parseChaosArgs(['--speed', '3'], seed)).toThrow(/speed/);
    expect(() => parseChaosArgs(['--rate', '0'], seed)).toThrow(/--rate must be an integer from 1/);
    expect(() => parseChaosArgs(['--clients', '1.5'], seed)).toThrow(/--clients/);
    expect(() => parseChaosArgs(['--phases', 'kill,flood'], seed)).toThrow(/unknown fault "flood"/);
    expect(() => parseChaosArgs(['--phases', 'kill,kill'], seed)).toThrow(/listed twice/);
    expect(() => parseChaosArgs(['--clients', '10', '--groups', '6'], seed)).toThrow(/at least twice/);
  });

  it('answers --help with the usage', () => {
    expect(parseChaosArgs(['--help'], seed)).toEqual({ help: true });
  });
});
