-- revokd.lua: the HAProxy action `revokd-auth` (HAProxy >= 2.5, for
-- core.httpclient). Asks revokd's /auth whether the request's bearer token
-- is valid and not revoked, before the request goes on:
--
--   http-request lua.revokd-auth "http://127.0.0.1:8080/auth"
--
-- revokd answers 200 with X-Auth-* identity headers (copied onto the
-- request), or 401 with WWW-Authenticate and a JSON body (returned to the
-- client as they are). Anything else, no answer, or an answer later than
-- TIMEOUT_MS: 503. It fails closed: the request never goes on without a 200.
-- See deploy/haproxy/README.md; tested by tests/e2e/test_haproxy.py.

local TIMEOUT_MS = 5000

-- Headers revokd reads (Cookie only matters with token_cookie).
local TO_REVOKD = { "authorization", "cookie" }
-- Headers of revokd's 401 handed back to the client.
local TO_CLIENT = { "www-authenticate", "content-type", "cache-control" }

local function is_x_auth(name)
    return string.lower(string.sub(name, 1, 7)) == "x-auth-"
end

-- HAProxy header tables hold a header's values at indexes 0, 1, ...
local function values(t)
    local out = {}
    if t == nil then
        return out
    end
    local i = 0
    while t[i] ~= nil do
        out[#out + 1] = t[i]
        i = i + 1
    end
    return out
end

local function unavailable(txn)
    local reply = txn:reply({
        status = 503,
        headers = { ["content-type"] = { "application/json" },
                    ["cache-control"] = { "no-store" } },
        body = '{"error":"server_error","error_description":"authorization unavailable"}',
    })
    txn:done(reply)
end

local function revokd_auth(txn, url)
    local hdrs = txn.http:req_get_headers()
    -- No client X-Auth-* header survives, whatever its name.
    for name, _ in pairs(hdrs) do
        if is_x_auth(name) then
            txn.http:req_del_header(name)
        end
    end

    local ask = {
        ["x-original-uri"] = { txn.sf:pathq() },
        ["x-original-method"] = { txn.sf:method() },
    }
    for _, name in ipairs(TO_REVOKD) do
        local v = values(hdrs[name])
        if #v > 0 then
            ask[name] = { table.concat(v, name == "cookie" and "; " or ", ") }
        end
    end

    local ok, res = pcall(function()
        return core.httpclient():get({ url = url, headers = ask, timeout = TIMEOUT_MS })
    end)
    if not ok or res == nil or res.status == nil or res.status == 0 then
        core.Warning("revokd-auth: no answer from " .. url .. (ok and "" or (": " .. tostring(res))))
        return unavailable(txn)
    end

    local rh = res.headers or {}
    if res.status == 200 then
        for name, v in pairs(rh) do
            if is_x_auth(name) then
                local first = values(v)[1]
                if first ~= nil then
                    txn.http:req_set_header(name, first)
                end
            end
        end
        return
    end

    if res.status == 401 then
        local out = {}
        for _, name in ipairs(TO_CLIENT) do
            local v = values(rh[name])
            if #v > 0 then
                out[name] = { v[1] }
            end
        end
        return txn:done(txn:reply({ status = 401, headers = out, body = res.body or "" }))
    end

    core.Warning("revokd-auth: revokd answered " .. tostring(res.status))
    return unavailable(txn)
end

core.register_action("revokd-auth", { "http-req" }, revokd_auth, 1)
