-- Live changes: heph.nvim subscribes to hephd's events on its connection
-- (events.subscribe) once a listing or a heph:// buffer is shown, then
-- refreshes listings when a task changes (or at a tick, when a do or late
-- date comes), reloads unmodified node buffers whose node changed
-- elsewhere, and flags modified ones in their status line. No polling:
-- after the connection drops it reconnects with backoff and resumes after
-- the last event seen.
local rpc = require('heph.rpc')

local M = {
  wanted = false, -- something on screen follows the store
  subscribed = false,
  pending = false, -- a subscribe request is out
  last_seq = nil, -- seq of the last event seen (resume point)
  retry_ms = 250,
  retry_timer = nil,
  refresh_pending = false,
}

-- The status line of a window showing a buffer that changed elsewhere.
M.statusline = "%<%f %h%m%r %#WarningMsg#%{v:lua.require'heph.live'.warning()}%*%=%-14.(%l,%c%V%) %P"

local subscribe

local function schedule_retry()
  if not M.wanted or M.retry_timer then
    return
  end
  local ms = M.retry_ms
  M.retry_ms = math.min(M.retry_ms * 2, 5000)
  M.retry_timer = vim.defer_fn(function()
    M.retry_timer = nil
    subscribe()
  end, ms)
end

-- refresh_listings reloads every listing buffer, coalescing a burst of
-- events into one reload.
local function refresh_listings()
  if M.refresh_pending then
    return
  end
  M.refresh_pending = true
  vim.defer_fn(function()
    M.refresh_pending = false
    local commands = require('heph.commands')
    for bufnr in pairs(commands.listings) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        commands.refresh(bufnr)
      else
        commands.listings[bufnr] = nil
      end
    end
  end, 10)
end

-- check_buffers asks each node buffer whose node is in ids (all when ids
-- is nil) whether it changed.
local function check_buffers(ids)
  local buffers = require('heph.buffers')
  for bufnr, st in pairs(buffers.state) do
    if not vim.api.nvim_buf_is_valid(bufnr) then
      buffers.state[bufnr] = nil
    elseif ids == nil or ids[st.id] then
      buffers.changed_elsewhere(bufnr)
    end
  end
end

-- handle reacts to one event (docs/protocol.md, "Live events").
function M.handle(p)
  if type(p) ~= 'table' then
    return
  end
  if type(p.seq) == 'number' then
    M.last_seq = p.seq
  end
  if p.tick then
    refresh_listings()
    return
  end
  if p.resync then
    refresh_listings()
    check_buffers(nil)
    return
  end
  local ids, tasks = {}, false
  for _, n in ipairs(p.nodes or {}) do
    ids[n.id] = true
    tasks = tasks or n.kind == 'task'
  end
  if tasks then
    refresh_listings()
  end
  check_buffers(ids)
end

function subscribe()
  if M.subscribed or M.pending then
    return
  end
  M.pending = true
  local params = {}
  if M.last_seq then
    params.after = M.last_seq
  end
  local resumed = M.last_seq ~= nil
  rpc.request('events.subscribe', params, function(err, res)
    M.pending = false
    if err then
      schedule_retry()
      return
    end
    M.subscribed = true
    M.retry_ms = 250
    if not M.last_seq and type(res) == 'table' and type(res.seq) == 'number' then
      M.last_seq = res.seq
    end
    if resumed then
      -- Back after a drop: what changed meanwhile is replayed, but the
      -- daemon may have been replaced; look again.
      refresh_listings()
      check_buffers(nil)
    end
  end)
end

rpc.on_notification = function(method, params)
  if method == 'event' then
    M.handle(params)
  end
end

rpc.on_close = function()
  local was = M.subscribed
  M.subscribed = false
  if was then
    schedule_retry()
  end
end

-- ensure subscribes, once, when something starts following the store.
function M.ensure()
  M.wanted = true
  subscribe()
end

-- warning is the status line text of the current buffer: non-empty when
-- its node changed in the store while it has unsaved edits.
function M.warning()
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.b[bufnr].heph_stale then
    return ' [heph: changed elsewhere; :w asks, :e! reloads] '
  end
  return ''
end

-- set_stale flags a modified buffer (stale = true) or clears the flag,
-- setting the status line of the windows that show it.
function M.set_stale(bufnr, stale)
  local was = vim.b[bufnr].heph_stale
  vim.b[bufnr].heph_stale = stale or nil
  for _, win in ipairs(vim.fn.win_findbuf(bufnr)) do
    if stale then
      vim.wo[win].statusline = M.statusline
    elseif was then
      vim.wo[win].statusline = ''
    end
  end
end

return M
