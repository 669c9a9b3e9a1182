// process.cc — _exit(2), getpid(2), getppid(2), waitpid(2), pidfd_open(2): the process calls of the
// course's process-per-client server. fork(2) itself needs V8's and Node's C++ API to be survivable in
// a Node process, so it lives in a target of its own (fork_linux.cc, berkeley_sockets_fork.node, built
// per Node ABI); this file, like the rest of this addon, is pure N-API: one binary for every Node.
#include "interrupt.h"
#include "result.h"

#include <cstring>
#include <ctime>

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

namespace bs {
namespace {

// _exit(status): ends the process now — no 'exit' event, no atexit(3) handlers, no stdio flush.
Napi::Value Exit(const Napi::CallbackInfo& info) {
  int32_t status;
  if (!ArgInt(info, 0, &status)) return {};
  _exit(status);
}

Napi::Value GetPid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ::getpid());
}

// clock_gettime(CLOCK_REALTIME, out: Float64Array(2)) -> 0 or -errno; out = [tv_sec, tv_nsec]. The wire
// trace (src/trace/wire.ts) stamps each call with it: the kernel stamps packets (SO_TIMESTAMPNS) with
// this clock, and Node has none finer than Date.now()'s millisecond (performance.now() is monotonic).
Napi::Value ClockRealtime(const Napi::CallbackInfo& info) {
  uint8_t* raw;
  size_t len;
  if (!ArgBytes(info, 0, &raw, &len)) return {};
  if (len < 2 * sizeof(double)) return Napi::Number::New(info.Env(), -EINVAL);
  timespec ts;
  int rc = ::clock_gettime(CLOCK_REALTIME, &ts);
  if (rc < 0) return Result(info.Env(), rc, errno);
  double out[2] = {static_cast<double>(ts.tv_sec), static_cast<double>(ts.tv_nsec)};
  std::memcpy(raw, out, sizeof out);
  return Napi::Number::New(info.Env(), 0);
}

Napi::Value GetPpid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ::getppid());
}

// waitpid(pid, options, out: Int32Array(8)) -> pid, 0 (WNOHANG, nothing yet) or -errno. The status is
// decoded here with the C macros (wait(2)) so that src/ knows no platform's bit layout:
// out = [status, WIFEXITED, WEXITSTATUS, WIFSIGNALED, WTERMSIG, WCOREDUMP, WIFSTOPPED, WSTOPSIG].
// EINTR is retried (PEP 475) after the signal's listeners ran (interrupt.h).
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  int32_t pid, options;
  uint8_t* raw;
  size_t len;
  if (!ArgInt(info, 0, &pid) || !ArgInt(info, 1, &options) || !ArgBytes(info, 2, &raw, &len)) return {};
  if (len < 8 * sizeof(int32_t)) { Fail(info.Env(), "berkeley-sockets: waitpid needs an Int32Array(8)"); return {}; }
  int status = 0;
  int err;
  pid_t rc = Retrying(info.Env(), &err, [&] { return ::waitpid(pid, &status, options); });
  int32_t* out = reinterpret_cast<int32_t*>(raw);
  if (rc > 0) {
    out[0] = status;
    out[1] = WIFEXITED(status) ? 1 : 0;
    out[2] = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    out[3] = WIFSIGNALED(status) ? 1 : 0;
    out[4] = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
#ifdef WCOREDUMP
    out[5] = WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0;
#else
    out[5] = 0;
#endif
    out[6] = WIFSTOPPED(status) ? 1 : 0;
    out[7] = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
  }
  return Result(info.Env(), rc, err);
}

// pidfd_open(pid) -> a descriptor that becomes readable when the process ends (Linux >= 5.3; always
// close-on-exec), or -errno: -ENOSYS where the kernel or the platform has no such call.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int32_t pid;
  if (!ArgInt(info, 0, &pid)) return {};
#ifdef SYS_pidfd_open
  long rc = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
  return Result(info.Env(), static_cast<double>(rc), errno);
#else
  return Napi::Number::New(info.Env(), -ENOSYS);
#endif
}

// Requests in flight on this thread's loop (fs, dns, stream writes…): fork() refuses when there are
// any, since they would never complete in the child, which then could not exit.
Napi::Value LoopRequests(const Napi::CallbackInfo& info) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(info.Env(), &loop) != napi_ok || loop == nullptr) return Napi::Number::New(info.Env(), 0);
  return Napi::Number::New(info.Env(), loop->active_reqs.count);
}

}  // namespace

void RegisterProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("_exit", Napi::Function::New(env, Exit, "_exit"));
  exports.Set("getpid", Napi::Function::New(env, GetPid, "getpid"));
  exports.Set("clock_realtime", Napi::Function::New(env, ClockRealtime, "clock_realtime"));
  exports.Set("getppid", Napi::Function::New(env, GetPpid, "getppid"));
  exports.Set("waitpid", Napi::Function::New(env, WaitPid, "waitpid"));
  exports.Set("pidfd_open", Napi::Function::New(env, PidfdOpen, "pidfd_open"));
  exports.Set("loopRequests", Napi::Function::New(env, LoopRequests, "loopRequests"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("WNOHANG", Napi::Number::New(env, WNOHANG));
  c.Set("WUNTRACED", Napi::Number::New(env, WUNTRACED));
  c.Set("WCONTINUED", Napi::Number::New(env, WCONTINUED));
  exports.Set("process", c);
}

}  // namespace bs
