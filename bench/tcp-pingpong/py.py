"""TCP ping-pong with CPython's socket module: the C program line for line."""
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import (  # noqa: E402
    MSG, check_message, fill_message, now, parse_args, rtt_result, result, tcp_connect, tcp_listener,
)


def read_exactly(s, view, n):
    got = 0
    while got < n:
        k = s.recv_into(view[got:], n - got)
        if k == 0:
            break
        got += k
    return got


def main():
    o = parse_args()
    if o['role'] == 'server':
        srv = tcp_listener(16)
        fd, _ = srv.accept()
        fd.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = memoryview(bytearray(MSG))
        echoed = 0
        while read_exactly(fd, buf, MSG) == MSG:
            fd.sendall(buf)
            echoed += 1
        fd.close()
        srv.close()
        result({'echoed': echoed})
        return
    fd = tcp_connect(o['port'])
    fd.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = bytearray(MSG)
    inbuf = bytearray(MSG)
    view = memoryview(inbuf)
    n, warmup, quick = o['n'], o.get('warmup', 0), o['quick']
    rtts = [0.0] * n
    ok = True
    seq = 0
    for _ in range(warmup):
        fill_message(out, seq)
        fd.sendall(out)
        if read_exactly(fd, view, MSG) != MSG or not check_message(inbuf, seq, quick):
            ok = False
        seq += 1
    start = t = now()
    for i in range(n):
        fill_message(out, seq)
        fd.sendall(out)
        if read_exactly(fd, view, MSG) != MSG or not check_message(inbuf, seq, quick):
            ok = False
        seq += 1
        t2 = now()
        rtts[i] = t2 - t
        t = t2
    fd.close()
    rtt_result(rtts, n, t - start, ok)


main()
