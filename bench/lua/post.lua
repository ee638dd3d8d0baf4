-- POST of a fixed body (BENCH_BODY file, BENCH_CTYPE) to the path on wrk's command line
-- (session creates): no per-request Lua unless tokens rotate.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
math.randomseed(os.time())
wrk.method = "POST"
wrk.body = read_file(env("BENCH_BODY"))
wrk.headers["Content-Type"] = env("BENCH_CTYPE", "application/json")
if rotating() then
  request = function() return wrk.format(nil, nil, auth_headers()) end
else
  auth_headers(wrk.headers)
end
