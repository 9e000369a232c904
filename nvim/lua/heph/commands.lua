-- :Heph subcommands and the task listing buffer (:Heph next, :Heph today).
local heph = require('heph')
local buffers = require('heph.buffers')
local links = require('heph.links')
local format = require('heph.format')

local M = {}

-- listings[bufnr] = { kind = 'next'|'today', tasks = { [lnum] = node } }
M.listings = {}

local function nonnull(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

local function is_today_or_before(t)
  local epoch = format.parse_time(t)
  return epoch ~= nil and format.local_day(epoch) <= format.local_day(os.time())
end

-- listing_buffer finds or makes the scratch buffer for a listing; options
-- and keys are set each time, so a buffer that was :bdelete'd works again.
local function listing_buffer(kind)
  local name = 'heph:' .. kind
  local bufnr = vim.fn.bufnr('^' .. name .. '$')
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(true, true)
    vim.api.nvim_buf_set_name(bufnr, name)
  end
  vim.bo[bufnr].buftype = 'nofile'
  vim.fn.bufload(bufnr)
  vim.bo[bufnr].buflisted = true
  vim.bo[bufnr].bufhidden = 'hide'
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].filetype = 'hephlist'
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = bufnr, nowait = true, desc = 'heph: ' .. desc })
  end
  map('<CR>', M.open_context, "open the task's context doc")
  map('d', function()
    M.act('task.done', 'done')
  end, 'mark the task done')
  map('s', function()
    M.act('task.skip', 'skipped')
  end, 'skip the task')
  map('r', function()
    M.refresh(bufnr)
  end, 'refresh')
  M.listings[bufnr] = M.listings[bufnr] or { kind = kind, tasks = {} }
  return bufnr
end

local function render(bufnr, tasks)
  local l = M.listings[bufnr]
  l.tasks = {}
  for i, n in ipairs(tasks) do
    l.tasks[i] = n
  end
  local lines = format.task_lines(tasks)
  if #lines == 0 then
    lines = { l.kind == 'today' and 'Nothing is due today.' or 'Nothing is next.' }
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].modified = false
end

