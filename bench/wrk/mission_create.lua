-- POST a new mission: /api/missions
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local counter = 0

request = function()
  counter = counter + 1
  local body = string.format(
    '{"name":"wrk mission %d","description":"made by wrk","priority":20}', counter)
  return wrk.format("POST", "/api/missions", common.headers(true), body)
end

done = common.summary()
