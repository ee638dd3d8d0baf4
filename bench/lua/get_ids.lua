-- GET string.format(BENCH_PATH, id) with an id drawn uniformly from BENCH_IDS per request
-- (retrieve: /v1/checkout/sessions/%s; hosted page: /checkout/%s).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
math.randomseed(os.time())
local ids = load_ids(env("BENCH_IDS"))
local path = env("BENCH_PATH")
local n = #ids
request = function()
  return wrk.format("GET", string.format(path, ids[math.random(1, n)]), auth_headers())
end
