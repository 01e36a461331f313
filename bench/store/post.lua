-- wrk script: POST revocations with IDs no other request used.
-- BATCH events per request (1: a single event object), PREFIX keeps runs apart.
-- IDS=random: each jti is 32 random hex digits (a UUID without dashes, as
-- identity providers send them) instead of PREFIX-thread-counter, which
-- lands on few B-tree pages.
local batch = tonumber(os.getenv("BATCH") or "1")
local prefix = os.getenv("PREFIX") or "b"
local random_ids = os.getenv("IDS") == "random"
local token = os.getenv("ADMIN_TOKEN")
local threads, nthreads = {}, 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

counter, bad = 0, 0  -- globals: done() reads them through thread:get
local headers = {}

function init(args)
	math.randomseed(os.time() * 100 + tid)
	headers["Authorization"] = "Bearer " .. token
	headers["Content-Type"] = "application/json"
end

function request()
	local parts = {}
	for i = 1, batch do
		counter = counter + 1
		local jti
		if random_ids then
			jti = string.format("%08x%06x%06x%06x%06x", math.random(0, 0x7fffffff),
				math.random(0, 0xffffff), math.random(0, 0xffffff),
				math.random(0, 0xffffff), math.random(0, 0xffffff))
		else
			jti = string.format("%s-%d-%d", prefix, tid, counter)
		end
		parts[i] = string.format('{"type":"token.revoked","jti":"%s"}', jti)
	end
	local body
	if batch == 1 then
		body = parts[1]
	else
		body = '{"events":[' .. table.concat(parts, ",") .. ']}'
	end
	return wrk.format("POST", "/admin/v1/revocations", headers, body)
end

function response(status, hdrs, body)
	if status ~= 201 then
		bad = bad + 1
	end
end

function done(summary, latency, requests)
	local b = 0
	for _, t in ipairs(threads) do
		b = b + t:get("bad")
	end
	io.write(string.format("RESULT requests=%d non201=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
		summary.requests, b, summary.duration / 1e6,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
