// epoll_linux.cc — epoll(7): epoll_create1, epoll_ctl and epoll_wait (man 2 each), Linux only
// (platform_other.cc answers ENOSYS elsewhere). No policy: the TypeScript layer (src/epoll.ts) checks
// the arguments and owns the descriptor.
//
// epoll_wait writes its struct epoll_event array straight into the caller's typed array, so a loop
// that reuses one array allocates nothing per call. The structure is packed on x86-64 (12 bytes,
// data at offset 4) and naturally aligned elsewhere (16 bytes, data at 8): its layout is exported
// (`epollLayout`) and src/epoll.ts reads the fields where the compiler put them.
#include "interrupt.h"
#include "platform.h"
#include "result.h"

#include <sys/epoll.h>
#include <time.h>

#include <cstddef>

namespace bs {
namespace {

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// epoll_create1(flags) -> fd | -errno. EPOLL_CLOEXEC is always added: every descriptor the library
// creates is close-on-exec.
Napi::Value EpollCreate1(const Napi::CallbackInfo& info) {
  int32_t flags;
  if (!ArgInt(info, 0, &flags)) return {};
  int fd = ::epoll_create1(flags | EPOLL_CLOEXEC);
  return Result(info.Env(), fd, errno);
}

// epoll_ctl(epfd, op, fd, events?, dataLo?, dataHi?) -> 0 | -errno. `events` undefined passes NULL
// (what C passes to EPOLL_CTL_DEL, which ignores the event since Linux 2.6.9); otherwise the event is
// { events, data.u64 = dataHi << 32 | dataLo }. The halves are uint32s: a JavaScript number holds
// neither a u64 nor, with EPOLLET (1u << 31) set, an int32 of events.
Napi::Value EpollCtl(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  int32_t epfd, op, fd;
  if (!ArgInt(info, 0, &epfd) || !ArgInt(info, 1, &op) || !ArgInt(info, 2, &fd)) return {};
  epoll_event ev{};
  epoll_event* evp = nullptr;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
    uint32_t events, lo, hi;
    if (napi_get_value_uint32(env, info[3], &events) != napi_ok ||
        napi_get_value_uint32(env, info[4], &lo) != napi_ok ||
        napi_get_value_uint32(env, info[5], &hi) != napi_ok) {
      Fail(info.Env(), "berkeley-sockets: expected an integer argument");
      return {};
    }
    ev.events = events;
    ev.data.u64 = static_cast<uint64_t>(hi) << 32 | lo;
    evp = &ev;
  }
  int rc = ::epoll_ctl(epfd, op, fd, evp);
  return Result(info.Env(), rc, errno);
}

// epoll_wait(epfd, out: TypedArray, maxevents, timeoutMs) -> ready count | -errno. The kernel writes
// the events into `out` itself, which must hold maxevents structures (a RangeError otherwise: the
// kernel would write past it). EINTR is retried with the time that is left (PEP 475), after the
// signal's listeners ran, and only while epfd is still the same file (interrupt.h).
Napi::Value EpollWait(const Napi::CallbackInfo& info) {
  int32_t epfd, maxevents, timeout;
  uint8_t* raw;
  size_t len;
  if (!ArgInt(info, 0, &epfd) || !ArgBytes(info, 1, &raw, &len) || !ArgInt(info, 2, &maxevents) ||
      !ArgInt(info, 3, &timeout))
    return {};
  // maxevents <= 0 is the kernel's EINVAL, and it writes nothing then.
  if (maxevents > 0 && static_cast<uint64_t>(maxevents) * sizeof(epoll_event) > len) {
    Napi::RangeError::New(info.Env(), "berkeley-sockets: maxevents is more than the events array holds")
        .ThrowAsJavaScriptException();
    return {};
  }
  epoll_event* events = reinterpret_cast<epoll_event*>(raw);
  int64_t deadline = timeout >= 0 ? NowMs() + timeout : -1;
  bool first = true;
  int err;
  int rc = Retrying(info.Env(), epfd, &err, [&] {
    int wait = timeout;
    if (!first && deadline >= 0) {
      int64_t left = deadline - NowMs();
      wait = left > 0 ? static_cast<int>(left) : 0;
    }
    first = false;
    return ::epoll_wait(epfd, events, maxevents, wait);
  });
  return Result(info.Env(), rc, err);
}

}  // namespace

void RegisterEpoll(Napi::Env env, Napi::Object exports) {
  exports.Set("epoll_create1", Napi::Function::New(env, EpollCreate1, "epoll_create1"));
  exports.Set("epoll_ctl", Napi::Function::New(env, EpollCtl, "epoll_ctl"));
  exports.Set("epoll_wait", Napi::Function::New(env, EpollWait, "epoll_wait"));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("size", Napi::Number::New(env, static_cast<double>(sizeof(epoll_event))));
  layout.Set("events", Napi::Number::New(env, static_cast<double>(offsetof(epoll_event, events))));
  layout.Set("data", Napi::Number::New(env, static_cast<double>(offsetof(epoll_event, data))));
  exports.Set("epollLayout", layout);
}

}  // namespace bs
