-- wrk script of the benchmarks (bench/loadgen.py):
--   wrk ... -s bench/wrk/requests.lua http://127.0.0.1:PORT/ -- REQUESTS_FILE
-- Sends the requests of REQUESTS_FILE in rotation, one a line, tab-separated: method, target
-- (path and query string), If-None-Match ("-": none), body (may be empty); so GETs and
-- revalidations as well as POSTs, each formatted once at start. Counts the responses that carry
-- GraphQL errors, are compiled (X-Execution: compiled), come from the response cache (X-Cache:
-- hit) or are 304s, and prints the results as one JSON line starting with "WRK_RESULT ".

requests = {}
counter = 0
graphql_errors = 0
compiled = 0
cache_hits = 0
not_modified = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk ... -s requests.lua URL -- REQUESTS_FILE")
  end
  for line in io.lines(path) do
    if #line > 0 then
      local method, target, etag, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      if method == nil then
        error("not a request line: " .. line)
      end
      local headers = {}
      if etag ~= "-" then
        headers["If-None-Match"] = etag
      end
      if #body > 0 then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      requests[#requests + 1] = wrk.format(method, target, headers, body)
    end
  end
  if #requests == 0 then
    error("no requests in " .. path)
  end
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function response(status, headers, body)
  if status == 304 then
    not_modified = not_modified + 1
  elseif string.find(body, '"errors":', 1, true) then
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
  local errors, compiled_total, hits_total, not_modified_total = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    errors = errors + thread:get("graphql_errors")
    compiled_total = compiled_total + thread:get("compiled")
    hits_total = hits_total + thread:get("cache_hits")
    not_modified_total = not_modified_total + thread:get("not_modified")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"graphql_errors": %d, "compiled": %d, "cache_hits": %d, "not_modified": %d, '
      .. '"mean_us": %.1f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, errors, compiled_total, hits_total, not_modified_total, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
  ))
end
