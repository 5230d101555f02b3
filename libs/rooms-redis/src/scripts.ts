/**
 * The Lua scripts of the Redis replicator. Each group script mutates one group and publishes its event in the same
 * atomic step, so the order of the group's channel is the order of its versions `v`.
 *
 * Group scripts take the keys `spec, members, state, history, nodes, tomb` of one group (all hash-tagged alike, see
 * `GroupKeys`) and, on single Redis only, the `groups` set as a 7th key (on Redis Cluster it lives in another slot,
 * so the replicator updates it with a separate command). `ARGV[1]` is the group id, `ARGV[2]` the id as JSON and
 * `ARGV[3]` the group's channel. Scripts check everything before their first write: Redis does not roll a script
 * back when it fails halfway.
 */

/** Helpers shared by the group scripts. `PUB` is PUBLISH or SPUBLISH. */
const PRELUDE = `
local function split(stored)
  local i = string.find(stored, '\\n', 1, true)
  return string.sub(stored, 1, i - 1), string.sub(stored, i + 1)
end
local function memberJson(node, rest)
  return '{"node":' .. cjson.encode(node) .. ',' .. string.sub(rest, 2)
end
local function addCount(node, delta)
  local n = redis.call('HINCRBY', KEYS[5], node, delta)
  if n <= 0 then redis.call('HDEL', KEYS[5], node) end
  return n
end
`;

/** ARGV: 4 specJson, 5 max, 6 static, 7 firstId ('' = none), 8 firstNode, 9 firstRest. Returns {status, v}. */
const CREATE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return {'GROUP_EXISTS'} end
local v = tonumber(redis.call('GET', KEYS[6]) or '0')
redis.call('DEL', KEYS[2], KEYS[4], KEYS[5], KEYS[6])
redis.call('SET', KEYS[1], ARGV[4])
local ever = 0
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[7], ARGV[8] .. '\\n' .. ARGV[9])
  addCount(ARGV[8], 1)
  v = v + 1
  ever = 1
end
redis.call('HSET', KEYS[3], 'offset', 0, 'v', v, 'ever', ever, 'max', ARGV[5], 'static', ARGV[6])
if KEYS[7] then redis.call('SADD', KEYS[7], ARGV[1]) end
return {'OK', v}
`;

/** Returns the snapshot {'OK', spec, offset, v, ever, stored members...} or nil. */
const READ = `
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local s = redis.call('HMGET', KEYS[3], 'offset', 'v', 'ever')
local out = {'OK', redis.call('GET', KEYS[1]), s[1], s[2], s[3]}
local vals = redis.call('HVALS', KEYS[2])
for i = 1, #vals do out[#out + 1] = vals[i] end
return out
`;

/** ARGV: 4 id, 5 node, 6 memberRest. Returns {'OK' / 'ALREADY', v, offset} or {GROUP_NOT_FOUND|GROUP_FULL}. */
const JOIN = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'GROUP_NOT_FOUND'} end
if redis.call('HEXISTS', KEYS[2], ARGV[4]) == 1 then
  local s = redis.call('HMGET', KEYS[3], 'v', 'offset')
  return {'ALREADY', tonumber(s[1]), tonumber(s[2])}
end
local max = redis.call('HGET', KEYS[3], 'max')
local size = redis.call('HLEN', KEYS[2])
if max and max ~= '' and size >= tonumber(max) then return {'GROUP_FULL'} end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5] .. '\\n' .. ARGV[6])
addCount(ARGV[5], 1)
redis.call('HSET', KEYS[3], 'ever', 1)
local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
PUB(ARGV[3], '{"type":"joined","group":' .. ARGV[2] .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[5], ARGV[6]) .. ',"size":'
  .. (size + 1) .. '}')
return {'OK', v, tonumber(redis.call('HGET', KEYS[3], 'offset'))}
`;

/**
 * ARGV: 4 id, 5 reasonJson, 6 dataJson ('' = none). Returns {'OK', v, node, nodeEmptied} / {'NONE'} /
 * {'GROUP_NOT_FOUND'}.
 */
