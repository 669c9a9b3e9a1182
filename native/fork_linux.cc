// fork_linux.cc — fork(2) for a Node process: berkeley_sockets_fork.node, a target of its own.
//
// Unlike the main addon (pure N-API, one binary for every Node), this file needs V8's and Node's C++
// API (v8::Task, node::GetMultiIsolatePlatform) to park V8's worker threads, and those change between
// Node versions: it is built once per Node ABI (NODE_MODULE_VERSION, exported as `abi`), loaded by
// src/fork.ts on the first fork() only, and refused there unless its ABI is the running Node's. It
// registers through N-API, so loading it for the wrong Node runs no C++ API call: the check comes first.
//
// fork(2) copies the calling thread only. A Node process has more, and memory that does not follow;
// src/fork.ts refuses the cases that cannot be made safe (a Worker, a process not started with
// --single-threaded, requests in flight) and this file makes fork(2) itself survivable. Each step
// below was forced by a measured failure (Node 20, V8 11.3, glibc 2.36, Linux 6.18):
//
//  1. V8 reserves its heap with MADV_DONTFORK (VmFlags "dc" in /proc/self/smaps: 23 ranges, 515 MiB
//     here). A child returning into JavaScript dies at once with SIGSEGV: its heap is not mapped.
//     Those ranges are re-marked MADV_DOFORK just before fork(2) and MADV_DONTFORK again right after,
//     in both processes, so child_process.spawn stays as cheap as before (madvise(2)).
//  2. V8's platform worker threads do not exist in the child, but they were waiting on a condition
//     variable whose memory does. Even with --single-threaded, a full GC posts a job task to them
//     (MarkCompactCollector::ClearNonLiveReferences); in the child, pthread_cond_signal then waits
//     forever for those ghost waiters (glibc __condvar_quiesce_and_switch_g1): 3 of 5 children hung.
//     So before fork(2) every worker is parked in a task of ours — none is waiting on that condition
//     variable or holding the queue's lock — and released in the parent after. In the child, tasks
//     posted later just stay queued (a few bytes per full GC).
//  3. libuv's loop must re-create its epoll instance and its internal pipes: uv_loop_fork().
//  4. Node's teardown joins threads that do not exist in the child: a child leaving through exit(3)
//     crashed in pthread_join (SIGSEGV), or hung before it in NodePlatform::DrainTasks, waiting for
//     worker tasks no thread will ever run. The child therefore never gets there: a watcher
//     (ExitWatch below) notices when its loop has nothing left to do and lets JavaScript emit
//     'beforeExit' and 'exit'; src/fork.ts then ends the process with _exit(2), as it does for
//     process.exit() and uncaught exceptions.
#include "result.h"

#include <fcntl.h>
// node.h (for V8's platform) brings node_version.h, which redefines NAPI_VERSION to the runtime's:
// keep the version binding.gyp chose.
#pragma push_macro("NAPI_VERSION")
#undef NAPI_VERSION
#include <node.h>
#include <node_version.h>
#pragma pop_macro("NAPI_VERSION")
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bs {
namespace {

// This process is a child made by Fork(): V8's workers were parked in the parent and are gone here,
// so a nested fork has nothing to park. Process-wide by nature: it describes the process, not an env.
bool forked_child = false;

struct Range {
  uintptr_t start;
  size_t length;
};

// The mappings marked MADV_DONTFORK (VmFlags "dc", proc(5)), read from /proc/self/smaps. Mappings the
// kernel made (VM_IO "io", VM_PFNMAP "pf") refuse MADV_DOFORK, and are not V8's: skipped.
int DontForkRanges(std::vector<Range>* out) {
  int fd = ::open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  std::string text;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) { text.append(buf, static_cast<size_t>(n)); continue; }
    if (n < 0 && errno == EINTR) continue;
    int err = n < 0 ? errno : 0;
    ::close(fd);
    if (err != 0) return -err;
    break;
  }
  uintptr_t start = 0, end = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const char* line = text.c_str() + pos;
    size_t len = eol - pos;
    pos = eol + 1;
    // A mapping's header starts with its lowercase hex range "start-end"; field lines with a name.
    if (len > 0 && ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f'))) {
      char* dash;
      unsigned long long a = std::strtoull(line, &dash, 16);
      if (*dash == '-') {
        start = static_cast<uintptr_t>(a);
        end = static_cast<uintptr_t>(std::strtoull(dash + 1, nullptr, 16));
      }
      continue;
    }
    if (len < 8 || std::strncmp(line, "VmFlags:", 8) != 0) continue;
    // Each flag is two letters between spaces: " dc " matches the flag, never part of another.
    std::string flags(" ");
    flags.append(line + 8, len - 8).append(" ");
    auto has = [&](const char* f) {
      char word[5] = {' ', f[0], f[1], ' ', '\0'};
      return flags.find(word) != std::string::npos;
    };
    if (has("dc") && !has("io") && !has("pf") && end > start) out->push_back({start, end - start});
  }
  return 0;
}

