-- wrk script: each request comes from the next of DEVICES boards (distinct STA MACs 5C:CF:7F:xx:xx:xx, taking
-- turns), as a fleet polls. DEVICES defaults to 10,000; OFFSET starts the turn elsewhere.
local devices = tonumber(os.getenv("DEVICES") or "10000")
local counter = tonumber(os.getenv("OFFSET") or "0")
request = function()
  local n = counter % devices
  counter = counter + 1
  wrk.headers["x-ESP8266-STA-MAC"] = string.format("5C:CF:7F:%02X:%02X:%02X",
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil)
end
