/**
 * The Lua side of live routes (lua-nginx-module, Debian's libnginx-mod-http-lua), inlined into the
 * Stage 2 nginx.conf by renderStage2Conf. State lives in one lua_shared_dict, shared by every
 * worker process and kept across reloads (not across a restart):
 *   `<host>` -> map value (host names always hold a dot, the other keys never); `ready` (a snapshot was applied; until then the rendered map file
 *   answers); `gen` (generation); `count`; `h1`..`h4` (XOR of md5(host .. " " .. value) over the
 *   entries, as four 32-bit words: a set hash both sides update per entry, see live-hash.ts).
 * The control server (a unix socket only) answers:
 *   GET  /routes/state                      -> {"ready","generation","count","hash","map_hash"}
 *   POST /routes/snapshot?gen=G              body "host value\n"... -> replaces every entry
 *   POST /routes/delta?from=F&to=T&hash=H    body "set host value\n" | "del host\n"... -> applied
 *        only when the dict is ready, at generation F and hash H (else 409 with the state).
 *   GET  /routes/dump                       -> "host value\n"... (what it serves; the state in
 *        X-Routes-* headers), for `ops render --diff`; empty until ready.
 * Every line is re-checked here (the last line of defence); one bad line refuses the whole body,
 * nothing applied (400). One change at a time (a lock key; 409 "busy" while held).
 */
