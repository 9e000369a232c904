-- heph://<id> buffers: edit + :w saves the body; a concurrent change is
-- not clobbered (warning, then the configured choice). $HEPH_TEST_ID is the
-- node to edit.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')
local heph = require('heph')

local function open(id)
  vim.cmd('Heph open ' .. id)
  H.wait(function()
    return vim.b.heph_id ~= nil
  end, 'the node buffer loads')
end

H.run(function()
  local id = vim.env.HEPH_TEST_ID
  open(id)
  H.eq(vim.api.nvim_buf_get_name(0), 'heph://' .. vim.b.heph_id, 'the buffer is named heph://<id>')
  H.eq(vim.bo.filetype, 'markdown', 'filetype markdown')
  H.eq(vim.api.nvim_buf_get_lines(0, 0, -1, false), { 'first line', 'second line' }, 'the body is shown')

  -- edit and :w
  vim.api.nvim_buf_set_lines(0, 1, 2, false, { 'changed in nvim', 'and a third' })
  vim.cmd('write')
  H.eq(vim.bo.modified, false, ':w clears modified')
  H.check(H.message_matching('saved') ~= nil, ':w reports saved')
  local got = H.raw_call('node.get', { id = id })
  H.eq(got.result.body, 'first line\nchanged in nvim\nand a third\n', 'the store has the new body')

  -- an edit, then a concurrent change (an unmodified buffer would simply
  -- reload it: live_spec.lua), then :w with on_conflict = cancel
  vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'my conflicting edit' })
  local other = H.raw_call('node.update', { id = id, body = 'changed elsewhere\n' })
  H.check(other and other.result ~= nil, 'the concurrent change was made', other)
  heph.config.on_conflict = 'cancel'
  vim.cmd('write')
  H.check(H.message_matching('changed in the store since you opened it') ~= nil, 'the conflict warning is shown')
  H.eq(vim.bo.modified, true, 'the buffer keeps its edits after cancel')
  got = H.raw_call('node.get', { id = id })
  H.eq(got.result.body, 'changed elsewhere\n', 'the concurrent change is not clobbered')

  -- the prompt's answer is injectable: reload takes the store's body
  local asked = nil
  heph.config.on_conflict = function(info)
    asked = info
    return 'reload'
  end
  vim.cmd('write')
  H.eq(asked and asked.id, got.result.id, 'on_conflict gets the node id')
  H.eq(vim.api.nvim_buf_get_lines(0, 0, -1, false), { 'changed elsewhere' }, 'reload shows the store body')
  H.eq(vim.bo.modified, false, 'reload leaves the buffer unmodified')

  -- after a reload, :w saves normally again; overwrite after another change
  H.raw_call('node.update', { id = id, body = 'third party\n' })
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'mine wins' })
  heph.config.on_conflict = 'overwrite'
  vim.cmd('write')
  got = H.raw_call('node.get', { id = id })
  H.eq(got.result.body, 'mine wins\n', 'overwrite replaces the store body')
  H.eq(vim.bo.modified, false, 'overwrite clears modified')

  -- a big body (many socket reads) round-trips, and :e! reloads it
  local big = {}
  for i = 1, 5000 do
    big[i] = ('line %04d %s'):format(i, string.rep('é', 40))
  end
  heph.config.on_conflict = 'cancel'
  vim.api.nvim_buf_set_lines(0, 0, -1, false, big)
  vim.cmd('write')
  H.eq(vim.bo.modified, false, 'the big body is saved')
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'scratch' })
  vim.bo.modified = false
  vim.cmd('edit!')
  H.wait(function()
    return vim.api.nvim_buf_line_count(0) == 5000
  end, ':e! reloads the big body from hephd')
  H.eq(vim.api.nvim_buf_get_lines(0, 4999, 5000, false)[1], big[5000], 'the last line survives the round trip')
end)
