// message.cc — sendmsg(2), recvmsg(2): scatter/gather I/O with an optional address and ancillary data
// (cmsg(3)). The control buffer is raw bytes in both directions: src/message.ts encodes and decodes
// the cmsghdr records with the layout measured in constants.cc, so this file knows no message types.
//
// Received descriptors (SCM_RIGHTS) are close-on-exec from the moment they exist: recvmsg always adds
// MSG_CMSG_CLOEXEC (Linux, FreeBSD). Where the flag is missing (macOS) the new descriptors get
// FD_CLOEXEC right after the call, the one place this layer reads a control buffer.
//
// Linux's packet sockets refuse every recvmsg flag they do not know, MSG_CMSG_CLOEXEC included, with
// EINVAL (packet_recvmsg, net/packet/af_packet.c). Only AF_UNIX sockets receive descriptors (unix(7)),
// so when the added flag meets EINVAL the socket's domain is asked (SO_DOMAIN), and a socket of any
// other family is read again without it. src/message.ts remembers the answer for a handle and then
// asks for no flag at all, so a packet socket's recvmsg is the C program's from the second call on.
#include "addrout.h"
#include "interrupt.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace bs {
namespace {

// A JavaScript array of byte arrays as iovecs pointing straight at their memory (no copy).
bool ArgIovecs(const Napi::CallbackInfo& info, size_t i, std::vector<iovec>* out) {
  napi_env env = info.Env();
  bool isArray = false;
  uint32_t count = 0;
  if (napi_is_array(env, info[i], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(env, info[i], &count) != napi_ok)
    return Fail(env, "berkeley-sockets: expected an array of TypedArrays");
  out->resize(count);
  for (uint32_t k = 0; k < count; k++) {
    napi_value element;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_element(env, info[i], k, &element) != napi_ok ||
        napi_get_typedarray_info(env, element, &type, &length, &data, nullptr, nullptr) != napi_ok ||
        (type != napi_uint8_array && type != napi_int8_array && type != napi_uint8_clamped_array))
      return Fail(env, "berkeley-sockets: expected an array of Uint8Arrays");
    (*out)[k].iov_base = data;
    (*out)[k].iov_len = length;
  }
  return true;
}

bool IsNull(const Napi::CallbackInfo& info, size_t i) {
  return info[i].IsNull() || info[i].IsUndefined();
}

#ifndef MSG_CMSG_CLOEXEC
// No atomic flag on this platform: mark every received descriptor before returning to JavaScript.
void CloexecReceived(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t k = 0; k < n; k++) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);  // ENOTSOCK for a non-socket: fine
#endif
    }
  }
}
#endif

// sendmsg(fd, iovecs, name | null, control | null, flags) -> bytes | -errno
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  std::vector<iovec> iov;
  sockaddr_storage ss;
  socklen_t alen = 0;
  uint8_t* control = nullptr;
  size_t controlLen = 0;
  if (!ArgInt(info, 0, &fd) || !ArgIovecs(info, 1, &iov) ||
      (!IsNull(info, 2) && !ArgAddrIn(info, 2, &ss, &alen)) ||
      (!IsNull(info, 3) && !ArgBytes(info, 3, &control, &controlLen)) || !ArgInt(info, 4, &flags))
    return {};
  msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_name = alen > 0 ? &ss : nullptr;
  msg.msg_namelen = alen;
  msg.msg_iov = iov.data();
  msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(iov.size());  // size_t on glibc, int elsewhere
  msg.msg_control = controlLen > 0 ? control : nullptr;
  msg.msg_controllen = static_cast<decltype(msg.msg_controllen)>(controlLen);
  int err;
  ssize_t n = Retrying(info.Env(), fd, &err, [&] { return ::sendmsg(fd, &msg, flags | kNoSignal); });
  return Result(info.Env(), static_cast<double>(n), err);
}

// recvmsg(fd, iovecs, control, addrOut, flags, Int32Array(3) info, cloexec = true) -> bytes | -errno.
// `control` is scratch for the cmsg records (may be empty); the sender lands in addrOut as recvfrom.
// info: [msg_controllen, msg_flags] on success, and always info[2]: 0 when the first call was all,
// else what SO_DOMAIN answered after MSG_CMSG_CLOEXEC met EINVAL (the family, or -errno), the call
// being made again without the flag when that family is not AF_UNIX. `cloexec` false: no flag added.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  int32_t fd, flags;
  std::vector<iovec> iov;
  uint8_t* control = nullptr;
  size_t controlLen;
  uint8_t* addr = nullptr;
  uint8_t* outInfo = nullptr;
  size_t outInfoLen;
  if (!ArgInt(info, 0, &fd) || !ArgIovecs(info, 1, &iov) || !ArgBytes(info, 2, &control, &controlLen) ||
      !ArgAddrOut(info, 3, &addr) || !ArgInt(info, 4, &flags) || !ArgBytes(info, 5, &outInfo, &outInfoLen))
    return {};
  if (outInfoLen < 3 * sizeof(int32_t)) {
    Fail(info.Env(), "berkeley-sockets: recvmsg needs an Int32Array(3)");
    return {};
  }
  bool cloexec = info.Length() < 7 || !info[6].IsBoolean() || info[6].As<Napi::Boolean>().Value();
  int added = 0;
#ifdef MSG_CMSG_CLOEXEC
  if (cloexec && (flags & MSG_CMSG_CLOEXEC) == 0) added = MSG_CMSG_CLOEXEC;
#endif
  sockaddr_storage ss;
  msghdr msg;
  int err;
  auto receive = [&](int with) {
    return Retrying(info.Env(), fd, &err, [&] {
      // Reset on every attempt: the kernel rewrites the lengths.
      std::memset(&msg, 0, sizeof msg);
      msg.msg_name = &ss;
      msg.msg_namelen = sizeof ss;
      msg.msg_iov = iov.data();
      msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(iov.size());
      msg.msg_control = controlLen > 0 ? control : nullptr;
      msg.msg_controllen = static_cast<decltype(msg.msg_controllen)>(controlLen);
      return ::recvmsg(fd, &msg, with);
    });
  };
  ssize_t n = receive(flags | added);
  int32_t fallback = 0;
#ifdef SO_DOMAIN
  if (n < 0 && err == EINVAL && added != 0) {
    int domain = 0;
    socklen_t len = sizeof domain;
    fallback = ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 ? domain : -errno;
    if (fallback > 0 && fallback != AF_UNIX) n = receive(flags);
  }
#endif
  std::memcpy(outInfo + 2 * sizeof(int32_t), &fallback, sizeof fallback);
  if (n >= 0) {
#ifndef MSG_CMSG_CLOEXEC
    CloexecReceived(&msg);
#endif
    StoreAddr(addr, ss, msg.msg_namelen);
    int32_t result[2] = {static_cast<int32_t>(msg.msg_controllen), static_cast<int32_t>(msg.msg_flags)};
    std::memcpy(outInfo, result, sizeof result);
  }
  return Result(info.Env(), static_cast<double>(n), err);
}

}  // namespace

void RegisterMessage(Napi::Env env, Napi::Object exports) {
  exports.Set("sendmsg", Napi::Function::New(env, SendMsg, "sendmsg"));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsg, "recvmsg"));
}

}  // namespace bs