// Marks every range with `advice`; on failure undoes what it did (with `undo`) and returns -errno.
int Advise(const std::vector<Range>& ranges, int advice, int undo) {
  for (size_t i = 0; i < ranges.size(); i++) {
    if (::madvise(reinterpret_cast<void*>(ranges[i].start), ranges[i].length, advice) != 0) {
      int err = errno;
      for (size_t j = 0; j < i; j++) ::madvise(reinterpret_cast<void*>(ranges[j].start), ranges[j].length, undo);
      return -err;
    }
  }
  return 0;
}

// Step 2: one task per V8 platform worker thread, each holding its thread until released. Shared by
// the tasks and Fork() through a shared_ptr: in the child the ghost tasks keep it (leaked, harmless).
struct Parking {
  std::mutex mutex;
  std::condition_variable changed;
  int parked = 0;
  bool released = false;
};

class ParkTask : public v8::Task {
 public:
  explicit ParkTask(std::shared_ptr<Parking> p) : parking_(std::move(p)) {}
  void Run() override {
    std::unique_lock<std::mutex> lock(parking_->mutex);
    parking_->parked++;
    parking_->changed.notify_all();
    parking_->changed.wait(lock, [this] { return parking_->released; });
  }

 private:
  std::shared_ptr<Parking> parking_;
};

void Release(const std::shared_ptr<Parking>& parking) {
  if (!parking) return;
  std::lock_guard<std::mutex> lock(parking->mutex);
  parking->released = true;
  parking->changed.notify_all();
}

// Parks every worker of the platform, or returns -EBUSY if they are not all idle within `ms` (a
// worker busy with a long task: V8 was started without --single-threaded, for instance).
// Node's NumberOfWorkerThreads() counts its delayed-task scheduler thread too (it is threads_.size()
// in node_platform.cc: 5 for the default 4 workers), and that thread never runs tasks. So one task
// is posted per counted thread; the first fork waits for all but one, gives the last a 2 ms grace
// period in case a platform counts exactly, and remembers how many came. A task that no worker takes
// returns at once when one finally does.
int ParkWorkers(v8::Isolate* isolate, int ms, std::shared_ptr<Parking>* out) {
  static int workers = -1;  // measured at the first fork; the platform's thread count never changes
  node::Environment* env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  node::MultiIsolatePlatform* platform = env != nullptr ? node::GetMultiIsolatePlatform(env) : nullptr;
  if (platform == nullptr) return -ENOTSUP;
  int counted = platform->NumberOfWorkerThreads();
  int expected = workers >= 0 ? workers : counted - 1;
  auto parking = std::make_shared<Parking>();
  for (int i = 0; i < counted; i++) platform->CallOnWorkerThread(std::make_unique<ParkTask>(parking));
  std::unique_lock<std::mutex> lock(parking->mutex);
  bool all = parking->changed.wait_for(lock, std::chrono::milliseconds(ms), [&] { return parking->parked >= expected; });
  if (all && workers < 0) {
    parking->changed.wait_for(lock, std::chrono::milliseconds(2), [&] { return parking->parked >= counted; });
    workers = parking->parked;
  }
  lock.unlock();
  if (!all) {
    Release(parking);
    return -EBUSY;
  }
  *out = std::move(parking);
  return 0;
}

// Step 4: in the child, a referenced uv_prepare_t keeps the loop from ending on its own (which would
// reach Node's teardown). Before each poll it asks libuv whether the loop would still be alive
// without it; when not, it calls back JavaScript — "beforeExit", and then "exit" if the loop is still
// empty — exactly where Node would have emitted those events.
struct ExitWatch {
  uv_prepare_t handle;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context;
};

bool LoopWouldEnd(uv_loop_t* loop, uv_prepare_t* self) {
  uv_unref(reinterpret_cast<uv_handle_t*>(self));
  bool alive = uv_loop_alive(loop) != 0;
  uv_ref(reinterpret_cast<uv_handle_t*>(self));
  return !alive;
}

