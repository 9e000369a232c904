-- A connect-only JSON-RPC 2.0 client of hephd over its unix socket: one
-- message per line, asynchronous (libuv pipe), callbacks run on the main
-- loop. The connection opens on the first request and reopens on the next
-- request after it drops; heph.nvim never starts a daemon.
local uv = vim.uv or vim.loop
local paths = require('heph.paths')

local M = {}

-- Error codes of the protocol (docs/protocol.md) and of this client.
M.codes = {
  not_found = -32001,
  ambiguous = -32002,
  conflict = -32003,
  unavailable = -32004,
  method_not_found = -32601,
  not_running = 'not_running', -- no daemon listens on the socket
  disconnected = 'disconnected', -- the connection dropped mid-request
  timeout = 'timeout',
}

local state = {
  pipe = nil,
  status = 'idle', -- idle | connecting | connected
  socket = nil, -- path of the current or last connection
  queue = {}, -- { id, line } waiting for the connection
  pending = {}, -- id -> { cb, method, timer }
  buf = '',
  next_id = 0,
}

-- config is filled by require('heph').setup; rpc only reads socket/timeout.
M.config = { socket = nil, timeout_ms = 10000 }

-- on_notification(method, params), when set, receives the notifications
-- hephd sends on the connection (events after events.subscribe); it runs
-- on the main loop. on_close(), when set, runs when the connection drops.
M.on_notification = nil
M.on_close = nil

-- not_running_message is the one message a person sees when no daemon
-- answers; it matches the CLI's.
function M.not_running_message(path)
  return ('hephd is not running (no socket at %s). Start it with: heph daemon start'):format(path)
end

local function close_pipe()
  local p = state.pipe
  state.pipe = nil
  state.status = 'idle'
  state.buf = ''
  if p and not p:is_closing() then
    p:close()
  end
end

-- finish delivers one reply (or error) to its callback on the main loop.
local function finish(id, err, result)
  local p = state.pending[id]
  if not p then
    return
  end
  state.pending[id] = nil
  if p.timer then
    p.timer:stop()
    if not p.timer:is_closing() then
      p.timer:close()
    end
  end
  vim.schedule(function()
    local ok, cberr = pcall(p.cb, err, result)
    if not ok then
      vim.notify(('heph: %s failed: %s'):format(p.method, tostring(cberr)), vim.log.levels.ERROR)
    end
  end)
end

