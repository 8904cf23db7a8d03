-- Removes an open session, atomically for every instance: of several concurrent closes of the
-- same session exactly one gets the record, the others get nil. Returns
-- {user id, opened_at, sessions of the user still open}.
-- KEYS: session hash
-- ARGV: session id, key base (the user and owner sets are named from the record)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local record = redis.call('HMGET', KEYS[1], 'user', 'opened_at', 'owner')
local user, opened_at, owner = record[1], record[2], record[3]
redis.call('DEL', KEYS[1])
if owner then
  redis.call('SREM', ARGV[2] .. 'owner:' .. owner, ARGV[1])
end
if not user then
  -- A record without its user: removed, and reported as malformed by the caller.
  return {'', opened_at or '', 0}
end
local user_key = ARGV[2] .. 'user:' .. user
redis.call('SREM', user_key, ARGV[1])
return {user, opened_at or '', redis.call('SCARD', user_key)}
