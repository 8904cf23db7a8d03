-- Records an open session, atomically for every instance; returns how many sessions its user
-- now has. Opening a session that is already open changes nothing.
-- KEYS: session hash, user's session set, owner's session set, set of owners, owner's lease
-- ARGV: session id, user id, opened_at (unix micros), lease owner, lease time (ms)
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('SCARD', KEYS[2])
end
redis.call('HSET', KEYS[1], 'user', ARGV[2], 'opened_at', ARGV[3], 'owner', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[4])
-- An instance opening sessions is alive: start its lease if it has none yet (a session opened
-- before the first renewal), never shortening a running one.
redis.call('SET', KEYS[5], '1', 'PX', ARGV[5], 'NX')
return redis.call('SCARD', KEYS[2])
