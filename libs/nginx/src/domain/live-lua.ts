/**
 * The Lua side of live routes (lua-nginx-module, Debian's libnginx-mod-http-lua), inlined into the
 * Stage 2 nginx.conf by renderStage2Conf. State lives in one lua_shared_dict, shared by every
 * worker process and kept across reloads (not across a restart):
 *   `r:<host>` -> map value; `ready` (a snapshot was applied; until then the rendered map file
 *   answers); `gen` (generation); `count`; `h1`..`h4` (XOR of md5(host .. " " .. value) over the
 *   entries, as four 32-bit words: a set hash both sides update per entry, see live-hash.ts).
 * The control server (a unix socket only) answers:
 *   GET  /routes/state                      -> {"ready","generation","count","hash","map_hash"}
 *   POST /routes/snapshot?gen=G              body "host value\n"... -> replaces every entry
 *   POST /routes/delta?from=F&to=T&hash=H    body "set host value\n" | "del host\n"... -> applied
 *        only when the dict is ready, at generation F and hash H (else 409 with the state).
 * Every line is re-checked here (the last line of defence); one bad line refuses the whole body,
 * nothing applied (400). One change at a time (a lock key; 409 "busy" while held).
 */
export const LIVE_ROUTES_LUA = String.raw`
local M = {}
local bit = require "bit"
local bxor, band, lshift, tohex = bit.bxor, bit.band, bit.lshift, bit.tohex
local md5_bin = ngx.md5_bin
local byte, sub = string.byte, string.sub

local function dict() return ngx.shared.collab_routes end

-- Host names: lower-case labels; values: offline, or [sso:]a.b.c.d:port.
local function host_ok(h)
  return #h <= 253 and h:find("^[a-z0-9][a-z0-9.-]*$") ~= nil and h:find("..", 1, true) == nil
end
local function octet(s) local n = tonumber(s); return n and n <= 255 and (s == "0" or s:sub(1, 1) ~= "0") end
local function value_ok(v)
  if v == "offline" then return true end
  local rest = v
  if sub(v, 1, 4) == "sso:" then rest = sub(v, 5) end
  local a, b, c, d, p = rest:match("^(%d+)%.(%d+)%.(%d+)%.(%d+):(%d+)$")
  if not a then return false end
  if not (octet(a) and octet(b) and octet(c) and octet(d)) then return false end
  local port = tonumber(p)
  return port >= 1 and port <= 65535 and p:sub(1, 1) ~= "0"
end

local function words(host, value)
  local s = md5_bin(host .. " " .. value)
  local w = {}
  for i = 0, 3 do
    local b1, b2, b3, b4 = byte(s, i * 4 + 1, i * 4 + 4)
    w[i + 1] = bit.bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
  end
  return w
end

local function hex(h) return tohex(h[1], 8) .. tohex(h[2], 8) .. tohex(h[3], 8) .. tohex(h[4], 8) end

-- nil until a snapshot made the dict ready: the rendered map answers until then.
function M.lookup(host)
  local d = dict()
  if not d:get("ready") then return nil end
  return d:get("r:" .. host) or "unknown"
end

local function state()
  local d = dict()
  local h = { d:get("h1") or 0, d:get("h2") or 0, d:get("h3") or 0, d:get("h4") or 0 }
  return {
    ready = d:get("ready") == true,
    gen = d:get("gen") or 0,
    count = d:get("count") or 0,
    hash = hex(h),
  }
end

local function answer(status, extra)
  local s = state()
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say('{"ready":', tostring(s.ready), ',"generation":', string.format("%d", s.gen), ',"count":', s.count,
    ',"hash":"', s.hash, '","map_hash":"', ngx.var.collab_routes_hash or "", '"', extra or "", '}')
  return ngx.exit(status)
end

local function body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local file = ngx.req.get_body_file()
  if not file then return "" end
  local f = assert(io.open(file, "rb"))
  data = f:read("*a")
  f:close()
  return data
end

local function refuse(why) return answer(400, ',"error":"' .. why .. '"') end

-- fn returns nil when applied, or a reason for a 409. An error half way (a full dict) leaves
-- generation -1, which no pusher expects: the next push is a snapshot.
local function locked(fn)
  local d = dict()
  local ok = d:add("lock", true, 60)
  if not ok then return answer(409, ',"error":"busy"') end
  local done, why = pcall(fn)
  if not done then d:set("gen", -1) end
  d:delete("lock")
  if not done then
    ngx.log(ngx.ERR, "collab routes: ", why)
    return answer(500, ',"error":"apply failed"')
  end
  if why then return answer(409, ',"error":"' .. why .. '"') end
  return answer(200)
end

local function gen_arg(name)
  local v = ngx.var["arg_" .. name]
  if not v or not v:find("^%d+$") or #v > 15 then return nil end
  return tonumber(v)
end

function M.snapshot()
  local gen = gen_arg("gen")
  if not gen then return refuse("gen") end
  local entries, n = {}, 0
  for line in body():gmatch("[^\n]+") do
    local h, v = line:match("^(%S+) (%S+)$")
    if not h or not host_ok(h) or not value_ok(v) or entries[h] then return refuse("line " .. (n + 1)) end
    entries[h] = v
    n = n + 1
  end
  locked(function()
    local d = dict()
    local acc = { 0, 0, 0, 0 }
    for h, v in pairs(entries) do
      local ok, err = d:safe_set("r:" .. h, v)
      if not ok then error("shared dict: " .. err) end
      local w = words(h, v)
      for i = 1, 4 do acc[i] = bxor(acc[i], w[i]) end
    end
    for _, k in ipairs(d:get_keys(0)) do
      if sub(k, 1, 2) == "r:" and not entries[sub(k, 3)] then d:delete(k) end
    end
    d:set("h1", acc[1]); d:set("h2", acc[2]); d:set("h3", acc[3]); d:set("h4", acc[4])
    d:set("count", n)
    d:set("gen", gen)
    d:set("ready", true)
  end)
end

function M.delta()
  local from, to = gen_arg("from"), gen_arg("to")
  if not from or not to or to <= from then return refuse("from/to") end
  local ops, n = {}, 0
  for line in body():gmatch("[^\n]+") do
    n = n + 1
    local op, h, v = line:match("^(set) (%S+) (%S+)$")
    if not op then op, h = line:match("^(del) (%S+)$") end
    if not op or not host_ok(h) or (op == "set" and not value_ok(v)) then return refuse("line " .. n) end
    ops[n] = { h, v }
  end
  locked(function()
    local s = state()
    if not s.ready or s.gen ~= from or s.hash ~= ngx.var.arg_hash then return "base" end
    local d = dict()
    local acc = { d:get("h1") or 0, d:get("h2") or 0, d:get("h3") or 0, d:get("h4") or 0 }
    local count = s.count
    for i = 1, n do
      local h, v = ops[i][1], ops[i][2]
      local old = d:get("r:" .. h)
      if old ~= v then
        if old then
          local w = words(h, old)
          for j = 1, 4 do acc[j] = bxor(acc[j], w[j]) end
          count = count - 1
        end
        if v then
          local ok, err = d:safe_set("r:" .. h, v)
          if not ok then error("shared dict: " .. err) end
          local w = words(h, v)
          for j = 1, 4 do acc[j] = bxor(acc[j], w[j]) end
          count = count + 1
        else
          d:delete("r:" .. h)
        end
      end
    end
    d:set("h1", acc[1]); d:set("h2", acc[2]); d:set("h3", acc[3]); d:set("h4", acc[4])
    d:set("count", count)
    d:set("gen", to)
  end)
end

function M.state() return answer(200) end

return M
`;