export const LIVE_ROUTES_LUA = String.raw`
local M = {}
local bit = require "bit"
local bxor, bor, lshift, tohex = bit.bxor, bit.bor, bit.lshift, bit.tohex
local md5_bin = ngx.md5_bin
local byte, sub, find = string.byte, string.sub, string.find

local function dict() return ngx.shared.collab_routes end

-- Byte loops and plain finds only: LuaJIT compiles them (string patterns it does not), which keeps
-- a snapshot of 150,000 names well under a second.
local HOST = {}
for i = 48, 57 do HOST[i] = true end
for i = 97, 122 do HOST[i] = true end
HOST[45] = true; HOST[46] = true

-- Host names: lower-case labels, at least one dot, no empty label.
local function host_ok(h)
  local n = #h
  if n < 3 or n > 253 then return false end
  local prev, dots = 46, 0
  for i = 1, n do
    local c = byte(h, i)
    if not HOST[c] then return false end
    if c == 46 then
      if prev == 46 or prev == 45 then return false end
      dots = dots + 1
    elseif c == 45 and prev == 46 then
      return false
    end
    prev = c
  end
  return dots > 0 and prev ~= 46 and prev ~= 45
end

-- Values: offline, or [sso:]a.b.c.d:port (no leading zeros).
local function value_ok(v)
  if v == "offline" then return true end
  local n = #v
  if n > 64 then return false end
  local i = 1
  if sub(v, 1, 4) == "sso:" then i = 5 end
  for part = 1, 5 do
    local start, num = i, 0
    while i <= n do
      local c = byte(v, i)
      if c < 48 or c > 57 then break end
      num = num * 10 + c - 48
      i = i + 1
    end
    local len = i - start
    if len == 0 or len > 5 or (len > 1 and byte(v, start) == 48) then return false end
    if part == 5 then return i == n + 1 and num >= 1 and num <= 65535 end
    if num > 255 or byte(v, i) ~= (part < 4 and 46 or 58) then return false end
    i = i + 1
  end
  return false
end

local function word(s, k)
  local b1, b2, b3, b4 = byte(s, k, k + 3)
  return bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
end

local function hex(a1, a2, a3, a4) return tohex(a1, 8) .. tohex(a2, 8) .. tohex(a3, 8) .. tohex(a4, 8) end

-- nil until a snapshot made the dict ready: the rendered map answers until then.
function M.lookup(host)
  local d = dict()
  if not d:get("ready") then return nil end
  if find(host, ".", 1, true) == nil then return "unknown" end
  return d:get(host) or "unknown"
end

local function state()
  local d = dict()
  return {
    ready = d:get("ready") == true,
    gen = d:get("gen") or 0,
    count = d:get("count") or 0,
    hash = hex(d:get("h1") or 0, d:get("h2") or 0, d:get("h3") or 0, d:get("h4") or 0),
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
  if not v or #v > 15 or not find(v, "^%d+$") then return nil end
  return tonumber(v)
end

-- Calls fn(line_number, from, to) for each line of text (without its newline).
local function lines(text, fn)
  local pos, len, n = 1, #text, 0
  while pos <= len do
    local nl = find(text, "\n", pos, true) or len + 1
    n = n + 1
    if not fn(n, pos, nl - 1) then return n end
    pos = nl + 1
  end
  return nil
end

function M.snapshot()
  local gen = gen_arg("gen")
  if not gen then return refuse("gen") end
  local text = body()
  local hosts, values, count, seen = {}, {}, 0, {}
  local bad = lines(text, function(_, from, to)
    local sp = find(text, " ", from, true)
    if not sp or sp > to then return false end
    local h, v = sub(text, from, sp - 1), sub(text, sp + 1, to)
    if seen[h] or not host_ok(h) or not value_ok(v) then return false end
    seen[h] = true
    count = count + 1
    hosts[count], values[count] = h, v
    return true
  end)
  if bad then return refuse("line " .. bad) end
  return locked(function()
    local d = dict()
    -- A dict no push ever wrote (gen unset; a failed one leaves -1) holds no host: the cold start
    -- skips the lookups and the sweep. A clean dict whose every host is in the snapshot needs no
    -- sweep either: count is then exactly its number of hosts.
    local fresh = d:get("gen") == nil
    local clean = d:get("ready") and (d:get("gen") or -1) >= 0
    local before, present = d:get("count") or 0, 0
    local a1, a2, a3, a4 = 0, 0, 0, 0
    for i = 1, count do
      local h, v = hosts[i], values[i]
      local old = nil
      if not fresh then
        old = d:get(h)
        if old ~= nil then present = present + 1 end
      end
      if old ~= v then
        local ok, err = d:safe_set(h, v)
        if not ok then error("shared dict: " .. err) end
      end
      local m = md5_bin(h .. " " .. v)
      a1, a2, a3, a4 = bxor(a1, word(m, 1)), bxor(a2, word(m, 5)), bxor(a3, word(m, 9)), bxor(a4, word(m, 13))
    end
    if not fresh and not (clean and present == before) then
      for _, k in ipairs(d:get_keys(0)) do
        if find(k, ".", 1, true) and not seen[k] then d:delete(k) end
      end
    end
    d:set("h1", a1); d:set("h2", a2); d:set("h3", a3); d:set("h4", a4)
    d:set("count", count)
    d:set("gen", gen)
    d:set("ready", true)
  end)
end

function M.delta()
  local from, to = gen_arg("from"), gen_arg("to")
  if not from or not to or to <= from then return refuse("from/to") end
  local text = body()
  local hosts, values, count = {}, {}, 0
  local bad = lines(text, function(_, from_, to_)
    local op = sub(text, from_, from_ + 3)
    local rest = sub(text, from_ + 4, to_)
    local h, v
    if op == "set " then
      local sp = find(rest, " ", 1, true)
      if not sp then return false end
      h, v = sub(rest, 1, sp - 1), sub(rest, sp + 1)
      if not value_ok(v) then return false end
    elseif op == "del " then
      h = rest
    else
      return false
    end
    if not host_ok(h) then return false end
    count = count + 1
    hosts[count], values[count] = h, v or false
    return true
  end)
  if bad then return refuse("line " .. bad) end
  return locked(function()
    local s = state()
    if not s.ready or s.gen ~= from or s.hash ~= ngx.var.arg_hash then return "base" end
    local d = dict()
    local a1, a2, a3, a4 = d:get("h1") or 0, d:get("h2") or 0, d:get("h3") or 0, d:get("h4") or 0
    local n = s.count
    for i = 1, count do
      local h, v = hosts[i], values[i]
      local old = d:get(h)
      if old ~= v then
        if old then
          local m = md5_bin(h .. " " .. old)
          a1, a2, a3, a4 = bxor(a1, word(m, 1)), bxor(a2, word(m, 5)), bxor(a3, word(m, 9)), bxor(a4, word(m, 13))
          n = n - 1
        end
        if v then
          local ok, err = d:safe_set(h, v)
          if not ok then error("shared dict: " .. err) end
          local m = md5_bin(h .. " " .. v)
          a1, a2, a3, a4 = bxor(a1, word(m, 1)), bxor(a2, word(m, 5)), bxor(a3, word(m, 9)), bxor(a4, word(m, 13))
          n = n + 1
        else
          d:delete(h)
        end
      end
    end
    d:set("h1", a1); d:set("h2", a2); d:set("h3", a3); d:set("h4", a4)
    d:set("count", n)
    d:set("gen", to)
  end)
end

function M.state() return answer(200) end

-- Read only. get_keys walks the whole dict under its lock: an operator's dry run, not a hot path.
function M.dump()
  local d = dict()
  local s = state()
  local out, n = {}, 0
  if s.ready then
    for _, k in ipairs(d:get_keys(0)) do
      if find(k, ".", 1, true) then
        local v = d:get(k)
        if v then
          n = n + 1
          out[n] = k .. " " .. v .. "\n"
        end
      end
    end
  end
  ngx.header["Content-Type"] = "text/plain"
  ngx.header["X-Routes-Ready"] = tostring(s.ready)
  ngx.header["X-Routes-Generation"] = string.format("%d", s.gen)
  ngx.header["X-Routes-Count"] = s.count
  ngx.header["X-Routes-Hash"] = s.hash
  ngx.header["X-Routes-Map-Hash"] = ngx.var.collab_routes_hash or ""
  ngx.print(table.concat(out))
end

return M
`;
