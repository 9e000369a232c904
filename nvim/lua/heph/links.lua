-- Wiki links: gf on [[…]] and :Heph links.
--
-- [[X]] and [[X|label]] name their target X, resolved as hephd resolves
-- wiki links (links.go): the live node whose handle or full id is X; else
-- the live node whose title equals X ignoring ASCII case (the oldest when
-- several share it; found through search); else the live node whose id or
-- handle starts with X (at least 4 characters, no spaces, unambiguous).
local heph = require('heph')
local rpc = require('heph.rpc')
local buffers = require('heph.buffers')

local M = {}

-- link_at returns the target of the [[…]] around byte column col (0-based)
-- of line, or nil.
function M.link_at(line, col)
  local init = 1
  while true do
    local s, e, inner = line:find('%[%[(.-)%]%]', init)
    if not s then
      return nil
    end
    if col + 1 >= s and col + 1 <= e then
      local target = inner:match('^([^|]*)') or inner
      target = vim.trim(target)
      if target == '' then
        return nil
      end
      return target
    end
    init = e + 1
  end
end

local function node_id(entry)
  local n = entry.node
  if type(n) == 'table' then
    return n.id, n
  end
  return n or entry.id, entry
end

local function live(n)
  return type(n) == 'table' and (n.deleted == nil or n.deleted == vim.NIL)
end

-- by_title calls cb with the oldest live node titled title, or nil.
local function by_title(title, cb)
  local q = 'title:"' .. title:gsub('"', '""') .. '"'
  rpc.request('node.search', { query = q, limit = 50 }, function(err, results)
    if err then
      cb(nil)
      return
    end
    local best = nil
    for _, r in ipairs(results or {}) do
      local _, n = node_id(r)
      if live(n) and type(n.title) == 'string' and n.title:lower() == title:lower() then
        if not best or n.created < best.created or (n.created == best.created and n.id < best.id) then
          best = n
        end
      end
    end
    cb(best)
  end)
end

-- resolve finds the node a link target names and calls cb(node); it
-- reports a target that names nothing.
function M.resolve(target, cb)
  rpc.request('node.get', { id = target }, function(err, n)
    if err and err.code ~= rpc.codes.not_found and err.code ~= rpc.codes.ambiguous and err.code ~= -32602 then
      heph.report(err)
      return
    end
    if not err and live(n) and (n.handle == target:lower() or n.id == target:upper()) then
      cb(n)
      return
    end
    by_title(target, function(t)
      if t then
        cb(t)
      elseif not err and live(n) and #target >= 4 and not target:find('%s') then
        cb(n)
      else
        heph.notify(('[[%s]] names no node (no id, handle or title matches)'):format(target), vim.log.levels.WARN)
      end
    end)
  end)
end

-- follow opens the target of the [[link]] under the cursor, or does the
-- ordinary gf when the cursor is not on one.
function M.follow()
  local line = vim.api.nvim_get_current_line()
  local col = vim.api.nvim_win_get_cursor(0)[2]
  local target = M.link_at(line, col)
  if not target then
    local ok, e = pcall(vim.cmd, 'normal! gf')
    if not ok then
      heph.notify(tostring(e):gsub('^Vim%(normal%):', ''), vim.log.levels.ERROR)
    end
    return
  end
  M.resolve(target, function(node)
    buffers.open(node)
  end)
end

-- qf_items turns nodes into quickfix entries that open heph:// buffers.
function M.qf_items(entries, text_of)
  local items = {}
  for _, e in ipairs(entries) do
    local id, n = node_id(e)
    items[#items + 1] = {
      filename = 'heph://' .. id,
      lnum = 1,
      text = text_of(e, n),
    }
  end
  return items
end

-- backlinks lists the nodes linking to the current node in the quickfix
-- list.
function M.backlinks()
  local st = buffers.current()
  if not st then
    heph.notify(':Heph links works in a heph:// buffer', vim.log.levels.WARN)
    return
  end
  heph.call('link.list', { id = st.id }, function(res)
    local back = (res and res.backlinks) or {}
    if back == vim.NIL then
      back = {}
    end
    local items = M.qf_items(back, function(e, n)
      local label = (e.label and e.label ~= vim.NIL and e.label ~= '') and (' [' .. e.label .. ']') or ''
      return ('%s  %s%s'):format(n.handle or '', n.title or '', label)
    end)
    vim.fn.setqflist({}, ' ', { title = 'heph backlinks of ' .. (st.handle or st.id), items = items })
    if #items == 0 then
      heph.notify(('nothing links to %s'):format(st.handle or st.id))
      return
    end
    vim.cmd('copen')
  end)
end

return M
