"""TCP bulk transfer with CPython's socket module: the C program line for line."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import CHUNK, PERIOD, bulk_pattern, check_bulk, now, parse_args, result, tcp_connect, tcp_listener  # noqa: E402


def main():
    o = parse_args()
    total = o['bytes']
    if o['role'] == 'server':
        srv = tcp_listener(16)
        fd, _ = srv.accept()
        pat = memoryview(bulk_pattern())
        sent = 0
        while sent < total:
            off = sent % PERIOD
            sent += fd.send(pat[off:off + min(CHUNK, total - sent)])
        fd.close()
        srv.close()
        result({'sent': sent})
        return
    fd = tcp_connect(o['port'])
    buf = bytearray(CHUNK)
    got = 0
    ok = True
    start = 0.0
    while True:
        n = fd.recv_into(buf)
        if n == 0:
            break
        if got == 0:
            start = now()
        if o['quick'] and not check_bulk(buf, n, got):
            ok = False
        got += n
    s = now() - start
    fd.close()
    if got != total:
        ok = False
    result({'rate': got / s / 1e9, 'bytes': got, 'ms': s * 1e3, 'verified': ok})


main()
