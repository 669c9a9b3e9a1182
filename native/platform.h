// platform.h — what differs between the platforms, behind one interface (as serialport and socket2 do):
// binding.gyp compiles *_linux.cc on Linux and platform_other.cc elsewhere, so no other file needs an
// #ifdef __linux__ span.
#pragma once

#include <napi.h>

#include <cstddef>

// Declared, not included: uv.h brings <netinet/tcp.h>, which clashes with the <linux/tcp.h> that
// options_linux.cc needs for the kernel's struct tcp_info.
typedef struct uv_loop_s uv_loop_t;

namespace bs {

// Adds the layouts of the option structures only this platform has to `all` (Linux: ip_mreqn, ucred,
// tcp_info — the kernel's struct tcp_info, as glibc's copy lags behind —, packet_mreq, sock_filter and
// sock_fprog). options_linux.cc.
void AddPlatformLayouts(Napi::Env env, Napi::Object all);

// The unit in which the kernel counts option (level, name)'s optlen: 1 (bytes) but for Linux's
// SO_GET_FILTER, counted in struct sock_filter (sk_get_filter): a length in bytes there would let the
// kernel write 8 times the buffer. options_linux.cc; 1 elsewhere.
size_t OptlenUnit(int level, int name);

// SO_ATTACH_FILTER (socket(7)): exports setsockoptFprog(fd, level, name, program), which passes a struct
// sock_fprog pointing at the program's instructions. options_linux.cc; elsewhere -ENOSYS.
void RegisterSocketFilter(Napi::Env env, Napi::Object exports);

// Whether `fd`, for which getsockopt(SO_TYPE) failed with `err`, is a pidfd (pidfd_open(2)), which the
// async API watches too; errno is left as `err`. watcher_linux.cc.
bool IsPidfd(int fd, int err);

// 0 when no other watcher of `loop` has `fd` in its epoll set, else the errno of the probe (EEXIST):
// a second libuv watcher on one descriptor would, when stopped, remove the first one's registration.
// Where the backend cannot be probed, 0. watcher_linux.cc.
int ProbeUnwatched(uv_loop_t* loop, int fd);

// epoll(7): exports epoll_create1, epoll_ctl, epoll_wait and `epollLayout` (struct epoll_event's size
// and field offsets). epoll_linux.cc; elsewhere the same functions answer -ENOSYS, as a kernel
// without the system call would, and the layout is all zeros.
void RegisterEpoll(Napi::Env env, Napi::Object exports);

}  // namespace bs