const LEAVE = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'GROUP_NOT_FOUND'} end
local stored = redis.call('HGET', KEYS[2], ARGV[4])
if not stored then return {'NONE'} end
local node, rest = split(stored)
redis.call('HDEL', KEYS[2], ARGV[4])
local left = addCount(node, -1)
local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
local ev = '{"type":"left","group":' .. ARGV[2] .. ',"v":' .. v .. ',"member":' .. memberJson(node, rest) .. ',"reason":' .. ARGV[5]
  .. ',"size":' .. redis.call('HLEN', KEYS[2])
if ARGV[6] ~= '' then ev = ev .. ',"data":' .. ARGV[6] end
PUB(ARGV[3], ev .. '}')
return {'OK', v, node, left <= 0 and 1 or 0}
`;

/**
 * ARGV: 4 id, 5 node, 6 memberRest. A present member moves to the node keeping what it joined with (user, data); an
 * absent one is added when there is room. Returns {'OK', v, previousNode or '', previousNodeEmptied} or {'NONE'}.
 */
const REJOIN = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'NONE'} end
local prev = redis.call('HGET', KEYS[2], ARGV[4])
local prevNode = false
local rest = ARGV[6]
local emptied = 0
if prev then
  prevNode, rest = split(prev)
  if prevNode ~= ARGV[5] then
    if addCount(prevNode, -1) <= 0 then emptied = 1 end
    addCount(ARGV[5], 1)
  end
else
  local max = redis.call('HGET', KEYS[3], 'max')
  if max and max ~= '' and redis.call('HLEN', KEYS[2]) >= tonumber(max) then return {'NONE'} end
  addCount(ARGV[5], 1)
end
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5] .. '\\n' .. rest)
redis.call('HSET', KEYS[3], 'ever', 1)
local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
local previous = 'null'
if prevNode then previous = cjson.encode(prevNode) end
PUB(ARGV[3], '{"type":"rejoined","group":' .. ARGV[2] .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[5], rest) .. ',"previousNode":'
  .. previous .. ',"size":' .. redis.call('HLEN', KEYS[2]) .. '}')
return {'OK', v, prevNode or '', emptied}
`;

/**
 * ARGV: 4 fromJson, 5 dataJson, 6 self ('true' / 'false'), 7 history length. Returns {'OK', offset, size, v} or
 * {'GROUP_NOT_FOUND'}. The stream entry id is the offset, so XRANGE by offset is exact.
 */
const PUBLISH = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'GROUP_NOT_FOUND'} end
local offset = redis.call('HINCRBY', KEYS[3], 'offset', 1)
local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
local size = redis.call('HLEN', KEYS[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], offset .. '-0', 'f', ARGV[4], 'd', ARGV[5], 's', ARGV[6])
PUB(ARGV[3], '{"type":"message","group":' .. ARGV[2] .. ',"v":' .. v .. ',"from":' .. ARGV[4] .. ',"data":' .. ARGV[5]
  .. ',"offset":' .. offset .. ',"self":' .. ARGV[6] .. '}')
return {'OK', offset, size, v}
`;

/**
 * ARGV: 4 ifEmpty ('1' / '0'), 5 reasonJson, 6 tomb ttl ms. Returns {'OK', v, nodes that held members...} or
 * {'NONE'} (missing, static, or not empty with ifEmpty).
 */
const DISCARD = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'NONE'} end
if redis.call('HGET', KEYS[3], 'static') == '1' then return {'NONE'} end
if ARGV[4] == '1' and redis.call('HLEN', KEYS[2]) > 0 then return {'NONE'} end
local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
local out = {'OK', v}
local nodes = redis.call('HKEYS', KEYS[5])
for i = 1, #nodes do out[#out + 1] = nodes[i] end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('SET', KEYS[6], v, 'PX', ARGV[6])
if KEYS[7] then redis.call('SREM', KEYS[7], ARGV[1]) end
PUB(ARGV[3], '{"type":"discarded","group":' .. ARGV[2] .. ',"v":' .. v .. ',"reason":' .. ARGV[5] .. '}')
return out
`;

