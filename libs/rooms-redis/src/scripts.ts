import { GROUP_PRELUDE, GROUP_SCRIPTS } from './group-scripts.js';
import { NODE_SCRIPTS } from './node-scripts.js';
import { SESSION_SCRIPTS } from './session-scripts.js';

/** The names of the group scripts (their first key is the group's `state`: see group-scripts.ts). */
export type GroupScriptName = keyof typeof GROUP_SCRIPTS;

/** The scripts by name: the group scripts, the session scripts and the node scripts. */
export type ScriptName = GroupScriptName | keyof typeof SESSION_SCRIPTS | keyof typeof NODE_SCRIPTS;

/**
 * The Lua source of every script of the Redis backend, for single Redis (`PUBLISH`) or Redis Cluster (`SPUBLISH`,
 * sharded pub/sub: a group's channel shares the group's hash tag, hence its slot). Group scripts get their prelude.
 */
export function scriptSources(publishCommand: 'PUBLISH' | 'SPUBLISH'): Record<ScriptName, string> {
  const pub = `local function PUB(channel, message) redis.call('${publishCommand}', channel, message) end\n`;
  const sources = { ...SESSION_SCRIPTS, ...NODE_SCRIPTS } as Record<ScriptName, string>;
  for (const [name, body] of Object.entries(GROUP_SCRIPTS) as Array<[GroupScriptName, string]>) sources[name] = pub + GROUP_PRELUDE + body;
  return sources;
}
