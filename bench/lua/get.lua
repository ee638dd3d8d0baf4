-- GET of the fixed path given on wrk's command line (lists), with the key: no per-request Lua
-- unless tokens rotate.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
math.randomseed(os.time())
if rotating() then
  request = function() return wrk.format("GET", nil, auth_headers()) end
else
  auth_headers(wrk.headers)
end
