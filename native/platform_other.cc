// platform_other.cc — platform.h where the platform is not Linux (macOS, the BSDs): none of the
// Linux-only structures, no pidfd, libuv's backend (kqueue) is not probed, and no epoll or socket
// filters (ENOSYS).
#include "platform.h"

#include <uv.h>

#include <cerrno>

namespace bs {

void AddPlatformLayouts(Napi::Env, Napi::Object) {}

bool IsPidfd(int, int err) {
  errno = err;
  return false;
}

int ProbeUnwatched(uv_loop_t*, int) { return 0; }

size_t OptlenUnit(int, int) { return 1; }

namespace {
Napi::Value NoSystemCall(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), -ENOSYS); }
}  // namespace

void RegisterSocketFilter(Napi::Env env, Napi::Object exports) {
  exports.Set("setsockoptFprog", Napi::Function::New(env, NoSystemCall, "setsockoptFprog"));
}

void RegisterEpoll(Napi::Env env, Napi::Object exports) {
  for (const char* name : {"epoll_create1", "epoll_ctl", "epoll_wait"})
    exports.Set(name, Napi::Function::New(env, NoSystemCall, name));
  Napi::Object layout = Napi::Object::New(env);
  for (const char* field : {"size", "events", "data"}) layout.Set(field, Napi::Number::New(env, 0));
  exports.Set("epollLayout", layout);
}

}  // namespace bs
