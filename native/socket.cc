// socket.cc — creating and closing descriptors: the socket, socketpair, close, shutdown system calls
// (man 2 each) and the fcntl flag commands.
//
// Every descriptor is born close-on-exec: SOCK_CLOEXEC where the kernel has it (Linux, FreeBSD), else
// an immediate FD_CLOEXEC (macOS, where a concurrent fork+exec could still see it for an instant).
#include "result.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace bs {
namespace {

#ifndef SOCK_CLOEXEC
void SetCloexecAndNosigpipe(int fd) {
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
}
#endif

// The socket call: (domain, type, protocol) -> fd | -errno
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int32_t domain, type, protocol;
  if (!ArgInt(info, 0, &domain) || !ArgInt(info, 1, &type) || !ArgInt(info, 2, &protocol)) return {};
#ifdef SOCK_CLOEXEC
  int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
  int err = errno;
#else
  int fd = ::socket(domain, type, protocol);  // no SOCK_CLOEXEC here: FD_CLOEXEC just below
  int err = errno;
  if (fd >= 0) SetCloexecAndNosigpipe(fd);
#endif
  return Result(info.Env(), fd, err);
}

// The socketpair call: (domain, type, protocol, Int32Array(2) out) -> 0 | -errno
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int32_t domain, type, protocol;
  uint8_t* out;
  size_t outLen;
  if (!ArgInt(info, 0, &domain) || !ArgInt(info, 1, &type) || !ArgInt(info, 2, &protocol) ||
      !ArgBytes(info, 3, &out, &outLen))
    return {};
  if (outLen < 2 * sizeof(int)) {
    Fail(info.Env(), "berkeley-sockets: socketpair needs an Int32Array(2)");
    return {};
  }
  int sv[2];
#ifdef SOCK_CLOEXEC
  int rc = ::socketpair(domain, type | SOCK_CLOEXEC, protocol, sv);
  int err = errno;
#else
  int rc = ::socketpair(domain, type, protocol, sv);  // no SOCK_CLOEXEC here: FD_CLOEXEC below
  int err = errno;
  if (rc == 0) { SetCloexecAndNosigpipe(sv[0]); SetCloexecAndNosigpipe(sv[1]); }
#endif
  if (rc == 0) std::memcpy(out, sv, sizeof sv);
  return Result(info.Env(), rc, err);
}

// close(fd) -> 0 | -errno. Never retried on EINTR: on Linux the descriptor is already gone, and a
// retry could close a number another thread has just been given (LWN 576478, libuv uv__close).
Napi::Value Close(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (!ArgInt(info, 0, &fd)) return {};
  int rc = ::close(fd);
  int err = errno;
  if (rc < 0 && err == EINTR) rc = 0;
  return Result(info.Env(), rc, err);
}

// shutdown(fd, how) -> 0 | -errno
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int32_t fd, how;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &how)) return {};
  int rc = ::shutdown(fd, how);
  return Result(info.Env(), rc, errno);
}

// fcntl(fd, cmd, arg) -> result | -errno, for the integer flag commands only. Commands that create
// descriptors (F_DUPFD…) or take pointers (F_SETLK…) are refused: they would escape handle ownership
// or read memory we were not given.
Napi::Value Fcntl(const Napi::CallbackInfo& info) {
  int32_t fd, cmd, arg;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &cmd) || !ArgInt(info, 2, &arg)) return {};
  if (cmd != F_GETFL && cmd != F_SETFL && cmd != F_GETFD && cmd != F_SETFD)
    return Napi::Number::New(info.Env(), -EINVAL);
  int rc = ::fcntl(fd, cmd, arg);
  return Result(info.Env(), rc, errno);
}

// The descriptors this environment's SocketHandles own: src/handle.ts keeps one byte per number (1:
// owned) in a Uint8Array and hands it over here whenever it allocates a new one. When the environment
// is torn down — a Worker that ends or is terminated, with sockets it never closed — every descriptor
// still marked is closed, as Node's own sockets are; released ones are no longer marked. One table per
// environment, and an environment lives on one thread: a thread_local finds it.
struct OwnedTable {
  napi_env env;
  napi_ref ref = nullptr;  // keeps the array (and so its bytes) alive until the cleanup
  uint8_t* bytes = nullptr;
  size_t length = 0;
};
thread_local OwnedTable* t_owned = nullptr;

void CloseOwned(void* arg) {
  OwnedTable* table = static_cast<OwnedTable*>(arg);
  for (size_t fd = 0; fd < table->length; fd++)
    if (table->bytes[fd] == 1) ::close(static_cast<int>(fd));  // never retried (close(2), EINTR)
  if (table->ref != nullptr) napi_delete_reference(table->env, table->ref);
  if (t_owned == table) t_owned = nullptr;
  delete table;
}

// setOwnedTable(bytes): from now on, bytes[fd] === 1 marks fd as owned by this environment.
Napi::Value SetOwnedTable(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  uint8_t* bytes;
  size_t length;
  if (!ArgBytes(info, 0, &bytes, &length)) return {};
  if (t_owned == nullptr) {
    t_owned = new OwnedTable{env};
    if (napi_add_env_cleanup_hook(env, CloseOwned, t_owned) != napi_ok) {
      delete t_owned;
      t_owned = nullptr;
      return Napi::Number::New(env, -ENOMEM);
    }
  }
  napi_ref ref;
  if (napi_create_reference(env, info[0], 1, &ref) != napi_ok) return Napi::Number::New(env, -ENOMEM);
  if (t_owned->ref != nullptr) napi_delete_reference(env, t_owned->ref);
  t_owned->ref = ref;
  t_owned->bytes = bytes;
  t_owned->length = length;
  return Napi::Number::New(env, 0);
}

}  // namespace

void RegisterSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("setOwnedTable", Napi::Function::New(env, SetOwnedTable, "setOwnedTable"));
  exports.Set("socket", Napi::Function::New(env, Socket, "socket"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown, "shutdown"));
  exports.Set("fcntl", Napi::Function::New(env, Fcntl, "fcntl"));
}

}  // namespace bs
