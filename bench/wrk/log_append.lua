-- POST one log line to one mission: /api/missions/<BENCH_MISSION>/log
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local counter = 0

request = function()
  counter = counter + 1
  local body = string.format(
    '{"message":"wrk line %d","level":"info","data":{"n":%d}}', counter, counter)
  return wrk.format("POST", "/api/missions/" .. common.mission() .. "/log",
    common.headers(true), body)
end

done = common.summary()
