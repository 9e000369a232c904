-- :Heph next lists the tasks in task.next's order and columns; `d` marks
-- the task under the cursor done. Expectations come from nvim_test.go in
-- $HEPH_TEST_EXPECT (a JSON list of {handle, attention, project, title}).
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  local want = vim.fn.json_decode(vim.env.HEPH_TEST_EXPECT)
  vim.cmd('Heph next')
  H.wait(function()
    return (vim.b.heph_loaded or 0) >= 1
  end, ':Heph next loads')
  H.eq(vim.api.nvim_buf_get_name(0):match('heph:next$') ~= nil, true, 'the listing buffer is heph:next')
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  H.eq(#lines, #want, 'one line per task')
  for i, w in ipairs(want) do
    local line = lines[i] or ''
    local handle, attention, doat, late, project = line:match('^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)%s+(%S+)')
    H.eq(handle, w.handle, ('line %d handle'):format(i))
    H.eq(attention, w.attention, ('line %d attention'):format(i))
    H.eq(doat, w['do'], ('line %d do'):format(i))
    H.eq(late, w.late, ('line %d late'):format(i))
    H.eq(project, w.project, ('line %d project'):format(i))
    H.check(line:sub(-#w.title) == w.title, ('line %d ends with the title'):format(i), line)
  end

  -- `d` on the first line marks it done and the list refreshes without it.
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  local loads = vim.b.heph_loaded
  vim.cmd('normal d')
  H.wait(function()
    return vim.b.heph_loaded > loads
  end, 'the listing refreshes after d')
  H.check(H.message_matching('done ' .. want[1].handle) ~= nil, 'd reports the task done')
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
  H.check(H.message_matching('done ' .. want[2].handle) ~= nil, ':Heph done reports the task done')

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
end)
