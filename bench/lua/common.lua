-- Shared by every load script: settings from the environment, id files, and the one RESULT
-- line that wrk's done() prints (the same format as the bare baselines' report.lua).
function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

-- One id a line; the whole file is held in memory (1 000 000 ids are ~40 MB in LuaJIT).
function load_ids(path)
  local ids = {}
  for line in io.lines(path) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  assert(#ids > 0, "no ids in " .. path)
  return ids
end

function read_file(path)
  local f = assert(io.open(path, "rb"))
  local body = f:read("*a")
  f:close()
  return body
end

-- Authorization: the kassa key (BENCH_KEY) on every request, or, with BENCH_ROTATE=1, bearer
-- tokens that change every BENCH_ROTATE_EVERY requests (the Stripe emulator answers 403 after
-- 5 000 requests an hour per token, and accepts any non-empty token). 1 gives every request a
-- token of its own; the default of 1 000 stays well under the limit without making the
-- emulator keep a rate-limit counter per request.
local key = env("BENCH_KEY", nil)
local rotate = env("BENCH_ROTATE", "0") == "1"
local rotate_every = tonumber(env("BENCH_ROTATE_EVERY", "1000"))
local token_prefix = "sk_test_bench" .. os.time() .. "x" .. math.random(1, 1e9) .. "n"
local token_n = 0
function auth_headers(headers)
  headers = headers or {}
  if rotate then
    token_n = token_n + 1
    headers["Authorization"] = "Bearer " .. token_prefix .. math.floor(token_n / rotate_every)
  elseif key then
    headers["Authorization"] = "Bearer " .. key
  end
  return headers
end
function rotating() return rotate end

function report(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
done = report
