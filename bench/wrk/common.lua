-- Shared by the bench's wrk scripts: the token and mission come from the environment
-- (BENCH_TOKEN, BENCH_MISSION), set by bench/scenarios/rest.py.
local M = {}

function M.headers(json)
  local headers = { ["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN") }
  if json then
    headers["Content-Type"] = "application/json"
  end
  return headers
end

function M.mission()
  return os.getenv("BENCH_MISSION")
end

-- Count responses that are not 2xx; wrk prints them as "Non-2xx or 3xx responses".
function M.summary()
  return function(summary, latency, requests)
    io.write(string.format("BENCH_RESULT requests=%d errors_status=%d\n",
      summary.requests, summary.errors.status))
  end
end

return M
