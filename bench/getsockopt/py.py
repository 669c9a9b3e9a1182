"""Per-call overhead with CPython's socket module: getsockopt(SOL_SOCKET, SO_TYPE) in a loop -> ns per
call. The loop is in a function, as c.c's is in main()."""
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import now, parse_args, result  # noqa: E402


def calls(fd, n):
    """Calls getsockopt n times; False if any answer was not SOCK_STREAM."""
    ok = True
    get, level, opt, want = fd.getsockopt, socket.SOL_SOCKET, socket.SO_TYPE, socket.SOCK_STREAM
    for _ in range(n):
        if get(level, opt) != want:
            ok = False
    return ok


def main():
    o = parse_args()
    fd = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    calls(fd, o.get('warmup', 0))
    start = now()
    ok = calls(fd, o['n'])
    s = now() - start
    fd.close()
    result({'rate': s * 1e9 / o['n'], 'n': o['n'], 'verified': ok})


main()
