-- Pays open sessions through the hosted page's form: POST /checkout/{id}, each request on the
-- next unpaid session of BENCH_IDS (from the end backwards with BENCH_REVERSE=1, so that a
-- warm-up and the measured run use different sessions). The CSRF check is a double submit: the
-- form's `csrf` must equal the `kassa_csrf` cookie (32 characters), as a browser sends both
-- after loading the page. Past the end of the list it asks for /checkout/exhausted, a 404, so
-- running out shows as non-2xx instead of paying a session twice.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
local ids = load_ids(env("BENCH_IDS"))
local reverse = env("BENCH_REVERSE", "0") == "1"
local csrf = "benchCsrfToken0123456789abcdefgh"
assert(#csrf == 32)
local body = "csrf=" .. csrf .. "&action=pay&email=buyer%40example.com&name=Bench+Buyer" ..
  "&card_number=4242+4242+4242+4242&card_expiry=12+%2F+34&card_cvc=123"
local headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Cookie"] = "kassa_csrf=" .. csrf,
}
local i = 0
request = function()
  i = i + 1
  local id
  if reverse then id = ids[#ids + 1 - i] else id = ids[i] end
  if id == nil then return wrk.format("GET", "/checkout/exhausted") end
  return wrk.format("POST", "/checkout/" .. id, headers, body)
end
