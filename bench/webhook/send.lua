-- wrk script: sends the pre-signed webhook requests of a file, each once
-- (a request sent twice would be a redelivery, answered without work).
--   wrk ... -s send.lua URL -- FILE
local reqs = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    local id, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", "/v1/events", {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig,
    }, body)
  end
end

function request()
  i = i + 1
  if i > #reqs then
    wrk.thread:stop()
    i = #reqs
  end
  return reqs[i]
end
