-- wrk script for the load benchmark (bench/load.py):
--   wrk ... -s bench/wrk/rotate.lua http://127.0.0.1:PORT/path -- BODIES_FILE
-- POSTs the JSON bodies of BODIES_FILE (one a line) in rotation, counts the responses that
-- carry GraphQL errors, are compiled (X-Execution: compiled) or come from the response cache
-- (X-Cache: hit), and prints the results as one JSON line starting with "WRK_RESULT ".

-- Globals, not locals: done() reads each thread's counters with thread:get(name).
bodies = {}
counter = 0
graphql_errors = 0
compiled = 0
cache_hits = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk ... -s rotate.lua URL -- BODIES_FILE")
  end
  for line in io.lines(path) do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  if #bodies == 0 then
    error("no request bodies in " .. path)
  end
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if string.find(body, '"errors":', 1, true) then
    graphql_errors = graphql_errors + 1
  end
  for name, value in pairs(headers) do
    local lower = string.lower(name)
    if lower == "x-execution" and value == "compiled" then
      compiled = compiled + 1
    elseif lower == "x-cache" and value == "hit" then
      cache_hits = cache_hits + 1
    end
  end
end

function done(summary, latency, requests)
  local errors, compiled_total, hits_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("graphql_errors")
    compiled_total = compiled_total + thread:get("compiled")
    hits_total = hits_total + thread:get("cache_hits")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"graphql_errors": %d, "compiled": %d, "cache_hits": %d, "mean_us": %.1f, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, errors, compiled_total, hits_total, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
  ))
end
