-- wrk script: one SDK install per request (~330 bytes of JSON), a unique device id per request
-- (thread number + counter), keep-alive. Path and key come from the environment.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function init(args)
  path = os.getenv("ATD_BENCH_PATH") or "/"
  counter = 0
  wrk.headers["Content-Type"] = "application/json"
  local key = os.getenv("ATD_BENCH_KEY")
  if key and key ~= "" then wrk.headers["X-Sdk-Key"] = key end
end

function request()
  counter = counter + 1
  local id = tid .. "-" .. counter
  local body = '{"type":"install","device_id":"dev-' .. id .. '","event_id":"ev-' .. id ..
    '","platform":"android","os_version":"14","device_model":"Pixel 8 Pro",' ..
    '"app_version":"3.2.1","advertising_id":"3f2504e0-4f89-11d3-9a0c-0305e82c' ..
    string.format("%04d", counter % 10000) .. '","ip":"203.0.113.7",' ..
    '"user_agent":"Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/UD1A.230803.041)"}'
  return wrk.format("POST", path, nil, body)
end
