-- Task rows exactly as `heph next` prints them (output.go's taskCells and
-- table, dates.go's formatRelative and formatLate), so the listing buffer
-- and the CLI agree line for line.
local M = {}

local function nonnull(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

-- civil_day numbers calendar days (0 = 1970-01-01), as dates.go does.
local function civil_day(y, m, d)
  if m <= 2 then
    y = y - 1
  end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- parse_time turns an RFC 3339 time into Unix seconds (with fraction), or nil.
function M.parse_time(s)
  s = nonnull(s)
  if type(s) ~= 'string' then
    return nil
  end
  local y, mo, d, h, mi, sec, rest = s:match('^(%d+)-(%d+)-(%d+)[Tt ](%d+):(%d+):(%d+)(.*)$')
  if not y then
    return nil
  end
  local frac, zone = rest:match('^(%.%d+)(.*)$')
  if not frac then
    frac, zone = '0', rest
  end
  local off = 0
  if zone ~= 'Z' and zone ~= 'z' then
    local sign, oh, om = zone:match('^([+-])(%d+):(%d+)$')
    if not sign then
      return nil
    end
    off = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == '-' and -1 or 1)
  end
  local days = civil_day(tonumber(y), tonumber(mo), tonumber(d))
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec) + tonumber(frac) - off
end

-- local_day is the civil day number of epoch in the local time zone.
function M.local_day(epoch)
  local t = os.date('*t', math.floor(epoch))
  return civil_day(t.year, t.month, t.day)
end

-- relative is dates.go's formatRelative: "today", "tomorrow", "in 3d",
-- "2w ago", or the local date beyond eight weeks.
function M.relative(epoch, now)
  local days = M.local_day(epoch) - M.local_day(now)
  local abs = math.abs(days)
  local span
  if days == 0 then
    return 'today'
  elseif days == 1 then
    return 'tomorrow'
  elseif days == -1 then
    return 'yesterday'
  elseif abs < 14 then
    span = abs .. 'd'
  elseif abs <= 56 then
    span = math.floor((abs + 3) / 7) .. 'w'
  else
    return os.date('%Y-%m-%d', math.floor(epoch))
  end
  if days > 0 then
    return 'in ' .. span
  end
  return span .. ' ago'
end

-- late is dates.go's formatLate: how late a past late date is, else ''.
function M.late(epoch, now)
  local d = now - epoch
  if d <= 0 then
    return ''
  end
  local day = 86400
  if d < 60 then
    return '<1min late'
  elseif d < 3600 then
    return math.floor(d / 60) .. 'min late'
  elseif d < day then
    return math.floor(d / 3600) .. 'h late'
  elseif d < 14 * day then
    return math.floor(d / day) .. 'd late'
  elseif d < 365 * day then
    return math.floor(d / (7 * day)) .. 'w late'
  end
  return math.floor(d / (365 * day)) .. 'y late'
end

-- cells is output.go's taskCells: handle, attention, do, late, project,
-- tags, title.
function M.cells(n, now)
  local t = nonnull(n.task)
  if not t then
    return { n.handle or '', '', '', '', '', '', n.title or '' }
  end
  local doat, lateat = M.parse_time(t['do']), M.parse_time(t.late)
  local do_s = doat and ('do ' .. M.relative(doat, now)) or ''
  local late_s = ''
  if lateat then
    local l = M.late(lateat, now)
    if l ~= '' and t.state == 'outstanding' then
      late_s = l
    else
      late_s = 'late ' .. M.relative(lateat, now)
    end
  end
  local tags = {}
  for i, g in ipairs(nonnull(t.tags) or {}) do
    tags[i] = '+' .. g
  end
  local title = n.title or ''
  local recur = nonnull(t.recur)
  if recur and recur ~= '' then
    title = title .. ' ↻'
  end
  return { n.handle or '', nonnull(t.attention) or '', do_s, late_s, nonnull(t.project) or '', table.concat(tags, ' '), title }
end

-- table_lines is output.go's table without colour: columns padded to their
-- widest cell plus two spaces, columns empty in every row dropped, the last
-- column unpadded, trailing spaces trimmed.
function M.table_lines(rows)
  local widths = {}
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do
      local w = vim.fn.strchars(c)
      widths[i] = widths[i] or 0
      if w > widths[i] then
        widths[i] = w
      end
    end
  end
  local last = 0
  for i, w in ipairs(widths) do
    if w > 0 then
      last = i
    end
  end
  local out = {}
  for _, r in ipairs(rows) do
    local parts = {}
    for i, c in ipairs(r) do
      if widths[i] > 0 then
        if i < last then
          c = c .. string.rep(' ', widths[i] - vim.fn.strchars(c) + 2)
        end
        parts[#parts + 1] = c
      end
    end
    out[#out + 1] = (table.concat(parts):gsub(' +$', ''))
  end
  return out
end

-- task_lines formats tasks as `heph next` does at time now (Unix seconds).
function M.task_lines(tasks, now)
  now = now or os.time()
  local rows = {}
  for i, n in ipairs(tasks) do
    rows[i] = M.cells(n, now)
  end
  return M.table_lines(rows)
end

return M
