-- :Heph agenda lists the tasks due today or earlier, in task.next's order.
-- $HEPH_TEST_EXPECT is the JSON list of the expected handles.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  local want = vim.fn.json_decode(vim.env.HEPH_TEST_EXPECT)
  vim.cmd('Heph agenda')
  H.wait(function()
    return (vim.b.heph_loaded or 0) >= 1
  end, ':Heph agenda loads')
  local got = {}
  for _, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    got[#got + 1] = line:match('^(%S+)')
  end
  H.eq(got, want, ':Heph agenda lists the tasks due today or earlier, in order')

  -- after :bdelete the listing comes back with its keys
  vim.cmd('bdelete')
  local loads = vim.b[vim.fn.bufnr('heph:agenda')].heph_loaded or 0
  vim.cmd('Heph agenda')
  H.wait(function()
    return (vim.b.heph_loaded or 0) > loads
  end, ':Heph agenda after :bdelete loads again')
  H.check(vim.fn.maparg('d', 'n') ~= '', 'the listing keys are there after :bdelete')
  H.eq(vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]:match('^(%S+)'), want[1], 'the listing shows the tasks again')
end)
