// watcher_linux.cc — what the async API's watcher (watcher.cc) asks of Linux (platform.h): is this
// descriptor a pidfd, and does another watcher of the loop already have it in libuv's epoll set.
#include "platform.h"

#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bs {

// A pidfd is a descriptor of its own, which nothing else on the loop watches: src/async/waitpid.ts
// waits for it to become readable.
bool IsPidfd(int fd, int err) {
  char path[64], target[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(path, target, sizeof target - 1);
  if (err == ENOTSOCK && n > 0) {
    target[n] = '\0';
    if (strcmp(target, "anon_inode:[pidfd]") == 0) return true;
  }
  errno = err;
  return false;
}

// Adds the descriptor to libuv's own epoll set, and takes it out again: EEXIST means it is there
// already, another watcher's (a Node net socket, libuv's internal eventfd).
int ProbeUnwatched(uv_loop_t* loop, int fd) {
  epoll_event probe{};
  int backend = uv_backend_fd(loop);
  if (::epoll_ctl(backend, EPOLL_CTL_ADD, fd, &probe) != 0) return errno;
  ::epoll_ctl(backend, EPOLL_CTL_DEL, fd, &probe);
  return 0;
}

}  // namespace bs
