-- netwatcher.lua: Wireshark and tshark fields from the packet comments of `netwatcher -w FILE`.
--
--   wireshark -X lua_script:docs/netwatcher.lua capture.pcapng
--   tshark -X lua_script:docs/netwatcher.lua -r capture.pcapng -Y 'netwatcher.qdisc_us > 1000'
--   tshark -X lua_script:docs/netwatcher.lua -r capture.pcapng -Y 'netwatcher.comm == "curl"' \
--          -T fields -e frame.number -e netwatcher.pid -e netwatcher.total_us
--
-- Or copy it to ~/.local/lib/wireshark/plugins/ to have the fields always.
--
-- Each packet netwatcher writes carries one comment such as
--   netwatcher: dir=tx pid=812 tid=812 comm=curl cgroup=/user.slice/... ip_us=1.020 driver_us=3.377 total_us=4.397
--   netwatcher: dir=drop drop_reason=NO_SOCKET drop_location=__udp4_lib_rcv+0x4bc
-- (space-separated key=value; a value with a space, quote, backslash or '=' is in double quotes,
-- with \" and \\ inside). A layer is present only when both of its boundaries were seen.

local nw = Proto("netwatcher", "netwatcher: owner and time in each kernel layer")

local fields = {
    dir = ProtoField.string("netwatcher.dir", "Direction (tx, rx; drop: dropped by the kernel)"),
    pid = ProtoField.uint32("netwatcher.pid", "Process ID"),
    tid = ProtoField.uint32("netwatcher.tid", "Thread ID"),
    comm = ProtoField.string("netwatcher.comm", "Command"),
    cgroup = ProtoField.string("netwatcher.cgroup", "cgroup v2 path"),
    container = ProtoField.string("netwatcher.container", "Container ID"),
    pod_uid = ProtoField.string("netwatcher.pod_uid", "Pod UID"),
    transport_us = ProtoField.double("netwatcher.transport_us", "TCP/UDP layer (us)"),
    ip_us = ProtoField.double("netwatcher.ip_us", "IP layer (us)"),
    qdisc_us = ProtoField.double("netwatcher.qdisc_us", "Queueing discipline (us)"),
    driver_us = ProtoField.double("netwatcher.driver_us", "Driver (us)"),
    socket_us = ProtoField.double("netwatcher.socket_us", "Socket queue to the application (us)"),
    total_us = ProtoField.double("netwatcher.total_us", "All layers seen (us)"),
    tcp_flags = ProtoField.string("netwatcher.tcp_flags", "TCP flags"),
    retransmit = ProtoField.uint8("netwatcher.retransmit", "TCP retransmission"),
    gso_segment = ProtoField.uint8("netwatcher.gso_segment", "Software GSO segment"),
    drop_reason = ProtoField.string("netwatcher.drop_reason", "Drop reason (enum skb_drop_reason)"),
    drop_location = ProtoField.string("netwatcher.drop_location", "Where the kernel dropped it"),
}
local order = { "dir", "pid", "tid", "comm", "cgroup", "container", "pod_uid", "transport_us", "ip_us", "qdisc_us",
                "driver_us", "socket_us", "total_us", "tcp_flags", "retransmit", "gso_segment", "drop_reason",
                "drop_location" }
local list = {}
for _, k in ipairs(order) do list[#list + 1] = fields[k] end
nw.fields = list

local numeric = { pid = true, tid = true, retransmit = true, gso_segment = true }
local comment_field = Field.new("frame.comment")

-- The key=value pairs of one comment, in order.
local function pairs_of(s)
    local out, i, n = {}, 1, #s
    while i <= n do
        while i <= n and s:sub(i, i) == " " do i = i + 1 end
        local eq = s:find("=", i, true)
        if not eq then break end
        local key = s:sub(i, eq - 1)
        local value
        i = eq + 1
        if s:sub(i, i) == '"' then
            local buf = {}
            i = i + 1
            while i <= n do
                local c = s:sub(i, i)
                if c == "\\" and i < n then
                    buf[#buf + 1] = s:sub(i + 1, i + 1)
                    i = i + 2
                elseif c == '"' then
                    i = i + 1
                    break
                else
                    buf[#buf + 1] = c
                    i = i + 1
                end
            end
            value = table.concat(buf)
        else
            local sp = s:find(" ", i, true) or (n + 1)
            value = s:sub(i, sp - 1)
            i = sp
        end
        out[#out + 1] = { key, value }
    end
    return out
end

function nw.dissector(tvb, pinfo, tree)
    for _, c in ipairs({ comment_field() }) do
        local s = tostring(c.value)
        if s:sub(1, 11) == "netwatcher:" then
            local t = tree:add(nw)
            for _, kv in ipairs(pairs_of(s:sub(12))) do
                local key, value = kv[1], kv[2]
                local f = fields[key]
                if f then
                    if numeric[key] then
                        t:add(f, tonumber(value))
                    elseif key:sub(-3) == "_us" then
                        t:add(f, tonumber(value))
                    else
                        t:add(f, value)
                    end
                end
            end
        end
    end
end

register_postdissector(nw)
