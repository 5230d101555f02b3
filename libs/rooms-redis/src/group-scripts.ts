/**
 * The group scripts of the Redis backend. Each mutates one group and publishes its event in the same atomic step, so
 * the order of the group's channel is the order of its versions `v`.
 *
 * Group scripts take only the keys of one group they touch (all hash-tagged alike, see `GroupKeys`), `state` always
 * first: from its name `<prefix>{g:<id>}:state` a script derives the group id and the group's channel
 * `<prefix>{g:<id>}:ev`, so neither is sent with every call. On single Redis some scripts also keep keys of other
 * slots in the same step, given after the group's keys (in brackets below): the `groups` set, and the index of the
 * groups where a node holds members (`nodemembers:<node>`, see `NodeIndex`); on Redis Cluster the backend updates
 * those with commands of their own. Each script's doc lists its keys (`KEYS`) and arguments (`ARGV`). Scripts check
 * everything before their first write: Redis does not roll a script back when it fails halfway.
 *
 * A member is stored as `members[id] = <node>\n<rest>`, `rest` being the JSON of its other fields (`user`, `data`)
 * or '' when it has none: scripts move a member between nodes without decoding JSON, and publish it as
 * `{"id":…,"node":…` followed by the rest.
 */

/** Helpers shared by the group scripts. `PUB` is PUBLISH or SPUBLISH. */
export const GROUP_PRELUDE = `
local BASE = string.sub(KEYS[1], 1, -6)
local GID = string.sub(BASE, string.find(BASE, '{g:', 1, true) + 3, -3)
local CHANNEL = BASE .. 'ev'
local function q(s)
  if string.find(s, '[%c"\\\\]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end
local G = q(GID)
local function split(stored)
  local i = string.find(stored, '\\n', 1, true)
  return string.sub(stored, 1, i - 1), string.sub(stored, i + 1)
end
local function memberJson(id, node, rest)
  local head = '{"id":' .. q(id) .. ',"node":' .. q(node)
  if rest == '' or rest == '{}' then return head .. '}' end
  return head .. ',' .. string.sub(rest, 2)
end
local function trimHistoryBytes(state, history, total, budget)
  local floor = total - budget
  if tonumber(redis.call('HGET', state, 'hfirst') or '0') >= floor then return end
  local start = '-'
  local count = 2
  while true do
    local entries = redis.call('XRANGE', history, start, '+', 'COUNT', count)
    if #entries == 0 then
      redis.call('XTRIM', history, 'MAXLEN', 0)
      redis.call('HSET', state, 'hfirst', total)
      return
    end
    for i = 1, #entries do
      local f = entries[i][2]
      local p = 0
      for j = 1, #f, 2 do
        if f[j] == 'p' then p = tonumber(f[j + 1]) end
      end
      if p >= floor then
        redis.call('XTRIM', history, 'MINID', entries[i][1])
        redis.call('HSET', state, 'hfirst', p)
        return
      end
    end
    start = '(' .. entries[#entries][1]
    count = math.min(count * 2, 128)
  end
end
local function addCount(nodes, node, delta)
  local n = redis.call('HINCRBY', nodes, node, delta)
  if n <= 0 then redis.call('HDEL', nodes, node) end
  return n
end
`;