-- today_filter keeps the tasks whose do or late date is today or earlier.
local function today_filter(tasks)
  local keep = {}
  for _, n in ipairs(tasks) do
    local t = nonnull(n.task) or {}
    if is_today_or_before(t['do']) or is_today_or_before(t.late) then
      keep[#keep + 1] = n
    end
  end
  return keep
end

-- load fetches a listing's tasks and calls cb(tasks). "next" is task.next;
-- "today" is task.next narrowed to tasks whose do or late date is today or
-- earlier, followed by the tasks whose do time comes later today
-- (task.view upcoming, 1 day).
local function load(kind, cb)
  heph.call('task.next', { limit = heph.config.next_limit }, function(res)
    local tasks = nonnull(res and res.tasks) or {}
    if kind ~= 'today' then
      cb(tasks)
      return
    end
    tasks = today_filter(tasks)
    heph.call('task.view', { name = 'upcoming', days = 1 }, function(later)
      local seen = {}
      for _, n in ipairs(tasks) do
        seen[n.id] = true
      end
      for _, n in ipairs(today_filter(nonnull(later) or {})) do
        if not seen[n.id] then
          tasks[#tasks + 1] = n
        end
      end
      cb(tasks)
    end)
  end)
end

-- refresh reloads a listing buffer from the daemon.
function M.refresh(bufnr)
  local l = M.listings[bufnr]
  if not l then
    return
  end
  load(l.kind, function(tasks)
    if not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    render(bufnr, tasks)
    vim.b[bufnr].heph_loaded = (vim.b[bufnr].heph_loaded or 0) + 1
  end)
end

-- show opens the listing kind in the current window and loads it.
function M.show(kind)
  local bufnr = listing_buffer(kind)
  vim.api.nvim_win_set_buf(0, bufnr)
  M.refresh(bufnr)
end

-- task_under_cursor is the task on the cursor line of a listing.
function M.task_under_cursor()
  local bufnr = vim.api.nvim_get_current_buf()
  local l = M.listings[bufnr]
  if not l then
    return nil
  end
  return l.tasks[vim.api.nvim_win_get_cursor(0)[1]]
end

-- with_task calls cb(task_id) with the task the current buffer is about:
-- the line under the cursor in a listing, the task of a node buffer, or
-- the task whose context or log doc the buffer shows (found through the
-- doc's "context"/"log" backlink from its task).
function M.with_task(cb, usage)
  local n = M.task_under_cursor()
  if n then
    cb(n.id)
    return
  end
  local st = buffers.current()
  local function none()
    heph.notify('no task here: ' .. usage, vim.log.levels.WARN)
  end
  if not st then
    none()
    return
  end
  if st.task_id then
    cb(st.task_id)
    return
  end
  heph.call('link.list', { id = st.id }, function(res)
    for _, e in ipairs(nonnull(res and res.backlinks) or {}) do
      local t = nonnull(e.node)
      if (e.kind == 'context' or e.kind == 'log') and type(t) == 'table' and t.kind == 'task' then
        st.task_id = t.id
        cb(t.id)
        return
      end
    end
    none()
  end)
end

local function refresh_listings()
  for bufnr in pairs(M.listings) do
    if vim.api.nvim_buf_is_valid(bufnr) then
      M.refresh(bufnr)
    else
      M.listings[bufnr] = nil
    end
  end
end

-- act runs a task method (task.done, task.skip) on the current task.
function M.act(method, verb)
  M.with_task(function(id)
    heph.call(method, { id = id }, function(n)
      heph.notify(('%s %s "%s"'):format(verb, n.handle or id, n.title or ''))
      refresh_listings()
    end)
  end, "use it on a line of :Heph next, in a task's buffer or in a task's context or log doc")
end

function M.open_context()
  local n = M.task_under_cursor()
  if not n then
    return
  end
  heph.call('context.get', { id = n.id }, function(doc)
    buffers.open(doc, { task_id = n.id })
  end)
end

local function need(arg, usage)
  if not arg or vim.trim(arg) == '' then
    heph.notify('usage: ' .. usage, vim.log.levels.ERROR)
    return false
  end
  return true
end

-- subcommands maps :Heph {sub} to function(rest_of_line).
M.subcommands = {
  next = function()
    M.show('next')
  end,
  today = function()
    M.show('today')
  end,
  task = function(arg)
    if not need(arg, ':Heph task {title}') then
      return
    end
    heph.call('task.create', { title = arg }, function(n)
      heph.notify(('created %s "%s"'):format(n.handle or n.id, n.title))
      refresh_listings()
    end)
  end,
  done = function()
    M.act('task.done', 'done')
  end,
  skip = function()
    M.act('task.skip', 'skipped')
  end,
  open = function(arg)
    if not need(arg, ':Heph open {id}') then
      return
    end
    buffers.open_ref(vim.trim(arg))
  end,
  log = function(arg)
    if not need(arg, ':Heph log {text}') then
      return
    end
    M.with_task(function(id)
      heph.call('log.append', { id = id, text = arg }, function(doc)
        heph.notify(('logged to %s (%s)'):format(doc.handle or id, doc.title or ''))
      end)
    end, "use :Heph log on a line of :Heph next, in a task's buffer or in its context doc")
  end,
  search = function(arg)
    if not need(arg, ':Heph search {query}') then
      return
    end
    heph.call('node.search', { query = arg }, function(res)
      res = nonnull(res) or {}
      local items = links.qf_items(res, function(e, n)
        local snip = nonnull(e.snippet) or ''
        snip = snip:gsub('%s+', ' ')
        return ('%s  %s  %s'):format(n.handle or '', n.title or '', snip)
      end)
      vim.fn.setqflist({}, ' ', { title = 'heph search: ' .. arg, items = items })
      if #items == 0 then
        heph.notify('no matches for ' .. arg)
        return
      end
      vim.cmd('copen')
    end)
  end,
  links = function()
    links.backlinks()
  end,
}

-- run is the :Heph command.
function M.run(opts)
  local args = opts.args or ''
  local sub, rest = args:match('^%s*(%S+)%s*(.-)%s*$')
  sub = sub or 'next'
  local f = M.subcommands[sub]
  if not f then
    heph.notify(('unknown command "%s"; try one of: %s'):format(sub, table.concat(M.names(), ', ')), vim.log.levels.ERROR)
    return
  end
  f(rest ~= '' and rest or nil)
end

function M.names()
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return names
end

-- complete completes the subcommand name.
function M.complete(arglead, cmdline)
  if cmdline:match('^%s*%S+%s+%S+%s') then
    return {}
  end
  return vim.tbl_filter(function(n)
    return n:sub(1, #arglead) == arglead
  end, M.names())
end

return M
