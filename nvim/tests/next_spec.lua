-- :Heph next lists the tasks in the order and columns of `heph next`; `d`
-- marks the task under the cursor done. nvim_test.go passes the CLI's
-- output lines in $HEPH_TEST_CLI and the handles in $HEPH_TEST_HANDLES
-- (JSON lists).
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  local cli = vim.fn.json_decode(vim.env.HEPH_TEST_CLI)
  local handles = vim.fn.json_decode(vim.env.HEPH_TEST_HANDLES)
  local want = {}
  for i, h in ipairs(handles) do
    want[i] = { handle = h }
  end
  vim.cmd('Heph next')
  H.wait(function()
    return (vim.b.heph_loaded or 0) >= 1
  end, ':Heph next loads')
  H.eq(vim.api.nvim_buf_get_name(0):match('heph:next$') ~= nil, true, 'the listing buffer is heph:next')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.eq(lines, cli, 'the listing is line for line what `heph next` prints')
  local order = {}
  for i, line in ipairs(lines) do
    order[i] = line:match('^(%S+)')
  end
  H.eq(order, handles, 'the tasks are in task.next order')

  -- `d` on the first line marks it done and the list refreshes without it.
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local loads = vim.b.heph_loaded
  vim.cmd('normal d')
  H.wait(function()
    return vim.b.heph_loaded > loads
  end, 'the listing refreshes after d')
  -- the listing may refresh from the write's event before its reply's
  -- message arrives: wait for the message itself.
  H.wait(function()
    return H.message_matching('done ' .. want[1].handle) ~= nil
  end, 'd reports the task done')
  local after = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.eq(#after, #want - 1, 'the done task left the list')
  H.check(after[1]:match('^(%S+)') == want[2].handle, 'the second task is now first', after[1])

  -- :Heph done works on the line under the cursor too.
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  loads = vim.b.heph_loaded
  vim.cmd('Heph done')
  H.wait(function()
    return vim.b.heph_loaded > loads
  end, 'the listing refreshes after :Heph done')
  -- the listing may refresh from the write's event before its reply's
  -- message arrives: wait for the message itself.
  H.wait(function()
    return H.message_matching('done ' .. want[2].handle) ~= nil
  end, ':Heph done reports the task done')

  -- <CR> opens the task's context doc as a heph:// buffer.
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('execute "normal \\<CR>"')
  H.wait(function()
    return vim.api.nvim_buf_get_name(0):match('^heph://') ~= nil
  end, '<CR> opens a heph:// buffer')
  H.eq(vim.bo.filetype, 'markdown', 'the context buffer is markdown')
  H.eq(vim.bo.buftype, 'acwrite', 'the context buffer is acwrite')
  -- :Heph log in the context buffer logs to its task.
  vim.cmd('Heph log wrote from nvim')
  H.wait(function()
    return H.message_matching('logged to') ~= nil
  end, ':Heph log in a context buffer appends to the task log')
  io.stdout:write('CONTEXT_TASK=' .. tostring(require('heph.buffers').current().task_id) .. '\n')

  -- `s` skips a recurring task to its next occurrence; on a task that does
  -- not recur it gives hephd's message.
  local before = vim.b[vim.fn.bufnr('heph:next')].heph_loaded
  vim.cmd('Heph next')
  H.wait(function()
    return vim.b.heph_loaded > before
  end, ':Heph next again refreshes the listing')
  local function line_of(text)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
      if l:find(text, 1, true) then
        return i
      end
    end
  end
  local lw = line_of('water plants')
  H.check(lw ~= nil, 'the recurring task is listed')
  vim.api.nvim_win_set_cursor(0, { lw or 1, 0 })
  loads = vim.b.heph_loaded
  vim.cmd('normal s')
  H.wait(function()
    return vim.b.heph_loaded > loads
  end, 'the listing refreshes after s')
  -- the listing may refresh from the write's event before its reply's
  -- message arrives: wait for the message itself.
  H.wait(function()
    return H.message_matching('skipped %S+ "water plants"') ~= nil
  end, 's reports the task skipped')
  -- an earlier write's event may have refreshed the listing first: wait for the refresh after the skip
  H.wait(function()
    return line_of('water plants') == nil
  end, 'the skipped task left the list (its next occurrence is tomorrow)')
  vim.api.nvim_win_set_cursor(0, { line_of('plain white task'), 0 })
  H.messages = {}
  vim.cmd('normal s')
  H.wait(function()
    return H.message_matching('does not recur') ~= nil
  end, 's on a task that does not recur shows hephd\'s message')

  -- :Heph done in a context doc opened by id (not from the listing) finds
  -- its task through the doc's backlink.
  vim.api.nvim_win_set_cursor(0, { line_of('plain white task'), 0 })
  local task = require('heph.commands').task_under_cursor()
  local ctx = H.raw_call('context.get', { id = task.id }).result
  vim.cmd('Heph open ' .. ctx.id)
  H.wait(function()
    return vim.b.heph_id == ctx.id
  end, 'the context doc opens by id')
  H.messages = {}
  vim.cmd('Heph done')
  H.wait(function()
    return H.message_matching('done ' .. task.handle) ~= nil
  end, ':Heph done in a context doc marks its task done')
end)