/**
 * KEYS: state, spec, members, history, nodes, tomb [, groups [, index of the first member's node]]. ARGV: 1 specJson,
 * 2 max, 3 static, 4 firstId ('' = none), 5 firstNode, 6 firstRest. Returns {'OK', v} or {'GROUP_EXISTS'}.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'GROUP_EXISTS'} end
local v = tonumber(redis.call('GET', KEYS[6]) or '0')
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('SET', KEYS[2], ARGV[1])
local ever = 0
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5] .. '\\n' .. ARGV[6])
  addCount(KEYS[5], ARGV[5], 1)
  if KEYS[8] then redis.call('SADD', KEYS[8], GID) end
  v = v + 1
  ever = 1
end
redis.call('HSET', KEYS[1], 'offset', 0, 'v', v, 'ever', ever, 'max', ARGV[2], 'static', ARGV[3])
if KEYS[7] then redis.call('SADD', KEYS[7], GID) end
return {'OK', v}
`;

/** KEYS: state, spec, members. Returns {'OK', spec, offset, v, ever, id, stored member, id, stored member, ...} or nil. */
const READ = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local s = redis.call('HMGET', KEYS[1], 'offset', 'v', 'ever')
local out = {'OK', redis.call('GET', KEYS[2]), s[1], s[2], s[3]}
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all do out[#out + 1] = all[i] end
return out
`;

/**
 * KEYS: state, members, nodes [, index of the node]. ARGV: 1 id, 2 node, 3 rest. Returns {'OK' / 'ALREADY', v,
 * offset} or {'GROUP_NOT_FOUND' / 'GROUP_FULL'}.
 */
const JOIN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'GROUP_NOT_FOUND'} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  local s = redis.call('HMGET', KEYS[1], 'v', 'offset')
  return {'ALREADY', tonumber(s[1]), tonumber(s[2])}
end
local s = redis.call('HMGET', KEYS[1], 'max', 'offset')
local size = redis.call('HLEN', KEYS[2])
if s[1] and s[1] ~= '' and size >= tonumber(s[1]) then return {'GROUP_FULL'} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '\\n' .. ARGV[3])
addCount(KEYS[3], ARGV[2], 1)
if KEYS[4] then redis.call('SADD', KEYS[4], GID) end
redis.call('HSET', KEYS[1], 'ever', 1)
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
PUB(CHANNEL, '{"type":"joined","group":' .. G .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[1], ARGV[2], ARGV[3])
  .. ',"size":' .. (size + 1) .. '}')
return {'OK', v, tonumber(s[2])}
`;

/**
 * KEYS: state, members, nodes [, index of node `ARGV[4]`]. ARGV: 1 id, 2 reason, 3 dataJson ('' = none), 4 the node
 * whose index is given. Returns {'OK', v, node, nodeEmptied} / {'NONE'} / {'GROUP_NOT_FOUND'}; nodeEmptied is 1 when
 * the member's node has no member left in the group and its index was not given (the caller prunes it then).
 */
const LEAVE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'GROUP_NOT_FOUND'} end
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if not stored then return {'NONE'} end
local node, rest = split(stored)
redis.call('HDEL', KEYS[2], ARGV[1])
local left = addCount(KEYS[3], node, -1)
local emptied = 0
if left <= 0 then
  if KEYS[4] and node == ARGV[4] then redis.call('SREM', KEYS[4], GID) else emptied = 1 end
end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
local ev = '{"type":"left","group":' .. G .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[1], node, rest) .. ',"reason":'
  .. q(ARGV[2]) .. ',"size":' .. redis.call('HLEN', KEYS[2])
if ARGV[3] ~= '' then ev = ev .. ',"data":' .. ARGV[3] end
PUB(CHANNEL, ev .. '}')
return {'OK', v, node, emptied}
`;

/**
 * KEYS: state, members, nodes [, index of the node]. ARGV: 1 id, 2 node, 3 rest. A present member moves to the node
 * keeping what it joined with (user, data); an absent one is added when there is room. Returns {'OK', v, previousNode
 * or '', previousNodeEmptied} or {'NONE'}.
 */
const REJOIN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NONE'} end
local prev = redis.call('HGET', KEYS[2], ARGV[1])
local prevNode = false
local rest = ARGV[3]
local emptied = 0
if prev then
  prevNode, rest = split(prev)
  if prevNode ~= ARGV[2] then
    if addCount(KEYS[3], prevNode, -1) <= 0 then emptied = 1 end
    addCount(KEYS[3], ARGV[2], 1)
  end
else
  local max = redis.call('HGET', KEYS[1], 'max')
  if max and max ~= '' and redis.call('HLEN', KEYS[2]) >= tonumber(max) then return {'NONE'} end
  addCount(KEYS[3], ARGV[2], 1)
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '\\n' .. rest)
if KEYS[4] then redis.call('SADD', KEYS[4], GID) end
redis.call('HSET', KEYS[1], 'ever', 1)
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
local previous = 'null'
if prevNode then previous = q(prevNode) end
PUB(CHANNEL, '{"type":"rejoined","group":' .. G .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[1], ARGV[2], rest)
  .. ',"previousNode":' .. previous .. ',"size":' .. redis.call('HLEN', KEYS[2]) .. '}')
return {'OK', v, prevNode or '', emptied}
`;

