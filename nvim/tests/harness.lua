-- Test harness for heph.nvim's headless tests (run by nvim_test.go):
-- records notifications, offers a raw second RPC client, and ends nvim
-- with a non-zero status when any check failed.
local H = { failures = 0, messages = {} }

local function out(s)
  io.stdout:write(s .. '\n')
  io.stdout:flush()
end

local real_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(H.messages, { msg = msg, level = level or vim.log.levels.INFO })
  out(('notify[%s]: %s'):format(tostring(level), msg))
  return real_notify(msg, level, opts)
end

-- check records one assertion.
function H.check(cond, what, detail)
  if cond then
    out('ok   ' .. what)
  else
    H.failures = H.failures + 1
    out('FAIL ' .. what .. (detail and (': ' .. vim.inspect(detail)) or ''))
  end
  return cond
end

-- eq checks got == want.
function H.eq(got, want, what)
  return H.check(vim.deep_equal(got, want), what, { got = got, want = want })
end

-- wait polls cond for up to ms milliseconds and checks it became true.
function H.wait(cond, what, ms)
  local ok = vim.wait(ms or 5000, cond, 10)
  return H.check(ok, what)
end

-- message_matching returns the first recorded notification matching pat.
function H.message_matching(pat)
  for _, m in ipairs(H.messages) do
    if m.msg:find(pat) then
      return m
    end
  end
  return nil
end

-- raw_call makes one RPC on its own connection (another client) and
-- returns the decoded reply.
function H.raw_call(method, params)
  local got = nil
  local buf = ''
  local ch = vim.fn.sockconnect('pipe', vim.env.HEPH_SOCKET, {
    on_data = function(_, data)
      buf = buf .. table.concat(data, '\n')
      if buf:find('\n') then
        got = buf:sub(1, buf:find('\n') - 1)
      end
    end,
  })
  vim.fn.chansend(ch, vim.fn.json_encode({ jsonrpc = '2.0', id = 1, method = method, params = params }) .. '\n')
  vim.wait(5000, function()
    return got ~= nil
  end, 10)
  vim.fn.chanclose(ch)
  if not got then
    return nil
  end
  return vim.fn.json_decode(got)
end

-- sync hands control to nvim_test.go at a named point: it writes
-- $HEPH_TEST_SYNC/<name>.ready and waits for <name>.go, which the test
-- writes after acting (restarting hephd, changing a node, ...).
function H.sync(name, ms)
  local dir = vim.env.HEPH_TEST_SYNC
  vim.fn.writefile({}, dir .. '/' .. name .. '.ready')
  return H.wait(function()
    return vim.fn.filereadable(dir .. '/' .. name .. '.go') == 1
  end, 'the test acted at ' .. name, ms or 20000)
end

-- run calls fn, reports an error in it as a failure, and quits nvim with
-- the outcome.
function H.run(fn)
  local ok, err = xpcall(fn, debug.traceback)
  if not ok then
    H.failures = H.failures + 1
    out('FAIL test script error: ' .. tostring(err))
  end
  if H.failures > 0 then
    out(('%d check(s) failed'):format(H.failures))
    vim.cmd('cquit 1')
  else
    out('all checks passed')
    vim.cmd('qall!')
  end
end

return H
