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

inline void StoreAddr(uint8_t* out, const sockaddr_storage& ss, socklen_t len) {
  // The kernel reports the full length even if it truncated; never copy more than we own.
  uint32_t n = len > sizeof(ss) ? sizeof(ss) : len;
  std::memcpy(out, &n, sizeof n);
  std::memcpy(out + kAddrHeader, &ss, n);
}

// An input sockaddr: bytes from src/sockaddr.ts, at most sizeof(sockaddr_storage).
inline bool ArgAddrIn(const Napi::CallbackInfo& info, size_t i, sockaddr_storage* ss, socklen_t* len) {
  uint8_t* data;
  size_t n;
  if (!ArgBytes(info, i, &data, &n)) return false;
  if (n > sizeof(*ss)) return Fail(info.Env(), "berkeley-sockets: sockaddr too long");
  std::memset(ss, 0, sizeof *ss);
  std::memcpy(ss, data, n);
  *len = static_cast<socklen_t>(n);
  return true;
}

}  // namespace bs
