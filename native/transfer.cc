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

// recvfrom(fd, buf, offset, length, flags, addrOut) -> bytes | -errno; the sender lands in addrOut
// (socklen 0 when there is none: a connected stream, an unnamed AF_UNIX peer).
Napi::Value RecvFrom(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* data;
  size_t len;
  uint8_t* out = nullptr;
  if (!ArgInt(info, 0, &fd) || !ArgWindow(info, 1, &data, &len) || !ArgInt(info, 4, &flags) ||
      !ArgAddrOut(info, 5, &out))
    return {};
  sockaddr_storage ss;
  socklen_t alen;
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] {
    alen = sizeof ss;
    return ::recvfrom(fd, data, len, flags, reinterpret_cast<sockaddr*>(&ss), &alen);
  });
  if (n >= 0) StoreAddr(out, ss, alen);
  return Result(info.Env(), static_cast<double>(n), err);
}

// sendto(fd, buf, offset, length, flags, sockaddr bytes) -> bytes | -errno
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  uint8_t* data;
  size_t len;
  sockaddr_storage ss;
  socklen_t alen;
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
