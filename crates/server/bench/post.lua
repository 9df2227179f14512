-- wrk script for the Porchlight load benchmark (see run.sh and README "Reliability").
-- Usage: wrk -t1 -c64 -d10s -s post.lua http://127.0.0.1:PORT/v1/sites/bench/<ratings|callbacks|noop>
-- Every request carries a fresh Idempotency-Key, so every durable post is a new row.

local bodies = {
  ratings = '{"value":"good","page":{"path":"/pricing","title":"Pricing"}}',
  callbacks = '{"name":"Bench Visitor","phone":"+371 2000 0000","note":"load test"}',
  noop = '{"value":"good","page":{"path":"/pricing","title":"Pricing"}}',
}

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local endpoint = wrk.path:match("([^/]+)$")
  body = bodies[endpoint] or error("unknown endpoint " .. wrk.path)
  math.randomseed(os.time() * 1000 + tid)
  -- A per-run, per-thread prefix: keys never repeat across threads or runs on one database.
  prefix = string.format("b%d-%d-%06d-", os.time(), tid, math.random(0, 999999))
  counter = 0
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. counter,
  }, body)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %s requests=%d errors=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    wrk.path, summary.requests, errors, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
