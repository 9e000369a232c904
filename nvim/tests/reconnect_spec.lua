-- The connection reopens by itself after hephd restarts.
local H = dofile(vim.env.HEPH_NVIM_TESTS .. '/harness.lua')

H.run(function()
  vim.cmd('Heph task before the restart')
  H.wait(function()
    return H.message_matching('created') ~= nil
  end, 'a task is created over the first connection')
  H.eq((require('heph.rpc').status()), 'connected', 'the client is connected')
  H.sync('restart')
  H.messages = {}
  vim.cmd('Heph task after the restart')
  H.wait(function()
    return #H.messages > 0
  end, 'the command after the restart answers')
  H.check(H.message_matching('created %S+ "after the restart"') ~= nil, 'the command after the restart succeeds', H.messages)
end)
