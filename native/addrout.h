// addrout.h — copy a kernel-filled sockaddr into the caller's [socklen][bytes] scratch buffer.
#pragma once
#include "result.h"
#include <sys/socket.h>
#include <cstring>

namespace bs {

// Added to every send: a closed peer is an EPIPE error, never a SIGPIPE that kills the process.
#ifdef MSG_NOSIGNAL
constexpr int kNoSignal = MSG_NOSIGNAL;
#else
constexpr int kNoSignal = 0;  // macOS: SO_NOSIGPIPE is set on every socket at creation instead
#endif

// Checks the scratch buffer can hold a sockaddr_storage; false (with a JS exception) otherwise.
inline bool ArgAddrOut(const Napi::CallbackInfo& info, size_t i, uint8_t** out) {
  uint8_t* data;
  size_t len;
  if (!ArgBytes(info, i, &data, &len)) return false;
  if (len < kAddrHeader + sizeof(sockaddr_storage))
    return Fail(info.Env(), "berkeley-sockets: address scratch buffer too small");
  *out = data;
  return true;
}

// `asked` is the length the call passed (C's socklen_t before the call); the kernel reports the full
// length even if it truncated to `asked`. The header gets that length (capped at what we own) and the
// bytes the kernel really wrote; the rest of the reported length is zeros, never stack garbage.
inline void StoreAddr(uint8_t* out, const sockaddr_storage& ss, socklen_t len, socklen_t asked = sizeof(sockaddr_storage)) {
  uint32_t n = len > sizeof(ss) ? sizeof(ss) : len;
  uint32_t wrote = n > asked ? asked : n;
  std::memcpy(out, &n, sizeof n);
  std::memcpy(out + kAddrHeader, &ss, wrote);
  std::memset(out + kAddrHeader + wrote, 0, n - wrote);
}

// The address length a caller passes, as C's `&len` with `len = sizeof addr`: argument i undefined ->
// sizeof(sockaddr_storage); -1 -> no address wanted (C's NULL, NULL: *want is false); otherwise
// 0..sizeof(sockaddr_storage). False (with a JS exception) for anything else.
inline bool ArgAddrLen(const Napi::CallbackInfo& info, size_t i, socklen_t* len, bool* want) {
  *want = true;
  *len = sizeof(sockaddr_storage);
  if (info.Length() <= i || info[i].IsUndefined()) return true;
  int32_t n;
  if (!ArgInt(info, i, &n)) return false;
  if (n == -1) {
    *want = false;
    *len = 0;
    return true;
  }
  if (n < 0 || static_cast<size_t>(n) > sizeof(sockaddr_storage))
    return Fail(info.Env(), "berkeley-sockets: address length outside 0..sizeof(sockaddr_storage)");
  *len = static_cast<socklen_t>(n);
  return true;
}

// An input sockaddr: bytes from src/sockaddr.ts, at most sizeof(sockaddr_storage).
inline bool ArgAddrIn(const Napi::CallbackInfo& info, size_t i, sockaddr_storage* ss, socklen_t* len) {
  uint8_t* data;
  size_t n;
  if (!ArgBytes(info, i, &data, &n)) return false;
  if (n > sizeof(*ss)) return Fail(info.Env(), "berkeley-sockets: sockaddr too long");
  std::memset(ss, 0, sizeof *ss);
  if (n > 0) std::memcpy(ss, data, n);  // an empty buffer's data may be NULL, which memcpy must not get
  *len = static_cast<socklen_t>(n);
  return true;
}

}  // namespace bs
