-- Node buffers: heph://<id> shows a doc's or task's body as markdown.
-- Reading goes through node.get, :w through node.update guarded by the
-- node's `updated` as last read, so a change made elsewhere meanwhile is
-- never clobbered silently.
local heph = require('heph')
local rpc = require('heph.rpc')

local M = {}

-- state[bufnr] = { id, handle, kind, title, updated, task_id }
-- task_id is the task a context/log doc belongs to, when known.
M.state = {}

local prefix = 'heph://'

-- ref_of returns what follows heph:// in a buffer name.
function M.ref_of(name)
  if name:sub(1, #prefix) == prefix then
    return name:sub(#prefix + 1)
  end
  return nil
end

-- body_lines splits a body into buffer lines; eol says whether the body
-- ends with a newline (an empty body counts as one, so text typed into an
-- empty doc is saved newline-terminated).
local function body_lines(body)
  body = body or ''
  if body == '' then
    return { '' }, true
  end
  local lines = vim.split(body, '\n', { plain = true })
  local eol = body:sub(-1) == '\n'
  if eol then
    table.remove(lines)
  end
  return lines, eol
end

-- fill replaces the buffer's text with node's body and records what was
-- read.
function M.fill(bufnr, node, extra)
  local lines, eol = body_lines(node.body)
  local old = M.state[bufnr] or {}
  M.state[bufnr] = {
    id = node.id,
    handle = node.handle,
    kind = node.kind,
    title = node.title,
    updated = node.updated,
    task_id = (extra and extra.task_id) or old.task_id or (node.kind == 'task' and node.id or nil),
  }
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].endofline = eol
  vim.bo[bufnr].fixendofline = false
  vim.bo[bufnr].modified = false
  vim.b[bufnr].heph_id = node.id
  vim.b[bufnr].heph_title = node.title
  vim.b[bufnr].heph_updated = node.updated
  local live = require('heph.live')
  live.set_stale(bufnr, false)
  live.ensure()
end

-- changed_elsewhere is called when an event names the buffer's node: an
-- unmodified buffer reloads when the node's `updated` moved; a modified
-- one is flagged in its status line and warned about once (the conflict
-- rules of :w still apply).
function M.changed_elsewhere(bufnr)
  local st = M.state[bufnr]
  if not st or st.saving then
    return
  end
  rpc.request('node.get', { id = st.id }, function(err, node)
    if err or not vim.api.nvim_buf_is_valid(bufnr) or M.state[bufnr] ~= st or st.saving then
      return
    end
    if node.updated == st.updated then
      return
    end
    if not vim.bo[bufnr].modified then
      M.fill(bufnr, node)
      vim.b[bufnr].heph_reloaded = (vim.b[bufnr].heph_reloaded or 0) + 1
      return
    end
    if not vim.b[bufnr].heph_stale then
      heph.notify(
        ('"%s" changed in the store since you opened it; :w will ask what to keep, :e! reloads'):format(st.title or st.id),
        vim.log.levels.WARN
      )
    end
    require('heph.live').set_stale(bufnr, true)
  end)
end

local function setup_buffer(bufnr)
  vim.bo[bufnr].buftype = 'acwrite'
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].filetype = 'markdown'
  vim.keymap.set('n', 'gf', function()
    require('heph.links').follow()
  end, { buffer = bufnr, desc = 'heph: follow the [[link]] under the cursor' })
  vim.keymap.set('n', 'gp', function()
    require('heph.journal').promote()
  end, { buffer = bufnr, desc = 'heph: make the checklist item under the cursor a task' })
end

-- journal_date is the date of a heph://journal/DATE buffer name's ref.
local function journal_date(ref)
  return ref and ref:match('^journal/(%d%d%d%d%-%d%d%-%d%d)$')
end

-- pending shows an empty buffer for a journal that does not exist yet:
-- its first :w creates it (journal.append).
local function pending(bufnr, date)
  M.state[bufnr] = { journal_date = date, title = date }
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, { '' })
  vim.bo[bufnr].endofline = true
  vim.bo[bufnr].fixendofline = false
  vim.bo[bufnr].modified = false
  vim.b[bufnr].heph_title = date
end

-- open shows node (already fetched) in the current window as heph://<id>.
-- extra.task_id records the task a context doc belongs to. A buffer with
-- unsaved changes is shown as it is, not refreshed.
function M.open(node, extra)
  local name = prefix .. node.id
  local bufnr = vim.fn.bufnr('^' .. vim.fn.escape(name, '\\/.*$^~[]') .. '$')
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(true, false)
    vim.api.nvim_buf_set_name(bufnr, name)
    setup_buffer(bufnr)
    M.fill(bufnr, node, extra)
  elseif not vim.bo[bufnr].modified then
    M.fill(bufnr, node, extra)
  elseif extra and extra.task_id and M.state[bufnr] then
    M.state[bufnr].task_id = extra.task_id
  end
  vim.api.nvim_win_set_buf(0, bufnr)
  return bufnr
end

