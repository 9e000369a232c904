-- :Heph add (task.quickadd), :Heph today (the day's journal, created by
-- its first :w), gp (promote a checklist item), :Heph journals.
-- $HEPH_TEST_TEXT is the quick-add text.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  vim.cmd('Heph add ' .. vim.env.HEPH_TEST_TEXT)
  H.wait(function()
    return H.message_matching('created %S+ "Water plants"') ~= nil
  end, ':Heph add creates the task')

  -- Reading today's journal creates nothing.
  vim.cmd('Heph today')
  H.wait(function()
    return (vim.b.heph_loaded or 0) >= 1
  end, ':Heph today loads')
  H.check(vim.api.nvim_buf_get_name(0):match('^heph://journal/%d%d%d%d%-%d%d%-%d%d$') ~= nil, 'the buffer is heph://journal/DATE',
    vim.api.nvim_buf_get_name(0))
  local got = H.raw_call('journal.get', vim.empty_dict())
  H.check(got.result.node == vim.NIL, 'reading did not create the journal', got)

  -- The first :w creates it.
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'Met Bob', '- [ ] Buy seeds tomorrow' })
  vim.cmd('write')
  got = H.raw_call('journal.get', vim.empty_dict())
  H.eq(got.result.node.body, 'Met Bob\n- [ ] Buy seeds tomorrow\n', ':w created the journal with the text')
  H.check(not vim.bo.modified, 'the buffer is saved')

  -- A second :w updates it (node.update).
  vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'Met Bob and Ann' })
  vim.cmd('write')
  got = H.raw_call('journal.get', vim.empty_dict())
  H.eq(got.result.node.body, 'Met Bob and Ann\n- [ ] Buy seeds tomorrow\n', 'a second :w saved the edit')

  -- gp on the checklist item promotes it.
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd('normal gp')
  H.wait(function()
    return (vim.api.nvim_buf_get_lines(0, 1, 2, false)[1] or ''):find('[[Buy seeds]]', 1, true) ~= nil
  end, 'gp replaced the item with a link to the new task')
  H.check(H.message_matching('from item 1') ~= nil, 'gp says which task it created')
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('normal gp')
  H.wait(function()
    return H.message_matching('not on a checklist item') ~= nil
  end, 'gp off a checklist item says so')

  -- :Heph journals lists the day.
  vim.cmd('Heph journals')
  H.wait(function()
    return #vim.fn.getqflist() == 1
  end, ':Heph journals lists the one journal')
  H.check((vim.fn.getqflist()[1].text or ''):find('Met Bob and Ann', 1, true) ~= nil, 'the entry shows its first line',
    vim.fn.getqflist())
end)
