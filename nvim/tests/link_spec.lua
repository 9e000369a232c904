-- gf on [[…]] opens the link's target; :Heph links lists backlinks.
-- $HEPH_TEST_ID is a doc whose body links to $HEPH_TEST_TARGET on line 1
-- by id and on line 2 by title.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  local src, dst = vim.env.HEPH_TEST_ID, vim.env.HEPH_TEST_TARGET
  vim.cmd('Heph open ' .. src)
  H.wait(function()
    return vim.b.heph_id == src
  end, 'the source doc loads')
  local src_buf = vim.api.nvim_get_current_buf()

  local line = vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]
  vim.api.nvim_win_set_cursor(0, { 1, line:find('[[', 1, true) + 3 })
  vim.cmd('normal gf')
  H.wait(function()
    return vim.b.heph_id == dst
  end, 'gf on [[id]] opens the target')

  vim.api.nvim_set_current_buf(src_buf)
  line = vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]
  vim.api.nvim_win_set_cursor(0, { 2, line:find('[[', 1, true) + 3 })
  vim.cmd('normal gf')
  H.wait(function()
    return vim.b.heph_id == dst
  end, 'gf on [[Title|label]] opens the target')

  -- in the target, :Heph links lists the source as a backlink
  vim.cmd('Heph links')
  H.wait(function()
    return #vim.fn.getqflist() > 0
  end, ':Heph links fills the quickfix list')
  local qf = vim.fn.getqflist()
  H.eq(qf[1] and vim.fn.bufname(qf[1].bufnr), 'heph://' .. src, 'the backlink is the source doc')
end)
