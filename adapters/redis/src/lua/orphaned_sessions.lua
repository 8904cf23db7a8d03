-- Up to ARGV[2] open sessions of owners whose lease key is gone (the instance stopped
-- renewing). Owners with no lease and no session left are forgotten.
-- KEYS: set of owners
-- ARGV: key base, most sessions to return
local limit = tonumber(ARGV[2])
local orphans = {}
for _, owner in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if #orphans >= limit then
    break
  end
  if redis.call('EXISTS', ARGV[1] .. 'lease:' .. owner) == 0 then
    local owned = ARGV[1] .. 'owner:' .. owner
    if redis.call('SCARD', owned) == 0 then
      redis.call('SREM', KEYS[1], owner)
    else
      -- A random sample, so that survivors scanning at once tend to claim different sessions.
      for _, session in ipairs(redis.call('SRANDMEMBER', owned, limit - #orphans)) do
        orphans[#orphans + 1] = session
      end
    end
  end
end
return orphans
