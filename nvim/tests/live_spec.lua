-- Live changes: with :Heph next open, a task made with the CLI shows up
-- within 500 ms without a keypress; an unmodified heph:// buffer reloads
-- when its node changes elsewhere; a modified one warns in its status
-- line. nvim_test.go acts at each H.sync point and writes the wall-clock
-- time (µs) of the change's commit to $HEPH_TEST_STAMPS/<name>.at.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

local function now_us()
  local s, us = (vim.uv or vim.loop).gettimeofday()
  return s * 1000000 + us
end

-- committed_at reads the time the test made the change.
local function committed_at(name)
  local lines = vim.fn.readfile(vim.env.HEPH_TEST_STAMPS .. '/' .. name .. '.at')
  return tonumber(lines[1])
end

local function listing_has(bufnr, text)
  for _, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l:find(text, 1, true) then
      return true
    end
  end
  return false
end

H.run(function()
  vim.cmd('Heph next')
  local list = vim.api.nvim_get_current_buf()
  H.wait(function()
    return (vim.b[list].heph_loaded or 0) >= 1
  end, ':Heph next loads')
  H.check(listing_has(list, 'already there'), 'the listing shows the existing task')
  H.wait(function()
    return require('heph.live').subscribed
  end, 'heph.nvim subscribed to events')

  -- A task made with the CLI appears with no keypress, within 500 ms.
  H.sync('cli_task')
  local at = committed_at('cli_task')
  H.wait(function()
    return listing_has(list, 'made with the CLI')
  end, 'the CLI task appears in :Heph next', 2000)
  local took_ms = (now_us() - at) / 1000
  io.stdout:write(('LATENCY_MS=%.1f\n'):format(took_ms))
  H.check(took_ms <= 500, 'the CLI task appeared within 500 ms of its commit', took_ms)

  -- A task whose do date comes in a moment joins the list at that time
  -- (a tick event), with no write and no keypress.
  H.sync('do_soon')
  H.wait(function()
    return listing_has(list, 'due in a moment')
  end, 'the task joins :Heph next when its do date comes (tick)', 5000)

  -- An unmodified node buffer reloads when its node changes elsewhere.
  vim.cmd('Heph open ' .. vim.env.HEPH_TEST_ID)
  H.wait(function()
    return vim.b.heph_id ~= nil
  end, 'the doc buffer loads')
  local doc = vim.api.nvim_get_current_buf()
  H.eq(vim.api.nvim_buf_get_lines(doc, 0, -1, false), { 'original body' }, 'the doc shows its body')
  H.sync('edit_doc')
  H.wait(function()
    return vim.api.nvim_buf_get_lines(doc, 0, -1, false)[1] == 'changed by another client'
  end, 'the unmodified buffer reloads the other client\'s change', 2000)
  H.eq(vim.bo[doc].modified, false, 'the reloaded buffer is unmodified')
  H.eq(vim.b[doc].heph_stale, nil, 'no warning on a reloaded buffer')

  -- A modified one keeps its edits and warns in its status line.
  vim.api.nvim_buf_set_lines(doc, 0, -1, false, { 'my unsaved edit' })
  H.sync('edit_doc_again')
  H.wait(function()
    return vim.b[doc].heph_stale == true
  end, 'the modified buffer is flagged', 2000)
  H.eq(vim.api.nvim_buf_get_lines(doc, 0, -1, false), { 'my unsaved edit' }, 'the edits are kept')
  -- (without colours, nvim fills the current status line with '^')
  local sl = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str:gsub('%^', ' ')
  H.check(sl:find('changed elsewhere', 1, true) ~= nil, 'the status line warns', sl)
  H.check(H.message_matching('changed in the store since you opened it') ~= nil, 'a warning is shown once')

  -- :w still follows the conflict rules; overwriting clears the warning.
  require('heph').config.on_conflict = 'overwrite'
  vim.cmd('write')
  H.eq(vim.b[doc].heph_stale, nil, 'saving clears the warning')
  sl = vim.api.nvim_eval_statusline(vim.wo.statusline ~= '' and vim.wo.statusline or '%f', {}).str:gsub('%^', ' ')
  H.check(sl:find('changed elsewhere', 1, true) == nil, 'the status line no longer warns', sl)
  local got = H.raw_call('node.get', { id = vim.env.HEPH_TEST_ID })
  H.eq(got.result.body, 'my unsaved edit\n', 'the overwrite was saved')
  -- our own save is not taken for a change elsewhere
  vim.wait(300, function()
    return false
  end, 10)
  H.eq(vim.b[doc].heph_stale, nil, 'our own save raises no warning')
end)
