// address.cc — bind(2), connect(2), listen(2), accept4(2), getsockname(2), getpeername(2).
//
// Addresses cross as bytes: src/sockaddr.ts encodes and decodes them from the layout constants that
// constants.cc exports, so this file never interprets a sockaddr.
#include "addrout.h"
#include "interrupt.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bs {
namespace {

// bind(fd, sockaddr bytes) -> 0 | -errno
Napi::Value Bind(const Napi::CallbackInfo& info) {
  int32_t fd;
  sockaddr_storage ss;
  socklen_t len;
  if (!ArgInt(info, 0, &fd) || !ArgAddrIn(info, 1, &ss, &len)) return {};
  int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len);
  return Result(info.Env(), rc, errno);
}

// connect(fd, sockaddr bytes) -> 0 | -errno
// A blocking connect interrupted by a signal keeps going in the kernel; calling connect again would
// report EALREADY. Like CPython (PEP 475), wait for the outcome instead and report it from SO_ERROR.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  int32_t fd;
  sockaddr_storage ss;
  socklen_t len;
  if (!ArgInt(info, 0, &fd) || !ArgAddrIn(info, 1, &ss, &len)) return {};
  BlockingCall call(info.Env());
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len);
  int err = errno;
  if (rc < 0 && err == EINTR) {
    // The listeners of the signal run first; one that throws ends the wait (the kernel goes on).
    if (!call.Retry()) return {};
    pollfd p = {fd, POLLOUT, 0};
    int prc;
    do {
      prc = ::poll(&p, 1, -1);
      err = errno;
    } while (prc < 0 && err == EINTR && call.Retry());
    if (prc < 0) return err == EINTR ? Napi::Value() : Result(info.Env(), -1, err);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) return Result(info.Env(), -1, errno);
    return Result(info.Env(), soerr ? -1 : 0, soerr);
  }
  return Result(info.Env(), rc, err);
}

// listen(fd, backlog) -> 0 | -errno. The kernel clamps backlog to somaxconn (and treats negatives
// as large), so any int32 is passed through unchanged.
Napi::Value Listen(const Napi::CallbackInfo& info) {
  int32_t fd, backlog;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &backlog)) return {};
  int rc = ::listen(fd, backlog);
  return Result(info.Env(), rc, errno);
}

// accept(fd, flags, addrOut, addrLen?) -> new fd | -errno. flags may add SOCK_NONBLOCK; SOCK_CLOEXEC is
// always set. addrLen is the socklen_t passed (default sizeof(sockaddr_storage); -1: NULL, NULL, as
// `accept(fd, NULL, NULL)`). Retried on EINTR, as libuv and CPython do, after the signal's listeners
// ran (interrupt.h).
Napi::Value Accept(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* out;
  socklen_t asked;
  bool want;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &flags) || !ArgAddrOut(info, 2, &out) ||
      !ArgAddrLen(info, 3, &asked, &want))
    return {};
  sockaddr_storage ss;
  socklen_t len;
  int err;
  int conn = Retrying(info.Env(), fd, &err, [&] {
    len = asked;
    sockaddr* sa = want ? reinterpret_cast<sockaddr*>(&ss) : nullptr;
    socklen_t* lp = want ? &len : nullptr;
#ifdef SOCK_CLOEXEC
    return ::accept4(fd, sa, lp, flags | SOCK_CLOEXEC);
#else
    return ::accept(fd, sa, lp);  // no accept4: FD_CLOEXEC just below
#endif
  });
#ifndef SOCK_CLOEXEC
  if (conn >= 0) {
    ::fcntl(conn, F_SETFD, FD_CLOEXEC);
    if (flags & O_NONBLOCK) ::fcntl(conn, F_SETFL, ::fcntl(conn, F_GETFL) | O_NONBLOCK);
  }
#endif
  if (conn >= 0) StoreAddr(out, ss, want ? len : 0, asked);
  return Result(info.Env(), conn, err);
}

// getsockname(fd, addrOut, addrLen?) / getpeername(…) -> 0 | -errno. addrLen is the socklen_t passed
// (default sizeof(sockaddr_storage)): C's `len = sizeof addr` when src/ is given a struct to fill.
template <int (*Call)(int, sockaddr*, socklen_t*)>
Napi::Value GetName(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* out;
  socklen_t asked;
  bool want;
  if (!ArgInt(info, 0, &fd) || !ArgAddrOut(info, 1, &out) || !ArgAddrLen(info, 2, &asked, &want)) return {};
  if (!want) {
    Fail(info.Env(), "berkeley-sockets: getsockname/getpeername need an address");
    return {};
  }
  sockaddr_storage ss;
  socklen_t len = asked;
  int rc = Call(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  int err = errno;
  if (rc == 0) StoreAddr(out, ss, len, asked);
  return Result(info.Env(), rc, err);
}

int SockName(int fd, sockaddr* sa, socklen_t* len) { return ::getsockname(fd, sa, len); }
int PeerName(int fd, sockaddr* sa, socklen_t* len) { return ::getpeername(fd, sa, len); }

}  // namespace

void RegisterAddress(Napi::Env env, Napi::Object exports) {
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("connect", Napi::Function::New(env, Connect, "connect"));
  exports.Set("listen", Napi::Function::New(env, Listen, "listen"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("getsockname", Napi::Function::New(env, GetName<SockName>, "getsockname"));
  exports.Set("getpeername", Napi::Function::New(env, GetName<PeerName>, "getpeername"));
}

}  // namespace bs
