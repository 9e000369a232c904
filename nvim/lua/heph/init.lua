-- heph.nvim: a thin, connect-only client of the local hephd.
-- require('heph').setup{...} is optional; the defaults work.
local M = {}

-- config holds the options; setup merges into it.
--   socket      path of hephd's socket (default: the CLI's rules)
--   timeout_ms  how long to wait for a reply (default 10000)
--   on_conflict what :w does when the node changed in the store since it
--               was read: nil asks (vim.fn.confirm); or 'reload',
--               'overwrite', 'cancel', or a function(info) returning one
--               of those (info = { bufnr, id, title })
--   next_limit  how many tasks :Heph next lists (default 50)
--   journal_days  how many days :Heph journals looks back (default 14)
M.config = {
  socket = nil,
  timeout_ms = 10000,
  on_conflict = nil,
  next_limit = 50,
  journal_days = 14,
}

function M.setup(opts)
  M.config = vim.tbl_extend('force', M.config, opts or {})
  local rpc = require('heph.rpc')
  rpc.config.socket = M.config.socket
  rpc.config.timeout_ms = M.config.timeout_ms
  rpc.disconnect()
end

-- notify shows msg prefixed with "heph: " at the given level (default INFO).
function M.notify(msg, level)
  level = level or vim.log.levels.INFO
  vim.notify('heph: ' .. msg, level)
end

-- report shows an RPC error as one message (never a stack trace). When a
-- dropped connection fails several requests, they share one error table,
-- which is shown once.
function M.report(err)
  if type(err) ~= 'table' then
    M.notify(tostring(err), vim.log.levels.ERROR)
    return
  end
  if err.reported then
    return
  end
  err.reported = true
  M.notify(err.message or tostring(err.code), vim.log.levels.ERROR)
end

-- call is rpc.request whose callback only runs on success; errors are
-- reported. on_err(err) may handle an error itself by returning true.
function M.call(method, params, on_ok, on_err)
  require('heph.rpc').request(method, params, function(err, res)
    if err then
      if on_err and on_err(err) then
        return
      end
      M.report(err)
      return
    end
    if on_ok then
      on_ok(res)
    end
  end)
end

return M
