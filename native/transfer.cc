// transfer.cc — read(2), write(2), recv(2), send(2), recvfrom(2), sendto(2).
//
// Each call works directly on the caller's memory (a window [offset, offset+length) of a TypedArray),
// so nothing is copied or allocated. EINTR is retried, as CPython does since PEP 475, after running the
// listeners of the signal that caused it (interrupt.h): one that throws ends the call. send and sendto
// always add MSG_NOSIGNAL so a closed peer is an EPIPE error, never a SIGPIPE; write, which has no
// flags, blocks the signal while SIGPIPE is not ignored (interrupt.h).
#include "addrout.h"
#include "interrupt.h"

#include <sys/socket.h>
#include <unistd.h>

namespace bs {
namespace {

// read(fd, buf, offset, length) -> bytes | -errno
Napi::Value Read(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len)) return {};
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] { return ::read(fd, data, len); });
  return Result(info.Env(), static_cast<double>(n), err);
}

// write(fd, buf, offset, length) -> bytes | -errno
Napi::Value Write(const Napi::CallbackInfo& info) {
  int32_t fd;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len)) return {};
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] {
    return GuardingSigpipe() ? WriteWithoutSigpipe(fd, data, len) : ::write(fd, data, len);
  });
  return Result(info.Env(), static_cast<double>(n), err);
}

// recv(fd, buf, offset, length, flags) -> bytes | -errno (with MSG_TRUNC, the datagram's real length)
Napi::Value Recv(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len) || !ArgInt(info, 4, &flags)) return {};
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] { return ::recv(fd, data, len, flags); });
  return Result(info.Env(), static_cast<double>(n), err);
}

// send(fd, buf, offset, length, flags) -> bytes | -errno
Napi::Value Send(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len) || !ArgInt(info, 4, &flags)) return {};
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] { return ::send(fd, data, len, flags | kNoSignal); });
  return Result(info.Env(), static_cast<double>(n), err);
}

// recvfrom(fd, buf, offset, length, flags, addrOut, addrLen?) -> bytes | -errno; the sender lands in
// addrOut (socklen 0 when there is none: a connected stream, an unnamed AF_UNIX peer). addrLen is the
// socklen_t passed, as in accept (default sizeof(sockaddr_storage); -1: NULL, NULL).
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* data;
  size_t len;
  uint8_t* out = nullptr;
  socklen_t asked;
  bool want;
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len) || !ArgInt(info, 4, &flags) ||
      !ArgAddrOut(info, 5, &out) || !ArgAddrLen(info, 6, &asked, &want))
    return {};
  sockaddr_storage ss;
  socklen_t alen;
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] {
    alen = asked;
    return ::recvfrom(fd, data, len, flags, want ? reinterpret_cast<sockaddr*>(&ss) : nullptr,
                      want ? &alen : nullptr);
  });
  if (n >= 0) StoreAddr(out, ss, want ? alen : 0, asked);
  return Result(info.Env(), static_cast<double>(n), err);
}

// sendto(fd, buf, offset, length, flags, sockaddr bytes) -> bytes | -errno
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* data;
  size_t len;
  sockaddr_storage ss;
  socklen_t alen = 0;  // set by ArgAddrIn (gcc cannot see it through the short-circuit)
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len) || !ArgInt(info, 4, &flags) ||
      !ArgAddrIn(info, 5, &ss, &alen))
    return {};
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] {
    return ::sendto(fd, data, len, flags | kNoSignal, reinterpret_cast<const sockaddr*>(&ss), alen);
  });
  return Result(info.Env(), static_cast<double>(n), err);
}

}  // namespace

void RegisterTransfer(Napi::Env env, Napi::Object exports) {
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("recv", Napi::Function::New(env, Recv, "recv"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("recvfrom", Napi::Function::New(env, RecvFrom, "recvfrom"));
  exports.Set("sendto", Napi::Function::New(env, SendTo, "sendto"));
}

}  // namespace bs
