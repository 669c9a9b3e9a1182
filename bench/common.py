"""What every CPython bench program shares (bench/common.mjs and common.h in Python): the command line,
the `PORT n` / `RESULT {json}` lines bench/run.mjs reads, timing and the data patterns. Nothing here
runs inside a timed loop except now(). Only the standard library: CPython's own socket module is the
reference the issue names ("CPython's level")."""
import json
import socket
import struct
import sys
import time

MSG = 64
PERIOD = 251
CHUNK = 64 * 1024


def parse_args():
    """`python3 prog.py <role> [--key value]… [--quick]`: numbers parsed, unknown keys kept."""
    role, rest = sys.argv[1], sys.argv[2:]
    o = {'role': role, 'quick': False}
    i = 0
    while i < len(rest):
        key = rest[i].lstrip('-')
        if key == 'quick':
            o['quick'] = True
        else:
            i += 1
            o[key] = float(rest[i]) if '.' in rest[i] else int(rest[i])
        i += 1
    return o


def announce_port(port):
    print(f'PORT {port}', flush=True)


def tcp_listener(backlog):
    """A TCP socket listening on 127.0.0.1 at a port the kernel picks, announced (common.h's)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(backlog)
    announce_port(srv.getsockname()[1])
    return srv


def tcp_connect(port):
    """A TCP socket connected to 127.0.0.1:port (common.h's)."""
    fd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fd.connect(('127.0.0.1', port))
    return fd


def result(obj):
    print('RESULT ' + json.dumps(obj), flush=True)


now = time.perf_counter  # seconds, as a float (clock_gettime(CLOCK_MONOTONIC) underneath)


# Byte k is k & 0xFF: bytes 4..63 of message `seq` are its slice from (seq + 4) & 0xFF, so a message is
# filled or checked with one slice (a memcpy or memcmp), as idiomatic Python does it, rather than a
# loop of 60 interpreted steps that would cost more than the round trip's system calls.
_RAMP = bytes(k & 0xFF for k in range(256 + MSG))


def fill_message(buf, seq):
    """Ping-pong message `seq`: its sequence number (little-endian), then a pattern derived from it."""
    struct.pack_into('<I', buf, 0, seq & 0xFFFFFFFF)
    s = (seq + 4) & 0xFF
    buf[4:MSG] = _RAMP[s:s + MSG - 4]


def check_message(buf, seq, full):
    """Whether `buf` is message `seq`; `full` compares every byte, otherwise only the sequence number."""
    if struct.unpack_from('<I', buf, 0)[0] != seq & 0xFFFFFFFF:
        return False
    s = (seq + 4) & 0xFF
    return not full or buf[4:MSG] == _RAMP[s:s + MSG - 4]


def rtt_result(rtts, n, elapsed_s, verified):
    """Round trips/s, mean and p99 round-trip time (µs), from per-round-trip times in seconds."""
    s = sorted(rtts)
    result({'rate': n / elapsed_s, 'meanUs': sum(s) / n * 1e6, 'p99Us': s[min(n - 1, int(n * 0.99))] * 1e6,
            'n': n, 'verified': verified})


def bulk_pattern():
    """CHUNK + PERIOD bytes of the bulk stream's pattern (byte i is i % PERIOD)."""
    return bytes(i % PERIOD for i in range(CHUNK + PERIOD))


_pattern = None


def check_bulk(buf, n, offset):
    """Whether `n` received bytes at stream offset `offset` follow the pattern."""
    global _pattern
    if _pattern is None:
        _pattern = bulk_pattern()
    p = offset % PERIOD
    return n <= CHUNK and buf[:n] == _pattern[p:p + n]
