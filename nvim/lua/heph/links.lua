-- Wiki links: gf on [[…]] and :Heph links.
--
-- [[X]] and [[X|label]] name their target X. X is first resolved as an id,
-- handle or unambiguous id prefix (node.get); when no node has that id, X
-- is taken as a title: the search results whose title equals X (ignoring
-- case) are the candidates, and exactly one must match.
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

-- resolve_title finds the one node titled title via search.
local function resolve_title(title, cb)
  heph.call('search', { query = title, limit = 50 }, function(results)
    local hits = {}
    for _, r in ipairs(results or {}) do
      local _, n = node_id(r)
      if type(n) == 'table' and type(n.title) == 'string' and n.title:lower() == title:lower() then
        hits[#hits + 1] = n
      end
    end
    if #hits == 1 then
      cb(hits[1])
    elseif #hits == 0 then
      heph.notify(('no node with id or title "%s"'):format(title), vim.log.levels.WARN)
    else
      local names = {}
      for _, n in ipairs(hits) do
        names[#names + 1] = n.handle or n.id
      end
      heph.notify(('"%s" names several nodes (%s); link by id instead'):format(title, table.concat(names, ', ')), vim.log.levels.WARN)
    end
  end)
end

-- resolve finds the node a link target names and calls cb(node).
function M.resolve(target, cb)
  heph.call('node.get', { id = target }, cb, function(err)
    if err.code == rpc.codes.not_found or err.code == -32602 then
      resolve_title(target, cb)
      return true
    end
    return false
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
  heph.call('links', { id = st.id }, function(res)
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
