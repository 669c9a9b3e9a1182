// interrupt.cc — chaining libuv's signal handler so that blocking calls can be interrupted, and write(2)
// without SIGPIPE (interrupt.h).
//
// Process-wide state, because signal dispositions are process-wide. Everything the handler touches is a
// lock-free atomic or written before the handler that reads it is installed; the handler itself only
// sets a bit, forwards the signal to the main thread, or calls the handler it replaced, all
// async-signal-safe (signal-safety(7)).
#include "interrupt.h"

#include "result.h"

#include <pthread.h>
#include <signal.h>

#include <time.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace bs {

// A Worker thread that uses the library. Termination sets `terminating` and sends the thread the wake
// signal (a handler that does nothing, installed without SA_RESTART) while it is `blocking`: its
// system call fails with EINTR, BlockingCall sees `terminating`, and the call returns at once.
struct ThreadSlot {
  pthread_t thread;
  std::atomic<bool> terminating{false};
  std::atomic<int> blocking{0};
  std::mutex mutex;    // held while signalling: `alive` goes false (environment teardown, on the
  bool alive = true;   // thread itself) before the thread can exit, so no signal reaches a dead thread
};

namespace {

constexpr int kMaxSignal = 64;  // signals 1..64 fit one bitmask (Linux's _NSIG is 65)

std::atomic<bool> g_chained{false};     // some signal is chained and a dispatcher is registered
std::atomic<bool> g_blocking{false};    // the main thread is inside a BlockingCall
std::atomic<uint64_t> g_pending{0};     // bit sig-1: arrived during a blocking call, not yet run
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the signal handler needs a lock-free word");
pthread_t g_main;                       // the thread whose JavaScript has the listeners
struct sigaction g_prev[kMaxSignal + 1];  // the handler each chained signal had (libuv's)
napi_env g_env = nullptr;               // the main environment, and its dispatcher:
napi_ref g_dispatch = nullptr;          // (signums: number[]) => void, runs process.emit for each
std::atomic<bool> g_guard_sigpipe{false};  // SIGPIPE is not ignored: write(2) must not raise it

// ── Waking Worker threads ──────────────────────────────────────────────────────────────────────────
std::mutex g_threads_mutex;
std::unordered_map<int32_t, std::shared_ptr<ThreadSlot>> g_threads;  // by worker_threads.threadId
thread_local std::shared_ptr<ThreadSlot> t_slot;
std::atomic<int> g_wake_signal{0};  // 0: not installed (yet, or not possible)

void OnWake(int) {}  // its only effect: the blocking system call returns EINTR

// The wake signal: the third real-time signal, unless something else already handles it.
int InstallWakeSignal() {
  static std::once_flag once;
  std::call_once(once, [] {
    int sig = SIGRTMIN + 3;
    struct sigaction cur;
    if (sig > SIGRTMAX || ::sigaction(sig, nullptr, &cur) < 0) return;
    if ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL) return;  // someone else's: leave it
    struct sigaction wake = {};
    wake.sa_handler = OnWake;
    sigemptyset(&wake.sa_mask);
    wake.sa_flags = 0;  // no SA_RESTART: the point is to interrupt
    if (::sigaction(sig, &wake, nullptr) == 0) g_wake_signal.store(sig);
  });
  return g_wake_signal.load();
}

// Marks the slot terminating and signals its thread while it blocks. A thread may check `terminating`
// just before the flag is set and enter its system call just after the first signal: so the signal
// is repeated (every 5 ms, for up to 10 s) from a helper thread, until the thread is out of its call.
void Wake(const std::shared_ptr<ThreadSlot>& slot) {
  if (slot->terminating.exchange(true)) return;  // already being woken
  int sig = g_wake_signal.load();
  if (sig == 0) return;
  std::thread([slot, sig] {
    for (int i = 0; i < 2000; i++) {
      {
        std::lock_guard<std::mutex> lock(slot->mutex);
        if (!slot->alive) return;
        if (slot->blocking.load() > 0) ::pthread_kill(slot->thread, sig);
      }
      timespec pause = {0, 5 * 1000 * 1000};
      ::nanosleep(&pause, nullptr);
    }
  }).detach();
}

