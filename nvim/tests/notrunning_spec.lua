-- With no daemon, commands give the one clear message (and no traceback).
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  local want = 'hephd is not running (no socket at ' .. vim.env.HEPH_SOCKET .. '). Start it with: heph daemon start'
  for _, cmd in ipairs({ 'Heph next', 'Heph task buy milk', 'Heph open 01ABC' }) do
    H.messages = {}
    vim.cmd(cmd)
    H.wait(function()
      return #H.messages > 0
    end, cmd .. ' reports')
    H.eq(#H.messages, 1, cmd .. ' gives exactly one message')
    H.eq(H.messages[1] and H.messages[1].msg, 'heph: ' .. want, cmd .. ' says how to start hephd')
    H.eq(H.messages[1] and H.messages[1].level, vim.log.levels.ERROR, cmd .. ' reports an error')
  end

  vim.cmd('checkhealth heph')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  H.check(text:find('no socket at ' .. vim.env.HEPH_SOCKET, 1, true) ~= nil, ':checkhealth heph says the socket is missing', text)
  H.check(text:find('heph daemon start', 1, true) ~= nil, ':checkhealth heph says how to start hephd', text)
end)