/**
 * KEYS: state, members, history. ARGV: 1 from ('' = none), 2 dataJson, 3 self ('1' / '0'), 4 history length,
 * 5 history byte budget. Returns {'OK', offset, size, v} or {'GROUP_NOT_FOUND'}. The stream entry id is the offset,
 * so XRANGE by offset is exact; its fields are `f` (from, JSON), `d` (data, JSON), `s` ('true' / 'false') and `p`
 * (the group's running byte total before this message).
 *
 * The history's bounds: by count, approximately (`MAXLEN ~` in the XADD); by bytes, exactly: the state's `hbytes` is
 * the running total of the bytes of every message's `d` (Lua's `#`: UTF-8 bytes), so the retained entries hold
 * `hbytes - p` of the oldest one. `trimHistoryBytes` drops the oldest entries (XTRIM MINID) until that is within the
 * budget. It reads entries only when `hfirst` (the `p` of the oldest entry it kept) says the budget may be
 * exceeded (count trims only raise the true `p`, so `hfirst` errs on the safe side), oldest first, 2 at a time and
 * twice as many each round: a publish that drops one message reads about two.
 */
const PUBLISH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'GROUP_NOT_FOUND'} end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
local size = redis.call('HLEN', KEYS[2])
local from = 'null'
if ARGV[1] ~= '' then from = q(ARGV[1]) end
local self = 'false'
if ARGV[3] == '1' then self = 'true' end
local bytes = #ARGV[2]
local total = redis.call('HINCRBY', KEYS[1], 'hbytes', bytes)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], offset .. '-0', 'f', from, 'd', ARGV[2], 's', self, 'p', total - bytes)
trimHistoryBytes(KEYS[1], KEYS[3], total, tonumber(ARGV[5]))
PUB(CHANNEL, '{"type":"message","group":' .. G .. ',"v":' .. v .. ',"from":' .. from .. ',"data":' .. ARGV[2]
  .. ',"offset":' .. offset .. ',"self":' .. self .. '}')
return {'OK', offset, size, v}
`;

/**
 * KEYS: state, spec, members, history, nodes, tomb [, groups]. ARGV: 1 ifEmpty ('1' / '0'), 2 reason, 3 tomb ttl ms.
 * Returns {'OK', v, nodes that held members...} or {'NONE'} (missing, static, or not empty with ifEmpty).
 */
const DISCARD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NONE'} end
if redis.call('HGET', KEYS[1], 'static') == '1' then return {'NONE'} end
if ARGV[1] == '1' and redis.call('HLEN', KEYS[3]) > 0 then return {'NONE'} end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
local out = {'OK', v}
local nodes = redis.call('HKEYS', KEYS[5])
for i = 1, #nodes do out[#out + 1] = nodes[i] end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('SET', KEYS[6], v, 'PX', ARGV[3])
if KEYS[7] then redis.call('SREM', KEYS[7], GID) end
PUB(CHANNEL, '{"type":"discarded","group":' .. G .. ',"v":' .. v .. ',"reason":' .. q(ARGV[2]) .. '}')
return out
`;

/**
 * KEYS: state, members, nodes. ARGV: 1 dead node. Removes the node's members, one `left` event (reason `node-down`)
 * each. Returns {removed, emptied}: emptied is 1 when the group has no member left (also when an earlier cleaner,
 * which died before its node adopted the group, removed them).
 */
const REMOVE_NODE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
if not redis.call('HGET', KEYS[3], ARGV[1]) then
  if redis.call('HLEN', KEYS[2]) == 0 then return {0, 1} end
  return {0, 0}
end
local all = redis.call('HGETALL', KEYS[2])
local removed = 0
for i = 1, #all, 2 do
  local node, rest = split(all[i + 1])
  if node == ARGV[1] then
    redis.call('HDEL', KEYS[2], all[i])
    local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
    PUB(CHANNEL, '{"type":"left","group":' .. G .. ',"v":' .. v .. ',"member":' .. memberJson(all[i], node, rest)
      .. ',"reason":"node-down","size":' .. redis.call('HLEN', KEYS[2]) .. '}')
    removed = removed + 1
  end
end
redis.call('HDEL', KEYS[3], ARGV[1])
local emptied = 0
if redis.call('HLEN', KEYS[2]) == 0 then emptied = 1 end
return {removed, emptied}
`;

/**
 * KEYS: state, spec, members, history, nodes, tomb [, groups]. ARGV: 1 specJson, 2 max, 3 static, 4 offset, 5 v,
 * 6 ever, 7 node, then (id, rest) pairs of the node's members. Re-creates a missing group, never lowers its offset or
 * version, and re-adds the node's missing members while the group has room by its stored `max` (in the order given; the
 * others stay out): one `rejoined` each, `previousNode` null (the store held it nowhere; see `GroupLog.reassert`).
 * Returns {created (1/0), v, added, refused}.
 */
const REASSERT = `
local created = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  local tomb = tonumber(redis.call('GET', KEYS[6]) or '0')
  redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6])
  redis.call('SET', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[1], 'offset', ARGV[4], 'v', math.max(tonumber(ARGV[5]), tomb), 'ever', ARGV[6], 'max', ARGV[2],
    'static', ARGV[3])
  if KEYS[7] then redis.call('SADD', KEYS[7], GID) end
  created = 1
