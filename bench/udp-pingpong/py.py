"""UDP ping-pong with CPython's socket module: the C program line for line."""
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import MSG, announce_port, check_message, fill_message, now, parse_args, result, rtt_result  # noqa: E402


def main():
    o = parse_args()
    if o['role'] == 'server':
        fd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fd.bind(('127.0.0.1', 0))
        announce_port(fd.getsockname()[1])
        buf = bytearray(65536)
        view = memoryview(buf)
        echoed = 0
        while True:
            n, address = fd.recvfrom_into(buf)
            if n == 1:
                break  # the client's end marker
            fd.sendto(view[:n], address)
            echoed += 1
        fd.close()
        result({'echoed': echoed})
        return
    fd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd.connect(('127.0.0.1', o['port']))
    out = bytearray(MSG)
    inbuf = bytearray(MSG + 1)
    n, warmup, quick = o['n'], o.get('warmup', 0), o['quick']
    rtts = [0.0] * n
    ok = True
    start = t = 0.0
    for i in range(warmup + n):
        seq = i
        if i == warmup:
            start = t = now()
        fill_message(out, seq)
        fd.send(out)
        k = fd.recv_into(inbuf)
        if k != MSG or not check_message(inbuf, seq, quick):
            ok = False
        if i >= warmup:
            t2 = now()
            rtts[i - warmup] = t2 - t
            t = t2
    # End marker, thrice in case one is dropped; once the server has gone, the kernel answers ECONNREFUSED.
    for _ in range(3):
        try:
            fd.send(b'x')
        except OSError:
            break
    fd.close()
    rtt_result(rtts, n, t - start, ok)


main()
