-- Socket resolution, the same rules as the CLI's paths.go:
-- $HEPH_SOCKET, else $XDG_RUNTIME_DIR/heph/hephd.sock, else
-- ~/.local/share/heph/hephd.sock. A configured `socket` option wins.
local M = {}

local function getenv(name)
  local v = vim.env[name]
  if v == nil or v == '' then
    return nil
  end
  return v
end

-- socket returns the socket path and the rule that chose it.
function M.socket(config)
  if config and config.socket and config.socket ~= '' then
    return vim.fn.fnamemodify(config.socket, ':p'), "setup{ socket = ... }"
  end
  local s = getenv('HEPH_SOCKET')
  if s then
    return vim.fn.fnamemodify(s, ':p'), '$HEPH_SOCKET'
  end
  local rt = getenv('XDG_RUNTIME_DIR')
  if rt then
    return rt .. '/heph/hephd.sock', '$XDG_RUNTIME_DIR'
  end
  local home = getenv('HOME')
  if not home then
    return nil, 'neither XDG_RUNTIME_DIR nor HOME is set (set HEPH_SOCKET)'
  end
  return home .. '/.local/share/heph/hephd.sock', '$HOME'
end

return M
