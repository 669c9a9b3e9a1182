// interrupt.h — blocking system calls that a signal handled in JavaScript can interrupt.
//
// Node runs a JavaScript signal listener (process.on('SIGINT', …)) on the event loop, which a blocking
// call in the synchronous API holds up; libuv installs its handler with SA_RESTART, so the kernel would
// even restart accept(2) or recv(2) without telling anyone, and Ctrl-C would do nothing. CPython's answer
// (PEP 475) is ours: for every signal that has a JavaScript listener, src/signals.ts asks this file to
// chain libuv's handler without SA_RESTART. A signal that arrives during a blocking call then makes the
// call fail with EINTR; the call runs that signal's listeners at once (process.emit, synchronously, on
// the same thread) and, unless one of them throws, retries — with the time left for poll/select. A
// listener that throws ends the call with its exception, as KeyboardInterrupt does in Python. A signal
// without a listener keeps its default action: Ctrl-C ends the process during any blocking call.
#pragma once

#include <napi.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <cerrno>

namespace bs {

// Marks the calling thread as inside a blocking system call for its lifetime (nests). On the main
// thread it takes part in signal dispatch once a signal is chained (elsewhere it costs two loads). On
// a Worker's thread it lets termination interrupt the call: a Worker blocked in accept(2) or read(2)
// would otherwise never see worker.terminate(), and process.exit() would wait for it forever.
class BlockingCall {
 public:
  explicit BlockingCall(napi_env env);
  ~BlockingCall();
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;

  // Call after the system call failed with EINTR. Runs the listeners of the signals that arrived
  // (none: a signal handled elsewhere, or a stop/continue) and returns true to retry; false when a
  // listener threw, and the native function must return at once so that JavaScript sees the exception.
  bool Retry();

  // Call after the system call succeeded. A signal that came while it waited, but did not interrupt
  // it (write(2) and read(2) return the bytes moved so far instead of EINTR), has its listeners run
  // now, before the result goes back: a loop around the call (writeAll, readExactly) would otherwise
  // block again with the listener still waiting for the event loop. False when a listener threw.
  bool Settle();

  // True once this thread's Worker is being terminated (worker.terminate(), process.exit()): the call
  // must not start, or start again; it fails with EINTR, and the ending Worker runs no more JavaScript.
  bool Terminating() const;

 private:
  napi_env env_;
  bool active_;
  bool outer_;
  struct ThreadSlot* slot_;  // this Worker thread's (see interrupt.cc), or null on the main thread
};

// Makes a blocking system call: `call()` again after EINTR, as long as Retry() says so. Returns the
// call's result and sets *err to the errno read right after it.
template <typename Call>
auto Retrying(napi_env env, int* err, Call call) -> decltype(call()) {
  BlockingCall blocking(env);
  decltype(call()) rc;
  do {
    if (blocking.Terminating()) {
      *err = EINTR;
      return -1;
    }
    rc = call();
    *err = errno;
  } while (rc < 0 && *err == EINTR && blocking.Retry());
  if (rc >= 0) blocking.Settle();  // a listener that threw leaves its exception pending: JS sees it
  return rc;
}

// The same for a call on one descriptor, which must not outlive the file it started on: a listener that
// ran during the call may have closed the handle, and a new socket taken the same number (the kernel
// hands out the lowest free one). Retrying on the number would then read another socket's data or
// accept another listener's connection. So the file is identified (fstat(2): device and inode) before
// the listeners run and again after; if it is gone or another, the call fails with EBADF, as it would
// have had the handle been closed before it. Costs two fstat(2) per interruption, none otherwise.
template <typename Call>
auto Retrying(napi_env env, int fd, int* err, Call call) -> decltype(call()) {
  BlockingCall blocking(env);
  for (;;) {
    if (blocking.Terminating()) {
      *err = EINTR;
      return decltype(call())(-1);
    }
    auto rc = call();
    *err = errno;
    if (rc >= 0) {
      blocking.Settle();  // a listener that threw leaves its exception pending: JS sees it
      return rc;
    }
    if (*err != EINTR) return rc;
    struct stat before, after;
    bool known = ::fstat(fd, &before) == 0;
    if (!blocking.Retry()) return rc;  // a listener threw: JavaScript sees its exception
    if (!known || ::fstat(fd, &after) != 0 || before.st_dev != after.st_dev || before.st_ino != after.st_ino) {
      *err = EBADF;
      return rc;
    }
  }
}

// write(2) on a socket whose peer is gone raises SIGPIPE (send paths add MSG_NOSIGNAL; write(2) has no
// flags). Node ignores SIGPIPE, so usually nothing happens — but a process.on('SIGPIPE') listener
// installs a handler, and removing it makes libuv restore SIG_DFL, which kills. While SIGPIPE is not
// ignored, Write() blocks it in the calling thread around the call and takes the one the call raised
// (sigtimedwait), so that EPIPE is only an error. src/signals.ts keeps the flag up to date.
bool GuardingSigpipe();
ssize_t WriteWithoutSigpipe(int fd, const void* data, size_t len);

void RegisterInterrupt(Napi::Env env, Napi::Object exports);

}  // namespace bs
