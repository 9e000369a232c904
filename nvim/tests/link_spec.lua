-- gf on [[…]] opens the link's target; :Heph links lists backlinks;
-- :Heph search fills the quickfix list. $HEPH_TEST_ID is a doc whose body
-- links to $HEPH_TEST_TARGET by id (line 1), by title in another case with
-- a label (line 2) and by handle (line 3); line 4 links to nothing.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

local function gf_on(lnum)
  local line = vim.api.nvim_buf_get_lines(0, lnum - 1, lnum, false)[1]
  vim.api.nvim_win_set_cursor(0, { lnum, line:find('[[', 1, true) + 3 })
  vim.cmd('normal gf')
end

H.run(function()
  local src, dst = vim.env.HEPH_TEST_ID, vim.env.HEPH_TEST_TARGET
  vim.cmd('Heph open ' .. src)
  H.wait(function()
    return vim.b.heph_id == src
  end, 'the source doc loads')
  local src_buf = vim.api.nvim_get_current_buf()

  for lnum, how in ipairs({ '[[id]]', '[[title|label]] (other case)', '[[handle]]' }) do
    vim.api.nvim_set_current_buf(src_buf)
    gf_on(lnum)
    H.wait(function()
      return vim.b.heph_id == dst
    end, 'gf on ' .. how .. ' opens the target')
  end
  H.eq(vim.api.nvim_get_current_line(), 'I am the target.', 'the target buffer shows its body')

  vim.api.nvim_set_current_buf(src_buf)
  H.messages = {}
  gf_on(4)
  H.wait(function()
    return H.message_matching('names no node') ~= nil
  end, 'gf on a link to nothing says so')
  H.eq(vim.b.heph_id, src, 'gf on a link to nothing stays put')

  -- in the target, :Heph links lists the source as a backlink
  vim.api.nvim_set_current_buf(vim.fn.bufnr('heph://' .. dst))
  vim.cmd('Heph links')
  H.wait(function()
    return #vim.fn.getqflist() > 0
  end, ':Heph links fills the quickfix list')
  local qf = vim.fn.getqflist()
  H.eq(#qf, 1, 'one backlink')
  H.eq(qf[1] and vim.fn.bufname(qf[1].bufnr), 'heph://' .. src, 'the backlink is the source doc')

  -- :Heph search puts the hits in the quickfix list; an entry opens its node
  vim.fn.setqflist({}, 'r')
  vim.cmd('Heph search target')
  H.wait(function()
    return #vim.fn.getqflist() > 0
  end, ':Heph search fills the quickfix list')
  qf = vim.fn.getqflist()
  local names = {}
  for _, e in ipairs(qf) do
    names[vim.fn.bufname(e.bufnr)] = true
  end
  H.check(names['heph://' .. dst], 'the search hits include the target', names)
  vim.cmd('cfirst')
  H.wait(function()
    return vim.b.heph_id ~= nil
  end, 'a search hit opens as a node buffer')
end)
