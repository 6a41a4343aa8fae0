-- wrk script: each request comes from the next of DEVICES boards (distinct STA MACs 5C:CF:7F:xx:xx:xx, taking
-- turns), as a fleet polls. DEVICES defaults to 10,000; OFFSET starts the turn elsewhere. PACE_MS, when set, makes
-- each connection wait that long before each request (an offered load instead of as fast as the server answers;
-- wrk measures latency from when the request is sent, so the wait is not counted).
local devices = tonumber(os.getenv("DEVICES") or "10000")
local counter = tonumber(os.getenv("OFFSET") or "0")
local pace = tonumber(os.getenv("PACE_MS") or "0")
if pace > 0 then
  delay = function()
    return pace
  end
end
request = function()
  local n = counter % devices
  counter = counter + 1
  wrk.headers["x-ESP8266-STA-MAC"] = string.format("5C:CF:7F:%02X:%02X:%02X",
    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil)
end
