-- GET the bench-only plain Django JSON view: /bench/plain (the REST baseline).
-- It sends the same token header as the API scripts; the view does not read it.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

request = function()
  return wrk.format("GET", "/bench/plain", common.headers(false))
end

done = common.summary()
