-- POST one state report (12 motors) for one robot: /api/hardware/robots/<BENCH_ROBOT>/state
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local motors = {}
for i = 0, 11 do
  motors[#motors + 1] = string.format(
    '{"motor_id":%d,"angle":0.1,"velocity":0.0,"torque":1.5,"temperature":35.0}', i)
end
local motor_states = "[" .. table.concat(motors, ",") .. "]"
local counter = 0

request = function()
  counter = counter + 1
  local body = string.format(
    '{"battery_voltage":24.%d,"battery_percentage":%d,"motor_states":%s,'
      .. '"imu_data":{"roll":0.01,"pitch":0.02,"yaw":%d}}',
    counter % 10, 50 + counter % 50, motor_states, counter % 360)
  return wrk.format("POST", "/api/hardware/robots/" .. os.getenv("BENCH_ROBOT") .. "/state",
    common.headers(true), body)
end

done = common.summary()
