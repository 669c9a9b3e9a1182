// readiness.cc — poll(2) and select(2), the synchronous readiness calls. Both block (that is what they
// are for) and are retried after EINTR with the time left (PEP 475). The async API's watchers are in
// watcher.cc.
#include "interrupt.h"
#include "result.h"

#include <poll.h>
#include <sys/select.h>
#include <time.h>

#include <vector>

namespace bs {
namespace {

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// poll(Int32Array [fd, events, revents]×n, timeoutMs) -> ready count | -errno. revents are written
// back into the array. EINTR is retried with the time that is left (PEP 475), after the signal's
// listeners ran (interrupt.h).
Napi::Value Poll(const Napi::CallbackInfo& info) {
  uint8_t* raw;
  size_t len;
  int32_t timeout;
  if (!ArgBytes(info, 0, &raw, &len) || !ArgInt(info, 1, &timeout)) return {};
  int32_t* triples = reinterpret_cast<int32_t*>(raw);
  size_t n = len / (3 * sizeof(int32_t));
  std::vector<pollfd> fds(n);
  for (size_t i = 0; i < n; i++) {
    fds[i].fd = triples[3 * i];
    fds[i].events = static_cast<short>(triples[3 * i + 1]);
    fds[i].revents = 0;
  }
  int64_t deadline = timeout >= 0 ? NowMs() + timeout : -1;
  BlockingCall call(info.Env());
  int rc, err;
  for (;;) {
    rc = ::poll(fds.data(), static_cast<nfds_t>(n), timeout);
    err = errno;
    if (rc >= 0 || err != EINTR) break;
    if (!call.Retry()) return {};  // a signal listener threw: JavaScript sees its exception
    if (deadline >= 0) {
      int64_t left = deadline - NowMs();
      timeout = left > 0 ? static_cast<int32_t>(left) : 0;
    }
  }
  if (rc >= 0)
    for (size_t i = 0; i < n; i++) triples[3 * i + 2] = fds[i].revents;
  return Result(info.Env(), rc, err);
}

// select(readFds, writeFds, exceptFds: Int32Array | null, timeoutUs: number (-1 blocks), nfds?) ->
// ready count | -errno. A null set is C's NULL; nfds is the caller's (C's first argument), or one more
// than the largest descriptor given. Descriptors that are not ready are overwritten with -1. A
// descriptor outside [0, FD_SETSIZE) is EINVAL here: FD_SET on it would write past the fd_set (src/
// rejects it first).
Napi::Value Select(const Napi::CallbackInfo& info) {
  uint8_t* raw[3] = {nullptr, nullptr, nullptr};
  size_t len[3] = {0, 0, 0};
  bool given[3];
  for (int k = 0; k < 3; k++) {
    given[k] = !info[k].IsNull() && !info[k].IsUndefined();
    if (given[k] && !ArgBytes(info, k, &raw[k], &len[k])) return {};
  }
  double timeoutUs = info[3].IsNumber() ? info[3].As<Napi::Number>().DoubleValue() : -1;
  fd_set sets[3];
  int nfds = 0;
  for (int k = 0; k < 3; k++) {
    FD_ZERO(&sets[k]);
    int32_t* fds = reinterpret_cast<int32_t*>(raw[k]);
    for (size_t i = 0; i < len[k] / sizeof(int32_t); i++) {
      if (fds[i] < 0 || fds[i] >= FD_SETSIZE) return Napi::Number::New(info.Env(), -EINVAL);
      FD_SET(fds[i], &sets[k]);
      if (fds[i] + 1 > nfds) nfds = fds[i] + 1;
    }
  }
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    int32_t asked;
    if (!ArgInt(info, 4, &asked)) return {};
    if (asked < 0 || asked > FD_SETSIZE) return Napi::Number::New(info.Env(), -EINVAL);
    nfds = asked;
  }
  fd_set work[3];
  int64_t deadline = timeoutUs >= 0 ? NowMs() * 1000 + static_cast<int64_t>(timeoutUs) : -1;
  BlockingCall call(info.Env());
  int rc, err;
  for (;;) {
    for (int k = 0; k < 3; k++) work[k] = sets[k];
    timeval tv, *tvp = nullptr;
    if (deadline >= 0) {
      int64_t left = deadline - NowMs() * 1000;
      if (left < 0) left = 0;
      tv.tv_sec = static_cast<time_t>(left / 1000000);
      tv.tv_usec = static_cast<suseconds_t>(left % 1000000);
      tvp = &tv;
    }
    rc = ::select(nfds, given[0] ? &work[0] : nullptr, given[1] ? &work[1] : nullptr, given[2] ? &work[2] : nullptr, tvp);
    err = errno;
    if (rc >= 0 || err != EINTR) break;
    if (!call.Retry()) return {};  // a signal listener threw: JavaScript sees its exception
  }
  if (rc >= 0) {
    for (int k = 0; k < 3; k++) {
      int32_t* fds = reinterpret_cast<int32_t*>(raw[k]);
      for (size_t i = 0; i < len[k] / sizeof(int32_t); i++)
        if (!FD_ISSET(fds[i], &work[k])) fds[i] = -1;
    }
  }
  return Result(info.Env(), rc, err);
}

}  // namespace

void RegisterReadiness(Napi::Env env, Napi::Object exports) {
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("select", Napi::Function::New(env, Select, "select"));
}

}  // namespace bs
