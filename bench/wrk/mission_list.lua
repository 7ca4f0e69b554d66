-- GET a page of 50 missions: /api/missions?page_size=50
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

request = function()
  return wrk.format("GET", "/api/missions?page_size=50", common.headers(false))
end

done = common.summary()