else
  local s = redis.call('HMGET', KEYS[1], 'offset', 'v')
  if tonumber(ARGV[4]) > tonumber(s[1]) then redis.call('HSET', KEYS[1], 'offset', ARGV[4]) end
  if tonumber(ARGV[5]) > tonumber(s[2]) then redis.call('HSET', KEYS[1], 'v', ARGV[5]) end
end
local max = tonumber(redis.call('HGET', KEYS[1], 'max') or '')
local added = 0
local refused = 0
for i = 8, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 1 then
    -- already there (another node's write, or never lost): never overridden
  elseif max and redis.call('HLEN', KEYS[3]) >= max then
    refused = refused + 1
  else
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[7] .. '\\n' .. ARGV[i + 1])
    addCount(KEYS[5], ARGV[7], 1)
    redis.call('HSET', KEYS[1], 'ever', 1)
    local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
    PUB(CHANNEL, '{"type":"rejoined","group":' .. G .. ',"v":' .. v .. ',"member":' .. memberJson(ARGV[i], ARGV[7], ARGV[i + 1])
      .. ',"previousNode":null,"size":' .. redis.call('HLEN', KEYS[3]) .. '}')
    added = added + 1
  end
end
return {created, tonumber(redis.call('HGET', KEYS[1], 'v')), added, refused}
`;

/**
 * KEYS: state, history. ARGV: 1 history length, 2 history byte budget, then (offset, from ('' = none), dataJson, self
 * ('1' / '0')) for each message to restore, in offset order. Writes back messages the store lost (see
 * `GroupLog.reassert`): each at or below the group's offset that the history can take next (it is empty, or its
 * newest entry is the offset just before) is appended as PUBLISH appends it and published again as a `message` event
 * with its own offset and the group's next `v`; the others are left out. Returns how many were restored (0 when the
 * group is missing).
 */
const RESTORE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local last = nil
if #newest > 0 then last = tonumber(string.match(newest[1][1], '^(%d+)')) end
local offsetNow = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
local restored = 0
for i = 3, #ARGV, 4 do
  local offset = tonumber(ARGV[i])
  if offset >= 1 and offset <= offsetNow and (last == nil or offset == last + 1) then
    local from = 'null'
    if ARGV[i + 1] ~= '' then from = q(ARGV[i + 1]) end
    local self = 'false'
    if ARGV[i + 3] == '1' then self = 'true' end
    local bytes = #ARGV[i + 2]
    local total = redis.call('HINCRBY', KEYS[1], 'hbytes', bytes)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], offset .. '-0', 'f', from, 'd', ARGV[i + 2], 's', self, 'p', total - bytes)
    trimHistoryBytes(KEYS[1], KEYS[2], total, tonumber(ARGV[2]))
    local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
    PUB(CHANNEL, '{"type":"message","group":' .. G .. ',"v":' .. v .. ',"from":' .. from .. ',"data":' .. ARGV[i + 2]
      .. ',"offset":' .. offset .. ',"self":' .. self .. '}')
    last = offset
    restored = restored + 1
  end
end
return restored
`;

/**
 * KEYS: state, history. ARGV: 1 first offset wanted. Returns {offset, id, f, d, s, id, f, d, s, ...} or
 * {'GROUP_NOT_FOUND'}.
 */
const HISTORY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'GROUP_NOT_FOUND'} end
local out = {tonumber(redis.call('HGET', KEYS[1], 'offset'))}
local entries = redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+')
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

/** The group scripts by name, without their prelude (see `scriptSources`). */
export const GROUP_SCRIPTS = {
  create: CREATE,
  read: READ,
  join: JOIN,
  leave: LEAVE,
  rejoin: REJOIN,
  publish: PUBLISH,
  discard: DISCARD,
  removeNode: REMOVE_NODE,
  reassert: REASSERT,
  restore: RESTORE,
  history: HISTORY,
} as const;