// registerThread(threadId): called by each Worker thread that loads the library.
Napi::Value RegisterThread(const Napi::CallbackInfo& info) {
  int32_t id;
  if (!ArgInt(info, 0, &id)) return {};
  if (InstallWakeSignal() == 0) return Napi::Number::New(info.Env(), -ENOTSUP);
  auto slot = std::make_shared<ThreadSlot>();
  slot->thread = pthread_self();
  {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    g_threads[id] = slot;
  }
  t_slot = slot;
  auto* key = new std::pair<int32_t, std::shared_ptr<ThreadSlot>>(id, slot);
  napi_add_env_cleanup_hook(
      info.Env(),
      [](void* arg) {
        auto* entry = static_cast<std::pair<int32_t, std::shared_ptr<ThreadSlot>>*>(arg);
        {
          std::lock_guard<std::mutex> lock(entry->second->mutex);
          entry->second->alive = false;
        }
        {
          std::lock_guard<std::mutex> lock(g_threads_mutex);
          auto it = g_threads.find(entry->first);
          if (it != g_threads.end() && it->second == entry->second) g_threads.erase(it);
        }
        t_slot.reset();
        delete entry;
      },
      key);
  return Napi::Number::New(info.Env(), 0);
}

// wakeThread(threadId): the Worker is about to be terminated (Worker.prototype.terminate); -1: all of
// them (the process is exiting). 1 if a thread was found, else 0.
Napi::Value WakeThread(const Napi::CallbackInfo& info) {
  int32_t id;
  if (!ArgInt(info, 0, &id)) return {};
  std::vector<std::shared_ptr<ThreadSlot>> slots;
  {
    std::lock_guard<std::mutex> lock(g_threads_mutex);
    for (auto& [tid, slot] : g_threads)
      if (id == -1 || tid == id) slots.push_back(slot);
  }
  for (auto& slot : slots) Wake(slot);
  return Napi::Number::New(info.Env(), slots.empty() ? 0 : 1);
}

void Forward(int sig, siginfo_t* si, void* uc) {
  const struct sigaction& prev = g_prev[sig];
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction != nullptr) prev.sa_sigaction(sig, si, uc);
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
  }
}

void OnSignal(int sig, siginfo_t* si, void* uc) {
  int saved = errno;
  if (!g_blocking.load()) {
    Forward(sig, si, uc);  // the usual path: libuv's handler, and the listener runs on the loop
  } else if (!pthread_equal(pthread_self(), g_main)) {
    ::pthread_kill(g_main, sig);  // the kernel picked another thread; the blocked call is the main one's
  } else {
    g_pending.fetch_or(uint64_t{1} << (sig - 1));  // the syscall returns EINTR; Retry() runs the listener
  }
  errno = saved;
}

// Runs the listeners of the signals in `mask` through the registered dispatcher. False if one threw.
bool Dispatch(napi_env env, uint64_t mask) {
  if (env != g_env || g_dispatch == nullptr) return true;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return true;
  napi_value fn, recv, list, num, ignored;
  bool ok = true;
  if (napi_get_reference_value(env, g_dispatch, &fn) == napi_ok && fn != nullptr &&
      napi_get_undefined(env, &recv) == napi_ok && napi_create_array(env, &list) == napi_ok) {
    uint32_t i = 0;
    for (int sig = 1; sig <= kMaxSignal; sig++) {
      if (!(mask & (uint64_t{1} << (sig - 1)))) continue;
      napi_create_int32(env, sig, &num);
      napi_set_element(env, list, i++, num);
    }
    ok = napi_call_function(env, recv, fn, 1, &list, &ignored) == napi_ok;
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

// chainSignal(signum) -> 1 chained (now or before), 0 nothing to chain (no handler installed: the
// default action applies, which already ends a blocking call), -errno.
Napi::Value ChainSignal(const Napi::CallbackInfo& info) {
  int32_t sig;
  if (!ArgInt(info, 0, &sig)) return {};
  if (sig < 1 || sig > kMaxSignal) return Napi::Number::New(info.Env(), -EINVAL);
  struct sigaction cur;
  if (::sigaction(sig, nullptr, &cur) < 0) return Result(info.Env(), -1, errno);
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == OnSignal) return Napi::Number::New(info.Env(), 1);
  if (!(cur.sa_flags & SA_SIGINFO) && (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN))
    return Napi::Number::New(info.Env(), 0);
  if (cur.sa_flags & SA_RESETHAND) return Napi::Number::New(info.Env(), 0);  // a one-shot: leave it be
  g_prev[sig] = cur;  // written before our handler can run
  struct sigaction ours = cur;
  ours.sa_sigaction = OnSignal;
  ours.sa_flags = (cur.sa_flags & ~SA_RESTART) | SA_SIGINFO;
  if (::sigaction(sig, &ours, nullptr) < 0) return Result(info.Env(), -1, errno);
  g_chained.store(g_dispatch != nullptr);
  return Napi::Number::New(info.Env(), 1);
}

// setSignalDispatcher(fn): called once, from the main thread, before any chainSignal.
Napi::Value SetSignalDispatcher(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!info[0].IsFunction()) {
    Fail(info.Env(), "berkeley-sockets: expected a function");
    return {};
  }
  if (g_dispatch != nullptr) {
    if (g_env != env) return Napi::Number::New(env, -EBUSY);  // another environment owns the signals
    napi_delete_reference(env, g_dispatch);
  }
  g_main = pthread_self();
  g_env = env;
  napi_create_reference(env, info[0], 1, &g_dispatch);
  napi_add_env_cleanup_hook(
      env,
      [](void* arg) {
        g_chained.store(false);  // the handler goes on forwarding to libuv; nothing calls back into JS
        napi_delete_reference(static_cast<napi_env>(arg), g_dispatch);
        g_dispatch = nullptr;
        g_env = nullptr;
      },
      env);
  return Napi::Number::New(env, 0);
}