-- open_ref fetches a node by id, handle or prefix and opens it.
function M.open_ref(ref, extra)
  heph.call('node.get', { id = ref }, function(node)
    M.open(node, extra)
  end)
end

-- on_read is BufReadCmd for heph://*: it loads the node asynchronously.
function M.on_read(bufnr)
  local ref = M.ref_of(vim.api.nvim_buf_get_name(bufnr))
  setup_buffer(bufnr)
  if not ref or ref == '' then
    return
  end
  local date = journal_date(ref)
  if date then
    rpc.request('journal.get', { date = date }, function(err, res)
      if not vim.api.nvim_buf_is_valid(bufnr) then
        return
      end
      if err then
        heph.report(err)
        return
      end
      if res.node ~= nil and res.node ~= vim.NIL then
        M.fill(bufnr, res.node)
      else
        pending(bufnr, date)
      end
      vim.b[bufnr].heph_loaded = (vim.b[bufnr].heph_loaded or 0) + 1
    end)
    return
  end
  rpc.request('node.get', { id = ref }, function(err, node)
    if not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    if err then
      heph.report(err)
      return
    end
    M.fill(bufnr, node)
  end)
end

local function buffer_body(bufnr)
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local body = table.concat(lines, '\n')
  if vim.bo[bufnr].endofline and body ~= '' then
    body = body .. '\n'
  end
  return body
end

-- conflict_choice asks what to do about a conflicting save, or takes the
-- configured answer.
local function conflict_choice(bufnr, st)
  local c = heph.config.on_conflict
  if type(c) == 'function' then
    c = c({ bufnr = bufnr, id = st.id, title = st.title })
  end
  if c == 'reload' or c == 'overwrite' or c == 'cancel' then
    return c
  end
  local n = vim.fn.confirm(
    ('heph: "%s" changed in the store since you opened it.'):format(st.title or st.id),
    '&Reload (lose my edits)\n&Overwrite (lose the other change)\n&Cancel',
    3
  )
  return ({ 'reload', 'overwrite', 'cancel' })[n] or 'cancel'
end

local function sync(method, params)
  local err, res = rpc.request_sync(method, params, heph.config.timeout_ms)
  if err then
    heph.report(err)
  end
  return res
end

-- on_write is BufWriteCmd for heph://*. It waits for the reply (as
-- writing a file does) so that :wq cannot quit before the save lands.
function M.on_write(bufnr)
  local st = M.state[bufnr]
  if not st then
    heph.notify('this buffer was never loaded from hephd; nothing to save', vim.log.levels.ERROR)
    return
  end
  local body = buffer_body(bufnr)
  st.saving = true
  local ok, perr = pcall(M.save, bufnr, st, body)
  st.saving = false
  if not ok then
    error(perr, 0)
  end
end

-- save is on_write's body, run with st.saving set so that the event of
-- this very save is not taken for a change made elsewhere.
function M.save(bufnr, st, body)
  if st.journal_date and not st.id then
    if vim.trim(body) == '' then
      heph.notify('nothing to save: the journal is created by its first text', vim.log.levels.WARN)
      return
    end
    local node = sync('journal.append', { date = st.journal_date, text = body })
    if node then
      M.fill(bufnr, node)
      heph.notify(('saved the journal of %s (%s)'):format(node.title or st.journal_date, node.handle or node.id))
    end
    return
  end
  local err, node = rpc.request_sync('node.update', { id = st.id, body = body, expect_updated = st.updated }, heph.config.timeout_ms)
  if err and err.code == rpc.codes.conflict then
    heph.notify(('"%s" changed in the store since you opened it; not saved'):format(st.title or st.id), vim.log.levels.WARN)
    local choice = conflict_choice(bufnr, st)
    if choice == 'reload' then
      local fresh = sync('node.get', { id = st.id })
      if fresh then
        M.fill(bufnr, fresh)
        heph.notify('reloaded ' .. (fresh.handle or fresh.id))
      end
    elseif choice == 'overwrite' then
      local fresh = sync('node.get', { id = st.id })
      if fresh then
        node = sync('node.update', { id = st.id, body = body, expect_updated = fresh.updated })
        if node then
          st.updated = node.updated
          vim.b[bufnr].heph_updated = node.updated
          vim.bo[bufnr].modified = false
          require('heph.live').set_stale(bufnr, false)
          heph.notify('overwrote ' .. (node.handle or node.id))
        end
      end
    else
      heph.notify('not saved; your edits are still in the buffer', vim.log.levels.WARN)
    end
    return
  end
  if err then
    heph.report(err)
    return
  end
  st.updated = node.updated
  st.title = node.title
  vim.b[bufnr].heph_updated = node.updated
  vim.bo[bufnr].modified = false
  require('heph.live').set_stale(bufnr, false)
  heph.notify(('saved %s "%s"'):format(node.handle or node.id, node.title or ''))
end

-- current returns the state of the current buffer when it shows a node.
function M.current()
  return M.state[vim.api.nvim_get_current_buf()]
end

return M
