-- Journals (:Heph today, :Heph journals, heph://journal/DATE buffers) and
-- promote (the gp key in node buffers).
local heph = require('heph')
local buffers = require('heph.buffers')

local M = {}

local function nonnull(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

-- open shows the journal of date (nil: today) in the current window as
-- heph://journal/DATE; a day without a journal shows an empty buffer whose
-- first :w creates it (reading never creates).
function M.open(date)
  heph.call('journal.get', { date = date }, function(res)
    vim.cmd('edit ' .. vim.fn.fnameescape('heph://journal/' .. res.date))
  end)
end

-- list puts the journals of the last days days in the quickfix list.
function M.list(days)
  heph.call('journal.list', { days = days or heph.config.journal_days }, function(res)
    local items = {}
    for _, e in ipairs(nonnull(res) or {}) do
      local n = nonnull(e.node)
      if n then
        local first = vim.trim((n.body or ''):match('^%s*([^\n]*)') or '')
        items[#items + 1] = { filename = 'heph://' .. n.id, lnum = 1, text = e.date .. '  ' .. first }
      end
    end
    vim.fn.setqflist({}, ' ', { title = 'heph journals', items = items })
    if #items == 0 then
      heph.notify('no journals in the last ' .. (days or heph.config.journal_days) .. ' days')
      return
    end
    vim.cmd('copen')
  end)
end

-- checklist_number is the number (from 1) of the checklist item on line
-- lnum of bufnr, counted as hephd counts them, or nil when that line is no
-- checklist item.
function M.checklist_number(bufnr, lnum)
  local function is_item(l)
    return l:match('^%s*[%-%*%+] %[[ xX]%] ') ~= nil or l:match('^%s*[%-%*%+] %[[ xX]%]$') ~= nil
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, lnum, false)
  if not is_item(lines[lnum] or '') then
    return nil
  end
  local n = 0
  for _, l in ipairs(lines) do
    if is_item(l) then
      n = n + 1
    end
  end
  return n
end

-- promote turns the checklist item under the cursor into a task
-- (context.promote) and shows the doc with the item become a link.
function M.promote()
  local bufnr = vim.api.nvim_get_current_buf()
  local st = buffers.state[bufnr]
  if not st or not st.id then
    heph.notify('promote works in a saved heph doc buffer', vim.log.levels.WARN)
    return
  end
  if vim.bo[bufnr].modified then
    heph.notify('save the buffer first (:w): promote works on the saved doc', vim.log.levels.WARN)
    return
  end
  local n = M.checklist_number(bufnr, vim.api.nvim_win_get_cursor(0)[1])
  if not n then
    heph.notify('the cursor is not on a checklist item ("- [ ] ...")', vim.log.levels.WARN)
    return
  end
  heph.call('context.promote', { id = st.id, n = n }, function(res)
    buffers.fill(bufnr, res.doc)
    heph.notify(('created %s "%s" from item %d'):format(res.task.handle or res.task.id, res.task.title or '', n))
  end)
end

return M
