-- wrk script: each request takes the next line of a file of pre-minted requests, so every
-- single-use credential (authorization code, refresh token) is sent exactly once.
--
--   wrk -t THREADS ... -s walk.lua URL -- FILE METHOD DELAY_MS THREADS WRAP
--
-- A line is "<Authorization header value>\t<form body>" (an empty body for GET), optionally
-- followed by more fields, "\t<Name>: <value>" each, sent as further headers (a DPoP proof,
-- which is single use like a code: its own line per request). With several
-- wrk threads, thread i takes lines i, i+n, i+2n, ... WRAP=1 starts over at the end (for
-- reusable credentials such as access tokens); otherwise a thread that runs out of lines
-- stops, and "exhausted_threads" says so: that run measured fewer requests than it could.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, method = args[1], args[2]
  delay_ms = tonumber(args[3])
  if delay_ms == 0 then
    delay = nil -- no per-request timer at all for closed-loop runs
  end
  local nthreads, count = tonumber(args[4]), 0
  wrap = args[5] == "1"
  requests, position, exhausted = {}, 0, 0
  for line in io.lines(path) do
    if count % nthreads == id then
      local fields = {}
      for field in (line .. "\t"):gmatch("([^\t]*)\t") do
        table.insert(fields, field)
      end
      local auth, body = fields[1], fields[2] or ""
      local headers = {}
      if auth ~= "" then headers["Authorization"] = auth end
      for i = 3, #fields do
        local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
        if name then headers[name] = value end
      end
      if method == "POST" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      else
        body = nil
      end
      table.insert(requests, wrk.format(method, wrk.path, headers, body))
    end
    count = count + 1
  end
end

function delay()
  return delay_ms
end

function request()
  position = position + 1
  if position > #requests and wrap then
    position = 1
  elseif position > #requests then
    exhausted = 1
    wrk.thread:stop()
    position = #requests
  end
  return requests[position]
end

function done(summary, latency, requests_stats)
  local stopped = 0
  for _, thread in ipairs(threads) do
    stopped = stopped + (thread:get("exhausted") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, '
      .. '"socket_errors": %d, "timeouts": %d, "exhausted_threads": %d, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write, errors.timeout, stopped,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
