-- heph.nvim entry point: the :Heph command and the heph:// buffers.
if vim.g.loaded_heph then
  return
end
vim.g.loaded_heph = true

vim.api.nvim_create_user_command('Heph', function(opts)
  require('heph.commands').run(opts)
end, {
  nargs = '*',
  desc = 'heph: tasks and notes from hephd',
  complete = function(arglead, cmdline)
    return require('heph.commands').complete(arglead, cmdline)
  end,
})

local group = vim.api.nvim_create_augroup('heph', { clear = true })
vim.api.nvim_create_autocmd('BufReadCmd', {
  group = group,
  pattern = 'heph://*',
  callback = function(ev)
    require('heph.buffers').on_read(ev.buf)
  end,
})
vim.api.nvim_create_autocmd('BufWriteCmd', {
  group = group,
  pattern = 'heph://*',
  callback = function(ev)
    require('heph.buffers').on_write(ev.buf)
  end,
})
vim.api.nvim_create_autocmd('BufWipeout', {
  group = group,
  pattern = 'heph:*',
  callback = function(ev)
    require('heph.buffers').state[ev.buf] = nil
    require('heph.commands').listings[ev.buf] = nil
  end,
})
vim.api.nvim_create_autocmd('BufWinEnter', {
  group = group,
  pattern = 'heph://*',
  callback = function(ev)
    if vim.b[ev.buf].heph_stale then
      vim.wo.statusline = require('heph.live').statusline
    end
  end,
})