/** ARGV: 4 dead node, 5 reasonJson. Removes the node's members, one `left` event each. Returns {removed}. */
const REMOVE_NODE = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {0} end
if not redis.call('HGET', KEYS[5], ARGV[4]) then return {0} end
local all = redis.call('HGETALL', KEYS[2])
local removed = 0
for i = 1, #all, 2 do
  local node, rest = split(all[i + 1])
  if node == ARGV[4] then
    redis.call('HDEL', KEYS[2], all[i])
    local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
    PUB(ARGV[3], '{"type":"left","group":' .. ARGV[2] .. ',"v":' .. v .. ',"member":' .. memberJson(node, rest) .. ',"reason":' .. ARGV[5]
      .. ',"size":' .. redis.call('HLEN', KEYS[2]) .. '}')
    removed = removed + 1
  end
end
redis.call('HDEL', KEYS[5], ARGV[4])
return {removed}
`;

/**
 * ARGV: 4 specJson, 5 max, 6 static, 7 offset, 8 v, 9 ever, 10 node, then (id, memberRest) pairs of the node's
 * members. Re-creates a missing group, never lowers its offset or version, and re-adds the node's missing members
 * (one `joined` each). Returns {created (1/0), v, added}.
 */
const REASSERT = `
local created = 0
if redis.call('EXISTS', KEYS[3]) == 0 then
  local tomb = tonumber(redis.call('GET', KEYS[6]) or '0')
  redis.call('DEL', KEYS[2], KEYS[4], KEYS[5], KEYS[6])
  redis.call('SET', KEYS[1], ARGV[4])
  redis.call('HSET', KEYS[3], 'offset', ARGV[7], 'v', math.max(tonumber(ARGV[8]), tomb), 'ever', ARGV[9], 'max', ARGV[5],
    'static', ARGV[6])
  if KEYS[7] then redis.call('SADD', KEYS[7], ARGV[1]) end
  created = 1
else
  local s = redis.call('HMGET', KEYS[3], 'offset', 'v')
  if tonumber(ARGV[7]) > tonumber(s[1]) then redis.call('HSET', KEYS[3], 'offset', ARGV[7]) end
  if tonumber(ARGV[8]) > tonumber(s[2]) then redis.call('HSET', KEYS[3], 'v', ARGV[8]) end
end
local added = 0
for i = 11, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[10] .. '\\n' .. ARGV[i + 1])
    addCount(ARGV[10], 1)
    redis.call('HSET', KEYS[3], 'ever', 1)
    local v = redis.call('HINCRBY', KEYS[3], 'v', 1)
    PUB(ARGV[3], '{"type":"joined","group":' .. ARGV[2] .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[10], ARGV[i + 1]) .. ',"size":'
      .. redis.call('HLEN', KEYS[2]) .. '}')
    added = added + 1
  end
