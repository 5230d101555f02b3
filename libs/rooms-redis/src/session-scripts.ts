/**
 * The session scripts of the Redis backend, on one session's hash (`rooms:session:<id>`, see `SessionRecords`). Each
 * script's doc lists its keys (`KEYS`) and arguments (`ARGV`).
 */

/**
 * KEYS: session [, the node's session index (single Redis)]. ARGV: 1 recJson, 2 node, 3 tokenHash, 4 expiresAt
 * ('' = live), 5 windowMs, 6 ttl ms ('' = none), 7 the session id (with the index).
 * Compare-and-set on the holder: writes only when there is no record or `node` holds it (a save from a node the
 * session was taken from must not undo the take and its token rotation). Clears the `died` mark; a live record loses
 * any expiry (PERSIST), a suspended one expires with its window; a written session is added to the index. Returns 1
 * when written, 0 when another node holds it.
 */
const SAVE_SESSION = `
local holder = redis.call('HGET', KEYS[1], 'node')
if holder and holder ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'node', ARGV[2], 'tok', ARGV[3], 'exp', ARGV[4], 'win', ARGV[5], 'died', '')
if ARGV[6] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[6]) else redis.call('PERSIST', KEYS[1]) end
if KEYS[2] then redis.call('SADD', KEYS[2], ARGV[7]) end
return 1
`;

/**
 * KEYS: session. ARGV: 1 tokenHash, 2 this node, 3 now, 4 expected holder, 5 holder death time ('' = holder alive),
 * 6 '=' .. expected user ('' = any user, '!' = no user), 7 the new token hash ('' = keep). Compare-and-set on the
 * holder, so of concurrent takes one wins. A session connected on a live node is taken over (the client reconnected
 * before its old connection was seen dead); telling that node is the kernel's business. Returns {'OK', recJson,
 * previous node, windowMs, tokenHash} / {'RETRY'} (holder changed) / nil.
 */
const TAKE_SESSION = `
local f = redis.call('HMGET', KEYS[1], 'tok', 'node', 'exp', 'win', 'died', 'rec')
if not f[1] or f[1] ~= ARGV[1] then return false end
if f[2] ~= ARGV[4] then return {'RETRY'} end
if ARGV[6] == '!' then
  if cjson.decode(f[6]).user ~= nil then return false end
elseif ARGV[6] ~= '' then
  local rec = cjson.decode(f[6])
  if type(rec.user) ~= 'string' or rec.user ~= string.sub(ARGV[6], 2) then return false end
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
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'tok', ARGV[7]) end
redis.call('PERSIST', KEYS[1])
local tok = f[1]
if ARGV[7] ~= '' then tok = ARGV[7] end
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

/** The session scripts by name. */
export const SESSION_SCRIPTS = {
  saveSession: SAVE_SESSION,
  takeSession: TAKE_SESSION,
  dropSession: DROP_SESSION,
  markSessionDead: MARK_SESSION_DEAD,
} as const;
