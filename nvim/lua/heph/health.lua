-- :checkhealth heph — socket found, daemon version, protocol compatibility.
-- Works with vim.health (0.8+; start/ok/... since 0.10) and with the
-- report_* functions of Neovim 0.7's `health` module.
local M = {}

-- protocol is the hephd protocol version this plugin speaks.
M.protocol = 1

local function reporter()
  local h = vim.health
  if h == nil or (h.start == nil and h.report_start == nil) then
    h = require('health')
  end
  return {
    start = h.start or h.report_start,
    ok = h.ok or h.report_ok,
    info = h.info or h.report_info,
    warn = h.warn or h.report_warn,
    error = h.error or h.report_error,
  }
end

function M.check()
  local r = reporter()
  local uv = vim.uv or vim.loop
  local heph = require('heph')
  local rpc = require('heph.rpc')
  local paths = require('heph.paths')
  r.start('heph.nvim')
  local v = vim.version()
  r.info(('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch))
  local path, why = paths.socket(heph.config)
  if not path then
    r.error('cannot place the socket: ' .. why, { 'set HEPH_SOCKET to the path of hephd\'s socket' })
    return
  end
  local st = uv.fs_stat(path)
  if not st then
    r.error(('no socket at %s (from %s)'):format(path, why), {
      rpc.not_running_message(path),
      'or point HEPH_SOCKET (or setup{ socket = ... }) at the socket hephd uses',
    })
    return
  end
  if st.type ~= 'socket' then
    r.error(('%s is a %s, not a socket'):format(path, st.type), { 'remove it and restart hephd: heph daemon start' })
    return
  end
  r.ok(('socket found: %s (from %s)'):format(path, why))
  local err, info = rpc.request_sync('daemon.info', nil, heph.config.timeout_ms)
  if err then
    r.error('daemon.info failed: ' .. (err.message or tostring(err.code)), { 'is hephd running? heph daemon status' })
    return
  end
  local rev = info.revision
  if rev == vim.NIL or rev == nil or rev == '' then
    rev = ''
  else
    rev = ' (' .. rev .. ')'
  end
  r.ok(('hephd %s%s, pid %s, mode %s'):format(tostring(info.version), rev, tostring(info.pid), tostring(info.mode)))
  if info.protocol == M.protocol then
    r.ok(('protocol %d: compatible'):format(info.protocol))
  else
    r.error(('hephd speaks protocol %s; this heph.nvim speaks %d'):format(tostring(info.protocol), M.protocol), {
      'update heph.nvim and hephd to the same release',
    })
  end
end

return M
