-- For each user's session set in KEYS, 1 when it exists (the user has an open session), else 0.
local found = {}
for i, key in ipairs(KEYS) do
  found[i] = redis.call('EXISTS', key)
end
return found