// sigpipeGuard(restoreIgnore) -> 1 when write(2) now guards against SIGPIPE, 0 when SIGPIPE is ignored.
// With restoreIgnore, a SIGPIPE back at SIG_DFL (libuv's doing when the last listener goes) is ignored
// again, as Node set it at startup.
Napi::Value SigpipeGuard(const Napi::CallbackInfo& info) {
  bool restore = info[0].ToBoolean();
  struct sigaction cur;
  if (::sigaction(SIGPIPE, nullptr, &cur) < 0) return Result(info.Env(), -1, errno);
  bool plain = !(cur.sa_flags & SA_SIGINFO);
  if (restore && plain && cur.sa_handler == SIG_DFL) {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGPIPE, &ignore, &cur) == 0) cur = ignore;
  }
  bool ignored = plain && cur.sa_handler == SIG_IGN;
  g_guard_sigpipe.store(!ignored);
  return Napi::Number::New(info.Env(), ignored ? 0 : 1);
}

}  // namespace

bool GuardingSigpipe() { return g_guard_sigpipe.load(std::memory_order_relaxed); }

ssize_t WriteWithoutSigpipe(int fd, const void* data, size_t len) {
  sigset_t pipe, old, pending;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, &old);
  // One already pending (sent by someone else) is left for its handler.
  bool already = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  ssize_t n = ::write(fd, data, len);
  int err = errno;
  if (n < 0 && err == EPIPE && !already) {
    // The kernel sends SIGPIPE to the writing thread, so it is pending here; take it.
    timespec zero = {0, 0};
    while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

BlockingCall::BlockingCall(napi_env env)
    : env_(env), active_(g_chained.load(std::memory_order_relaxed) && pthread_equal(pthread_self(), g_main)),
      outer_(active_ ? g_blocking.exchange(true) : false), slot_(t_slot.get()) {
  // Before Terminating() is read (Retrying): a waker that sets `terminating` after that read sees this.
  if (slot_ != nullptr) slot_->blocking.fetch_add(1);
}

bool BlockingCall::Terminating() const {
  return slot_ != nullptr && slot_->terminating.load();
}

BlockingCall::~BlockingCall() {
  if (slot_ != nullptr) slot_->blocking.fetch_sub(1);
  if (!active_) return;
  g_blocking.store(outer_);
  if (outer_) return;
  // Signals that arrived after the call had its answer: hand them to libuv as if they came now, so
  // their listeners run on the loop as usual. raise(3) delivers before it returns, to this thread.
  uint64_t pending = g_pending.exchange(0);
  for (int sig = 1; pending != 0; sig++, pending >>= 1)
    if (pending & 1) ::raise(sig);
}

bool BlockingCall::Retry() {
  if (Terminating()) return false;  // the Worker is ending: no retry (and no JavaScript to run)
  if (!active_) return true;
  uint64_t pending = g_pending.exchange(0);
  if (pending == 0) return true;
  g_blocking.store(false);  // a signal during the listeners goes to the loop, the usual way
  bool ok = Dispatch(env_, pending);
  g_blocking.store(true);
  return ok;
}

bool BlockingCall::Settle() {
  if (!active_ || outer_) return true;  // a nested call: the outer one settles
  return Retry();  // the same: run the listeners of what arrived, outside the blocking state
}

void RegisterInterrupt(Napi::Env env, Napi::Object exports) {
  exports.Set("chainSignal", Napi::Function::New(env, ChainSignal, "chainSignal"));
  exports.Set("setSignalDispatcher", Napi::Function::New(env, SetSignalDispatcher, "setSignalDispatcher"));
  exports.Set("sigpipeGuard", Napi::Function::New(env, SigpipeGuard, "sigpipeGuard"));
  exports.Set("registerThread", Napi::Function::New(env, RegisterThread, "registerThread"));
  exports.Set("wakeThread", Napi::Function::New(env, WakeThread, "wakeThread"));
}

}  // namespace bs