void Emit(ExitWatch* w, const char* event) {
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  w->callback.MakeCallback(env.Global(), {Napi::String::New(env, event)}, *w->context);
  if (env.IsExceptionPending()) {
    napi_value err;
    napi_get_and_clear_last_exception(w->env, &err);
    napi_fatal_exception(w->env, err);
  }
}

void OnPrepare(uv_prepare_t* handle) {
  ExitWatch* w = reinterpret_cast<ExitWatch*>(handle);
  if (!LoopWouldEnd(handle->loop, handle)) return;
  Emit(w, "beforeExit");
  if (!LoopWouldEnd(handle->loop, handle)) return;  // a 'beforeExit' listener scheduled more work
  Emit(w, "exit");                                   // ends the process with _exit(2)
  _exit(0);                                          // not reached; never fall into Node's teardown
}

// One per process: a nested fork's child inherits its parent's watch, already on the loop (a second
// one would see the first as work left, and the loop would never look empty).
ExitWatch* exit_watch = nullptr;

int WatchExit(Napi::Env env, uv_loop_t* loop, Napi::Function callback) {
  if (exit_watch != nullptr) return 0;
  ExitWatch* w = new ExitWatch();  // lives as long as the process
  int rc = uv_prepare_init(loop, &w->handle);
  if (rc != 0) { delete w; return rc; }
  w->env = env;
  w->callback = Napi::Persistent(callback);
  w->context = new Napi::AsyncContext(env, "berkeley-sockets:fork-exit");
  exit_watch = w;
  return uv_prepare_start(&w->handle, OnPrepare);
}

void ChildFatal(const char* what, int rc) {
  const char* msg = uv_strerror(rc);
  std::string line = std::string("berkeley-sockets: fork(): ") + what + " failed in the child: " + msg + "\n";
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
  _exit(70);  // EX_SOFTWARE: the child cannot run JavaScript without it
}

// fork(onExit, parkTimeoutMs) -> child pid in the parent, 0 in the child, or -errno (fork EAGAIN /
// ENOMEM, madvise, EBUSY when the workers would not park). onExit(event) is called in the child when
// its loop runs out of work (see ExitWatch).
Napi::Value Fork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) { Fail(env, "berkeley-sockets: fork needs a callback"); return {}; }
  int32_t parkMs;
  if (!ArgInt(info, 1, &parkMs)) return {};
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) { Fail(env, "berkeley-sockets: no event loop"); return {}; }
  // Backstop for src/fork.ts: only the main thread (whose thread id is the process id) may fork.
  if (static_cast<pid_t>(::syscall(SYS_gettid)) != ::getpid()) return Napi::Number::New(env, -EPERM);

  std::vector<Range> ranges;
  int rc = DontForkRanges(&ranges);
  if (rc < 0) return Napi::Number::New(env, rc);

  std::shared_ptr<Parking> parking;
  if (!forked_child) {
    rc = ParkWorkers(v8::Isolate::GetCurrent(), parkMs, &parking);
    if (rc < 0) return Napi::Number::New(env, rc);
  }
  rc = Advise(ranges, MADV_DOFORK, MADV_DONTFORK);
  if (rc < 0) { Release(parking); return Napi::Number::New(env, rc); }

  pid_t pid = ::fork();
  int err = errno;

  Advise(ranges, MADV_DONTFORK, MADV_DOFORK);  // both processes: as V8 left them
  if (pid != 0) {
    Release(parking);
    return Result(env, pid, err);
  }
  forked_child = true;
  rc = uv_loop_fork(loop);
  if (rc != 0) ChildFatal("uv_loop_fork", rc);
  rc = WatchExit(env, loop, info[0].As<Napi::Function>());
  if (rc != 0) ChildFatal("uv_prepare_start", rc);
  return Napi::Number::New(env, 0);
}

}  // namespace
}  // namespace bs

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("fork", Napi::Function::New(env, bs::Fork, "fork"));
  // The Node ABI this file was compiled against: the platform interface above is V8's C++ API, which
  // (unlike N-API) changes between Node versions, so this binary must match the running Node.
  exports.Set("abi", Napi::Number::New(env, NODE_MODULE_VERSION));
  return exports;
}

NODE_API_MODULE(berkeley_sockets_fork, Init)
