-- wrk script for bench/run: every request carries one Range from a list fixed in advance, so
-- that every server is asked exactly the same windows in the same order.
--
--   wrk -s bench/ranges.lua URL -- file LIST
--       LIST: one Range header value per line ("bytes=a-b"); a line "-" sends no Range.
--   wrk -s bench/ranges.lua URL -- lcg SIZE LENGTH SEED COUNT [ALIGN]
--       COUNT windows of LENGTH bytes at random offsets within a SIZE-byte file, drawn from
--       the MINSTD generator seeded with SEED (bench/run writes its lists with the same
--       generator, so both forms give the same ranges); ALIGN rounds offsets down to a multiple.
--
-- done() prints one line "BENCH {json}" that bench/run parses: requests, bytes, errors, latency.

local thread_count = 0

function setup(thread)
   thread:set("thread_id", thread_count)
   thread_count = thread_count + 1
end

-- MINSTD (Park-Miller, multiplier 48271): the products stay below 2^53, exact in LuaJIT doubles.
local function minstd(state)
   return (state * 48271) % 2147483647
end

-- Two draws per window (high and low 31 bits) reach anywhere in a multi-GiB file while every
-- intermediate stays below 2^53.
local function lcg_ranges(size, length, seed, count, align)
   local out = {}
   local state = seed % 2147483647
   if state == 0 then state = 1 end
   local span = size - length + 1
   local high_span = math.floor((span + 2147483647) / 2147483648)
   for _ = 1, count do
      state = minstd(state)
      local hi = state
      state = minstd(state)
      local first = ((hi % high_span) * 2147483648 + state) % span
      first = first - first % align
      out[#out + 1] = string.format("bytes=%d-%d", first, first + length - 1)
   end
   return out
end

local function file_ranges(path)
   local out = {}
   local f = assert(io.open(path, "r"), "ranges.lua: cannot open " .. path)
   for line in f:lines() do
      if line ~= "" then out[#out + 1] = line end
   end
   f:close()
   assert(#out > 0, "ranges.lua: no ranges in " .. path)
   return out
end

local requests = {}
local next_index = 1

function init(args)
   local ranges
   if args[1] == "file" then
      ranges = file_ranges(args[2])
   elseif args[1] == "lcg" then
      ranges = lcg_ranges(tonumber(args[2]), tonumber(args[3]), tonumber(args[4]),
                          tonumber(args[5]), tonumber(args[6] or 1))
   else
      error("ranges.lua: use -- file LIST, or -- lcg SIZE LENGTH SEED COUNT [ALIGN]")
   end
   -- Requests are formatted once here; request() only picks the next one. Each carries the
   -- headers given with -H (wrk.format takes only Host from them when given a table).
   for i, range in ipairs(ranges) do
      local headers = {}
      for k, v in pairs(wrk.headers) do headers[k] = v end
      if range ~= "-" then headers.Range = range end
      requests[i] = wrk.format("GET", wrk.path, headers)
   end
   -- Threads start at different places in the same list.
   local id = thread_id or 0
   next_index = (id * 7919) % #requests + 1
end

function request()
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   return r
end

function done(summary, latency, _)
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
      '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
