// readiness.cc — the watcher behind the async API: a uv_poll_t (epoll/kqueue) on this environment's own
// loop (napi_get_uv_event_loop, so it works in worker threads), reporting when a descriptor is readable
// or writable. JavaScript then makes the non-blocking call itself; no thread ever blocks in a syscall.
//
// Lifetime: the uv handle lives in a heap Slot that outlives the JS object until uv_close completes.
// While started, the watcher pins its JS object (so a pending operation cannot be collected), and an
// environment cleanup hook closes it if the environment (a worker) goes away first.
#include "interrupt.h"
#include "result.h"

#include <poll.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#endif
#include <sys/select.h>
#include <time.h>
#include <uv.h>

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

// select(readFds, writeFds, exceptFds: Int32Array, timeoutUs: number (-1 blocks)) -> ready count |
// -errno. Descriptors that are not ready are overwritten with -1. A descriptor outside
// [0, FD_SETSIZE) is EINVAL here: FD_SET on it would write past the fd_set (src/ rejects it first).
Napi::Value Select(const Napi::CallbackInfo& info) {
  uint8_t* raw[3];
  size_t len[3];
  for (int k = 0; k < 3; k++)
    if (!ArgBytes(info, k, &raw[k], &len[k])) return {};
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
    rc = ::select(nfds, &work[0], &work[1], &work[2], tvp);
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

// A pidfd (pidfd_open(2)) is watched too: src/fork.ts's async waitpid waits for it to become readable.
// It is a descriptor of its own, which nothing else on the loop watches.
bool IsPidfd(int fd, int err) {
#ifdef __linux__
  char path[64], target[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (err == ENOTSOCK && n > 0) {
    target[n] = '\0';
    if (strcmp(target, "anon_inode:[pidfd]") == 0) return true;
  }
#endif
  errno = err;
  return false;
}

class Poller;

// An Error carrying errno (negative, as everywhere in this addon) and syscall, for src/ to turn into
// a SystemError.
void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, syscall);
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
}

struct Slot {
  uv_poll_t handle;
  Poller* owner;
};

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller", {
      InstanceMethod("start", &Poller::Start),
      InstanceMethod("stop", &Poller::Stop),
      InstanceMethod("close", &Poller::Close),
      InstanceMethod("ref", &Poller::DoRef),
      InstanceMethod("unref", &Poller::DoUnref),
    });
  }

  // new Poller(fd, callback(status, events)). status is 0 or a negative errno (as libuv reports it).
  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    int32_t fd;
    if (!ArgInt(info, 0, &fd)) return;
    if (!info[1].IsFunction()) { Fail(env, "berkeley-sockets: Poller needs a callback"); return; }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Fail(env, "berkeley-sockets: no event loop");
      return;
    }
    // Watch only sockets, and only ones nobody else watches on this loop: libuv's own probe
    // (uv__io_check_fd) would DEL another watcher's epoll registration — a Node net socket's, or
    // libuv's internal eventfd's — and that socket or the whole loop would silently stop.
    int type = 0;
    socklen_t typeLen = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLen) != 0 && !IsPidfd(fd, errno)) {
      ThrowErrno(env, errno, "getsockopt");
      return;
    }
#ifdef __linux__
    epoll_event probe{};
    int backend = uv_backend_fd(loop);
    if (::epoll_ctl(backend, EPOLL_CTL_ADD, fd, &probe) != 0) {
      ThrowErrno(env, errno, "epoll_ctl");  // EEXIST: another owner watches this descriptor
      return;
    }
    ::epoll_ctl(backend, EPOLL_CTL_DEL, fd, &probe);
#endif
    slot_ = new Slot{};
    slot_->owner = this;
    int rc = uv_poll_init(loop, &slot_->handle, fd);
    if (rc != 0) {
      delete slot_;  // never initialised: nothing for libuv to close
      slot_ = nullptr;
      ThrowErrno(env, -rc, "uv_poll_init");  // libuv errors are -errno on Unix
      return;
    }
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "berkeley-sockets:poll");
    napi_add_env_cleanup_hook(env, CleanupHook, this);
    hooked_ = true;
  }

  ~Poller() override { Shutdown(); }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    int32_t events;
    if (!ArgInt(info, 0, &events)) return {};
    if (slot_ == nullptr) return Napi::Number::New(info.Env(), -EBADF);
    int rc = uv_poll_start(&slot_->handle, events & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED), OnPoll);
    if (rc == 0 && !pinned_) { Ref(); pinned_ = true; }
    return Napi::Number::New(info.Env(), rc);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (slot_ != nullptr) uv_poll_stop(&slot_->handle);
    Unpin();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value DoRef(const Napi::CallbackInfo& info) {
    if (slot_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&slot_->handle));
    return info.Env().Undefined();
  }

  Napi::Value DoUnref(const Napi::CallbackInfo& info) {
    if (slot_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&slot_->handle));
    return info.Env().Undefined();
  }

  void Unpin() {
    if (pinned_) { pinned_ = false; Unref(); }
  }

  // Stops watching and hands the uv handle to uv_close; safe to call more than once, from JS, from the
  // destructor (GC) or from the environment's cleanup hook.
  void Shutdown() {
    if (hooked_) { napi_remove_env_cleanup_hook(Env(), CleanupHook, this); hooked_ = false; }
    if (slot_ != nullptr) {
      uv_poll_stop(&slot_->handle);
      slot_->owner = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(&slot_->handle),
               [](uv_handle_t* h) { delete reinterpret_cast<Slot*>(h); });
      slot_ = nullptr;
    }
    delete context_;
    context_ = nullptr;
    // A closed Poller never calls back: let its callback (and whatever that holds) be collected now.
    if (!finalizing_) callback_.Reset();
    if (!finalizing_) Unpin();
  }

  static void CleanupHook(void* arg) {
    Poller* self = static_cast<Poller*>(arg);
    self->hooked_ = false;  // the environment is removing its hooks itself
    self->finalizing_ = true;
    self->Shutdown();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    Poller* self = reinterpret_cast<Slot*>(handle)->owner;
    if (self == nullptr || self->context_ == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // The raw call, not node-addon-api's MakeCallback: while the environment is being torn down, a
    // late event must fail quietly (the watcher then stops), not throw where no JavaScript can run.
    napi_value argv[2] = {Napi::Number::New(env, status), Napi::Number::New(env, events)};
    napi_value result;
    napi_status st = napi_make_callback(env, *self->context_, self->Value(), self->callback_.Value(), 2, argv, &result);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      // A throwing callback is an uncaught exception, as for any Node callback.
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    } else if (st != napi_ok && self->slot_ != nullptr) {
      uv_poll_stop(&self->slot_->handle);
    }
  }

  Slot* slot_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
  bool pinned_ = false;
  bool hooked_ = false;
  bool finalizing_ = false;
};

}  // namespace

void RegisterReadiness(Napi::Env env, Napi::Object exports) {
  exports.Set("Poller", Poller::Define(env));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("select", Napi::Function::New(env, Select, "select"));
  Napi::Object uv = Napi::Object::New(env);
  uv.Set("UV_READABLE", Napi::Number::New(env, UV_READABLE));
  uv.Set("UV_WRITABLE", Napi::Number::New(env, UV_WRITABLE));
  uv.Set("UV_DISCONNECT", Napi::Number::New(env, UV_DISCONNECT));
  uv.Set("UV_PRIORITIZED", Napi::Number::New(env, UV_PRIORITIZED));
  exports.Set("uv", uv);
}

}  // namespace bs
