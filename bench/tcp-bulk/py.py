"""TCP bulk transfer with CPython's socket module: the C program line for line."""
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import CHUNK, PERIOD, announce_port, bulk_pattern, check_bulk, now, parse_args, result  # noqa: E402


def main():
    o = parse_args()
    total = o['bytes']
    if o['role'] == 'server':
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(('127.0.0.1', 0))
        srv.listen(16)
        announce_port(srv.getsockname()[1])
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
    fd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fd.connect(('127.0.0.1', o['port']))
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
