-- :checkhealth heph reports the socket, the daemon version and the
-- protocol; prints the report for nvim_test.go.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  vim.cmd('checkhealth heph')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  io.stdout:write('HEALTH>>\n' .. text .. '\n<<HEALTH\n')
  H.check(text:find('socket found', 1, true) ~= nil, 'health finds the socket')
  H.check(text:find('protocol 1: compatible', 1, true) ~= nil, 'health checks the protocol')
end)
