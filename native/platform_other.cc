// platform_other.cc — platform.h where the platform is not Linux (macOS, the BSDs): none of the
// Linux-only structures, no pidfd, and libuv's backend (kqueue) is not probed.
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

}  // namespace bs
