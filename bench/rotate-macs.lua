-- wrk script: each request comes from one of 10,000 devices (distinct STA MACs), as a fleet would poll.
local counter = 0
request = function()
  counter = counter + 1
  local n = counter % 10000
  wrk.headers["x-ESP8266-STA-MAC"] = string.format("5C:CF:7F:00:%02X:%02X", math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil)
end
