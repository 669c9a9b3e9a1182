"""Connection cycle with CPython's socket module: the C program line for line."""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import now, parse_args, result, tcp_connect, tcp_listener  # noqa: E402


def main():
    o = parse_args()
    total = o.get('warmup', 0) + o['n']
    if o['role'] == 'server':
        srv = tcp_listener(511)
        accepted = 0
        while accepted < total:
            srv.accept()[0].close()
            accepted += 1
        srv.close()
        result({'accepted': accepted})
        return
    buf = bytearray(1)
    ok = True
    start = 0.0
    for i in range(total):
        if i == o.get('warmup', 0):
            start = now()
        fd = tcp_connect(o['port'])
        if fd.recv_into(buf) != 0:
            ok = False  # 0: the server accepted and closed
        fd.close()
    result({'rate': o['n'] / (now() - start), 'n': o['n'], 'verified': ok})


main()
