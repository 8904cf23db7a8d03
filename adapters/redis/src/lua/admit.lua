-- Takes one request from an allowance (a user's of one kind, or a room's), atomically for
-- every instance.
-- GCRA (a token bucket kept as one number): the key holds the theoretical arrival time of the
-- next request, in microseconds of Redis's own clock, so the instances' clocks never matter.
-- KEYS: the allowance's key (a user's for one kind, or a room's)
-- ARGV: emission interval (µs per request), burst tolerance (µs: (burst - 1) × interval)
-- Returns {1, 0} when allowed, {0, µs until the next request is allowed} when limited.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local allowed_at = tat - tolerance
if now < allowed_at then
  return {0, math.ceil(allowed_at - now)}
end
local next_tat = tat + interval
-- Once the arrival time has passed, the allowance is whole again and the key says nothing:
-- it expires then (plus a millisecond of rounding).
local ttl_ms = math.ceil((next_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', string.format('%.0f', ttl_ms))
return {1, 0}
