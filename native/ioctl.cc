// ioctl.cc — ioctl(2) for the socket requests whose argument is an int the kernel writes: FIONREAD
// (SIOCINQ on Linux: bytes waiting to be read), SIOCOUTQ (Linux: bytes sent and not yet acknowledged,
// tcp(7); not yet sent, udp(7)) and SIOCATMARK (1 at the out-of-band mark, sockatmark(3)). Nothing
// else: ioctl's third argument is whatever the request says it is, and a request that expects a
// larger structure would have the kernel write past the int given here. src/ioctl.ts refuses any
// other request first; this list is the backstop.
#include "result.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#if __has_include(<linux/sockios.h>)
#include <linux/sockios.h>  // SIOCINQ, SIOCOUTQ
#endif

namespace bs {
namespace {

bool IntAnswer(int64_t request) {
  if (request == static_cast<int64_t>(FIONREAD) || request == static_cast<int64_t>(SIOCATMARK)) return true;
#ifdef SIOCINQ
  if (request == static_cast<int64_t>(SIOCINQ)) return true;
#endif
#ifdef SIOCOUTQ
  if (request == static_cast<int64_t>(SIOCOUTQ)) return true;
#endif
  return false;
}

// ioctl(fd, request) -> the int the kernel wrote (>= 0 for every request above) | -errno.
Napi::Value Ioctl(const Napi::CallbackInfo& info) {
  int32_t fd;
  int64_t request;
  if (!ArgInt(info, 0, &fd)) return {};
  if (napi_get_value_int64(info.Env(), info[1], &request) != napi_ok) {
    Fail(info.Env(), "berkeley-sockets: expected an integer argument");
    return {};
  }
  if (!IntAnswer(request)) {
    Napi::RangeError::New(info.Env(), "berkeley-sockets: ioctl request is not one that answers an int")
        .ThrowAsJavaScriptException();
    return {};
  }
  int value = 0;
  int rc = ::ioctl(fd, static_cast<unsigned long>(request), &value);
  return Result(info.Env(), rc < 0 ? -1 : value, errno);
}

}  // namespace

void RegisterIoctl(Napi::Env env, Napi::Object exports) {
  exports.Set("ioctl", Napi::Function::New(env, Ioctl, "ioctl"));
}

}  // namespace bs