local function fail_all(err)
  state.queue = {}
  local ids = {}
  for id in pairs(state.pending) do
    ids[#ids + 1] = id
  end
  table.sort(ids)
  for _, id in ipairs(ids) do
    finish(id, err)
  end
end

local function nil_if_null(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

-- handle_line decodes one reply line; it runs on the main loop because
-- vim.fn.json_decode may not be called in a fast event.
local function handle_line(line)
  local ok, msg = pcall(vim.fn.json_decode, line)
  if not ok or type(msg) ~= 'table' then
    return
  end
  local id = nil_if_null(msg.id)
  if id == nil then
    if type(msg.method) == 'string' and M.on_notification then
      local ok2, err = pcall(M.on_notification, msg.method, nil_if_null(msg.params))
      if not ok2 then
        vim.notify(('heph: handling %s failed: %s'):format(msg.method, tostring(err)), vim.log.levels.ERROR)
      end
    end
    return
  end
  local e = nil_if_null(msg.error)
  if e then
    finish(id, { code = e.code, message = e.message or 'error', data = nil_if_null(e.data) })
  else
    finish(id, nil, nil_if_null(msg.result))
  end
end

local function on_read(err, chunk)
  if err or not chunk then
    close_pipe()
    if M.on_close then
      vim.schedule(M.on_close)
    end
    fail_all({
      code = M.codes.disconnected,
      message = ('the connection to hephd at %s closed%s; try again'):format(
        state.socket or '?',
        err and (': ' .. err) or ''
      ),
    })
    return
  end
  state.buf = state.buf .. chunk
  local lines = {}
  while true do
    local nl = state.buf:find('\n', 1, true)
    if not nl then
      break
    end
    lines[#lines + 1] = state.buf:sub(1, nl - 1)
    state.buf = state.buf:sub(nl + 1)
  end
  if #lines > 0 then
    vim.schedule(function()
      for _, l in ipairs(lines) do
        handle_line(l)
      end
    end)
  end
end

local connect

-- write sends one request line. A write that fails never reached hephd,
-- so the request is sent once more on a fresh connection.
local function write(item)
  state.pipe:write(item.line, function(err)
    if not err then
      return
    end
    close_pipe()
    if state.pending[item.id] and not item.retried then
      item.retried = true
      table.insert(state.queue, item)
      -- this callback is a fast event; connect() reads vim.env
      vim.schedule(function()
        if state.status == 'idle' then
          connect()
        end
      end)
      return
    end
    fail_all({ code = M.codes.disconnected, message = 'write to hephd failed: ' .. err })
  end)
end

function connect()
  local path, why = paths.socket(M.config)
  if not path then
    fail_all({ code = M.codes.not_running, message = 'cannot find the hephd socket: ' .. why })
    return
  end
  state.socket = path
  state.status = 'connecting'
  local pipe = uv.new_pipe(false)
  state.pipe = pipe
  local ok, cerr = pcall(pipe.connect, pipe, path, function(err)
    if state.pipe ~= pipe then
      return
    end
    if err then
      close_pipe()
      local e = { code = M.codes.not_running, message = M.not_running_message(path) }
      if not (err:match('ENOENT') or err:match('ECONNREFUSED') or err:match('ENOTSOCK')) then
        e = { code = M.codes.disconnected, message = ('cannot connect to hephd at %s: %s'):format(path, err) }
      end
      fail_all(e)
      return
    end
    state.status = 'connected'
    pipe:read_start(on_read)
    local q = state.queue
    state.queue = {}
    for _, item in ipairs(q) do
      write(item)
    end
  end)
  if not ok then
    close_pipe()
    fail_all({ code = M.codes.disconnected, message = ('cannot connect to hephd at %s: %s'):format(path, tostring(cerr)) })
  end
end

-- request sends method(params) and calls cb(err, result) on the main loop.
-- err is nil or { code, message, data }. params nil means {}.
function M.request(method, params, cb)
  state.next_id = state.next_id + 1
  local id = state.next_id
  if params == nil or (type(params) == 'table' and next(params) == nil) then
    params = vim.empty_dict()
  end
  local line = vim.fn.json_encode({ jsonrpc = '2.0', id = id, method = method, params = params }) .. '\n'
  local entry = { cb = cb or function() end, method = method }
  state.pending[id] = entry
  local ms = M.config.timeout_ms or 10000
  if ms > 0 then
    entry.timer = uv.new_timer()
    entry.timer:start(ms, 0, function()
      finish(id, { code = M.codes.timeout, message = ('hephd did not answer %s within %d ms'):format(method, ms) })
    end)
  end
  local item = { id = id, line = line }
  if state.status == 'connected' then
    write(item)
  else
    table.insert(state.queue, item)
    if state.status == 'idle' then
      connect()
    end
  end
  return id
end

-- request_sync waits (processing events) for the reply; for tests and
-- health checks only — commands use request.
function M.request_sync(method, params, timeout_ms)
  local done, rerr, rres = false, nil, nil
  M.request(method, params, function(err, res)
    done, rerr, rres = true, err, res
  end)
  vim.wait(timeout_ms or M.config.timeout_ms or 10000, function()
    return done
  end, 10)
  if not done then
    return { code = M.codes.timeout, message = 'hephd did not answer ' .. method }, nil
  end
  return rerr, rres
end

-- disconnect closes the connection; the next request reconnects.
function M.disconnect()
  local was = state.pipe ~= nil
  close_pipe()
  if was and M.on_close then
    vim.schedule(M.on_close)
  end
end

-- status reports the connection state and socket path.
function M.status()
  return state.status, state.socket
end

return M
