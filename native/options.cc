// options.cc — getsockopt(2), setsockopt(2) as bytes in, bytes out. src/options.ts gives each option
// its type (int, timeval, linger, …); this file never interprets a value.
#include "result.h"

#include <sys/socket.h>

namespace bs {
namespace {

// getsockopt(fd, level, name, out) -> optlen | -errno; the value lands in out[0..optlen).
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  uint8_t* out;
  size_t cap;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) ||
      !ArgBytes(info, 3, &out, &cap))
    return {};
  socklen_t len = static_cast<socklen_t>(cap);
  int rc = ::getsockopt(fd, level, name, out, &len);
  int err = errno;
  return Result(info.Env(), rc < 0 ? -1 : static_cast<double>(len > cap ? cap : len), err);
}

// setsockopt(fd, level, name, bytes) -> 0 | -errno
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) ||
      !ArgBytes(info, 3, &data, &len))
    return {};
  int rc = ::setsockopt(fd, level, name, data, static_cast<socklen_t>(len));
  return Result(info.Env(), rc, errno);
}

}  // namespace

void RegisterOptions(Napi::Env env, Napi::Object exports) {
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt, "getsockopt"));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt, "setsockopt"));
}

}  // namespace bs