end
return {created, tonumber(redis.call('HGET', KEYS[3], 'v')), added}
`;

/** History read: ARGV 4 first offset wanted. Returns {offset, id, f, d, s, id, f, d, s, ...} or {'GROUP_NOT_FOUND'}. */
const HISTORY = `
if redis.call('EXISTS', KEYS[3]) == 0 then return {'GROUP_NOT_FOUND'} end
local out = {tonumber(redis.call('HGET', KEYS[3], 'offset'))}
local entries = redis.call('XRANGE', KEYS[4], ARGV[4] .. '-0', '+')
for i = 1, #entries do
  local e = entries[i]
  local f = e[2]
  local fields = {}
  for j = 1, #f, 2 do fields[f[j]] = f[j + 1] end
  out[#out + 1] = e[1]
  out[#out + 1] = fields['f'] or 'null'
  out[#out + 1] = fields['d'] or 'null'
  out[#out + 1] = fields['s'] or 'false'
end
return out
`;

/** KEYS: session. ARGV: 1 recJson, 2 node, 3 tokenHash, 4 expiresAt ('' = live), 5 windowMs, 6 ttl ms ('' = none). */
const SAVE_SESSION = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'node', ARGV[2], 'tok', ARGV[3], 'exp', ARGV[4], 'win', ARGV[5], 'died', '')
if ARGV[6] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
return 1
`;

/**
 * KEYS: session. ARGV: 1 tokenHash, 2 this node, 3 now, 4 expected holder, 5 holder death time ('' = holder alive),
 * 6 the holder's control channel, 7 control message, 8 '=' .. expected user ('' = any user, '!' = no user), 9 the new token hash
 * ('' = keep). Compare-and-set on the
 * holder, so of concurrent takes one wins. A session connected on a live node is taken over (the client reconnected
 * before its old connection was seen dead). Returns {'OK', recJson, previous node, windowMs, tokenHash} / {'RETRY'}
 * (holder changed) / nil.
 */
const TAKE_SESSION = `
local f = redis.call('HMGET', KEYS[1], 'tok', 'node', 'exp', 'win', 'died', 'rec')
if not f[1] or f[1] ~= ARGV[1] then return false end
if f[2] ~= ARGV[4] then return {'RETRY'} end
if ARGV[8] == '!' then
  if cjson.decode(f[6]).user ~= nil then return false end
elseif ARGV[8] ~= '' then
  local rec = cjson.decode(f[6])
  if type(rec.user) ~= 'string' or rec.user ~= string.sub(ARGV[8], 2) then return false end
end
local now = tonumber(ARGV[3])
local resumable = false
if f[3] ~= '' then
  resumable = tonumber(f[3]) > now
else
  local died = nil
  if f[5] ~= '' then died = tonumber(f[5]) elseif ARGV[5] ~= '' then died = tonumber(ARGV[5]) end
  resumable = died == nil or died + tonumber(f[4]) > now
end
if not resumable then return false end
redis.call('HSET', KEYS[1], 'node', ARGV[2], 'exp', '', 'died', '')
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'tok', ARGV[9]) end
redis.call('PERSIST', KEYS[1])
if f[2] ~= ARGV[2] then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
local tok = f[1]
if ARGV[9] ~= '' then tok = ARGV[9] end
return {'OK', f[6], f[2], f[4], tok}
`;

/**
 * KEYS: session. ARGV: 1 dead node, 2 death time. A live session of the dead node gets its death time and expires
 * after its window. Returns 1 when marked.
 */
const MARK_SESSION_DEAD = `
local f = redis.call('HMGET', KEYS[1], 'node', 'exp', 'win')
if f[1] ~= ARGV[1] or f[2] ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'died', ARGV[2])
redis.call('PEXPIRE', KEYS[1], f[3])
return 1
`;

/**
 * KEYS: session. ARGV: 1 expected holder ('' = any). Deletes the record unless another node than the expected one
 * holds it. Returns {1, holder or ''} (deleted, or there was none) or {0} (held by another node).
 */
const DROP_SESSION = `
local node = redis.call('HGET', KEYS[1], 'node')
if ARGV[1] ~= '' and node and node ~= ARGV[1] then return {0} end
redis.call('DEL', KEYS[1])
return {1, node or ''}
`;

/** The scripts by name. */
export type ScriptName =
  | 'create'
  | 'read'
  | 'join'
  | 'leave'
  | 'rejoin'
  | 'publish'
  | 'discard'
  | 'removeNode'
  | 'reassert'
  | 'history'
  | 'saveSession'
  | 'takeSession'
  | 'dropSession'
  | 'markSessionDead';

const GROUP_SCRIPTS: Record<Exclude<ScriptName, 'saveSession' | 'takeSession' | 'dropSession' | 'markSessionDead'>, string> = {
  create: CREATE,
  read: READ,
  join: JOIN,
  leave: LEAVE,
  rejoin: REJOIN,
  publish: PUBLISH,
  discard: DISCARD,
  removeNode: REMOVE_NODE,
  reassert: REASSERT,
  history: HISTORY,
};

/**
 * The Lua source of every script, for single Redis (`PUBLISH`) or Redis Cluster (`SPUBLISH`, sharded pub/sub: the
 * channel shares the group's hash tag, hence its slot).
 */
export function scriptSources(publishCommand: 'PUBLISH' | 'SPUBLISH'): Record<ScriptName, string> {
  const pub = `local function PUB(channel, message) redis.call('${publishCommand}', channel, message) end\n`;
  const sources = {} as Record<ScriptName, string>;
  for (const [name, body] of Object.entries(GROUP_SCRIPTS)) sources[name as ScriptName] = pub + PRELUDE + body;
  sources.saveSession = SAVE_SESSION;
  sources.takeSession = TAKE_SESSION;
  sources.dropSession = DROP_SESSION;
  sources.markSessionDead = MARK_SESSION_DEAD;
  return sources;
}
