-- wrk script: /auth decisions with a rotating Bearer token, and every
-- EVERY-th request a revocation (0: none, the baseline).
--
--   wrk ... -s mix.lua URL -- TOKENFILE REVFILE EVERY START MODE
--
-- MODE "revokd": REVFILE lines are "id<TAB>ts<TAB>sig<TAB>body" (prep.py
-- webhook), sent as Standard Webhooks signed POST /v1/events.
-- MODE "peer": REVFILE lines are {"jti","exp"} bodies for POST /revoke.
-- START: revocations earlier runs sent, so a webhook-id is never replayed
-- (a replayed id is an idempotent no-op, cheaper than a real revocation).
-- Every request string is built at init: one table index per request.

local toks, revs = {}, {}
local nt, nr, i, j, k, every = 0, 0, 0, 0, 0, 0

function init(args)
   every = tonumber(args[3]) or 0
   local start = tonumber(args[4]) or 0
   local mode = args[5] or "revokd"
   for line in io.lines(args[1]) do
      if #line > 0 then
         nt = nt + 1
         toks[nt] = wrk.format("GET", "/auth", { ["Authorization"] = "Bearer " .. line })
      end
   end
   if every > 0 then
      for line in io.lines(args[2]) do
         if #line > 0 then
            nr = nr + 1
            if mode == "revokd" then
               local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
               revs[nr] = wrk.format("POST", "/v1/events", {
                  ["Content-Type"] = "application/json",
                  ["webhook-id"] = id, ["webhook-timestamp"] = ts,
                  ["webhook-signature"] = sig }, body)
            else
               revs[nr] = wrk.format("POST", "/revoke",
                  { ["Content-Type"] = "application/json" }, line)
            end
         end
      end
      j = start % nr
   end
end

function request()
   k = k + 1
   if every > 0 and k % every == 0 then
      j = j + 1
      if j > nr then j = 1 end
      return revs[j]
   end
   i = i + 1
   if i > nt then i = 1 end
   return toks[i]
end
