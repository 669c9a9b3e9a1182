// watcher.cc — the readiness watchers behind the async API: one uv_poll_t (epoll/kqueue) per descriptor
// on this environment's own loop (napi_get_uv_event_loop, so it works in worker threads), and one
// Reactor per environment that reports them to JavaScript.
//
// The shape follows libuv's own streams, where uv__read makes the read(2) in the loop and hands the
// bytes to one callback:
//   - A Poller remembers what it saw (status, events) when epoll reports it, and queues itself on its
//     Reactor. Once per loop turn, in the check phase right after the poll phase, the Reactor takes
//     every queued Poller and calls JavaScript ONCE with all of them (one napi_make_callback, so one
//     microtask checkpoint per turn, not one per ready descriptor: with 1,000 connections epoll
//     reports hundreds at a time).
//   - A pending read may be "armed": JavaScript hands the Poller the window of the caller's buffer
//     (held by a reference, and looked up again at the moment of the call, so a buffer detached in
//     between is never written). When readability comes, the Reactor makes the read(2), recv(2) or
//     recvfrom(2) itself and reports the byte count (or -errno), and recvfrom's sender in the entry's
//     address slot: JavaScript does not cross back into C++ to make the call.
//   - pollerSet() brings the watcher in line with JavaScript's queues in one crossing: the events to
//     watch, whether the handle keeps the loop alive, and the armed window. It is a plain function that
//     finds its Poller by number in the environment's PollerTable, not a method: node-addon-api's
//     instance methods pay napi_unwrap on every call (about 790 instructions under callgrind, as much
//     as the rest of the call), and an armed read waits through one such call per read.
// No thread ever blocks: every call here is made on a descriptor epoll just reported ready, and one
// that would block (EAGAIN: another reader was faster) just leaves the read armed.
//
// Lifetime: a uv handle lives in a heap Slot that outlives its JS object until uv_close completes.
// While watching, a Poller pins its JS object. Async cleanup hooks close everything, and make the
// environment wait for the closes, if the environment (a worker) goes away first; a Poller shut down
// leaves its Reactor's queue at once.
#include "addrout.h"
#include "interrupt.h"
#include "platform.h"
#include "result.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <vector>

namespace bs {
namespace {

// Set in a reported entry's events when the Reactor made the armed read; the entry's result is then
// the byte count or -errno.
constexpr int kReadDone = 1 << 16;
// One reported entry: fd, serial, status, events, result (int32 each).
constexpr size_t kEntry = 5;
// Each entry's slot in the address area: an armed recvfrom's sender, [socklen][sockaddr] (addrout.h).
constexpr size_t kAddrSlot = kAddrHeader + sizeof(sockaddr_storage);
// Armed read kinds: the system call the caller asked for, so that strace shows what the program says.
enum ArmKind { kArmRead = 0, kArmRecv = 1, kArmRecvfrom = 2 };
// pollerSet's flags, one integer (six arguments, not seven: node-addon-api's CallbackInfo allocates
// its argument array on the heap past six): the uv events to watch (low byte); kSetHold: the handle
// keeps the loop alive; the armed read's ArmKind << kArmShift; kArmRelease: let the loop go once the
// armed read is made.
constexpr int kSetHold = 1 << 16;
constexpr int kArmShift = 20;
constexpr int kArmRelease = 1 << 24;


class Poller;

// A uv handle on the heap, which outlives its owner until uv_close completes. When a worker's
// environment is torn down, its async cleanup hook (napi_add_async_cleanup_hook) waits for that
// close: the close callback is this addon's code, which Node unloads with the environment.
template <typename Handle, typename Owner>
struct Slot {
  Handle handle;
  Owner* owner = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;  // the environment waits for this close

  static void Close(Slot* s) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), [](uv_handle_t* h) {
      Slot* slot = reinterpret_cast<Slot*>(h);
      napi_async_cleanup_hook_handle hook = slot->hook;
      delete slot;
      if (hook != nullptr) napi_remove_async_cleanup_hook(hook);
    });
  }
};

class Reactor;
using CheckSlot = Slot<uv_check_t, Reactor>;
using PollSlot = Slot<uv_poll_t, Poller>;

// An environment's Pollers by number, for pollerSet. Held by the environment (until its cleanup hook
// runs) and by each Poller in it (until it shuts down): the last to let go deletes it, in whatever
// order a worker's teardown runs hooks and finalizers. Used on the environment's thread only.
struct PollerTable {
  std::vector<Poller*> slots;
  std::vector<int32_t> unused;
  int refs = 1;

  int32_t Add(Poller* p) {
    refs++;
    if (!unused.empty()) {
      int32_t id = unused.back();
      unused.pop_back();
      slots[static_cast<size_t>(id)] = p;
      return id;
    }
    slots.push_back(p);
    return static_cast<int32_t>(slots.size() - 1);
  }
  Poller* Find(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < slots.size() ? slots[static_cast<size_t>(id)] : nullptr;
  }
  void Remove(int32_t id) {
    slots[static_cast<size_t>(id)] = nullptr;
    unused.push_back(id);
    Unref();
  }
  void Unref() {
    if (--refs == 0) delete this;
  }
};

// The environment's teardown: the owner shuts down, and the environment waits for its handle's close.
template <typename Owner>
void TearDown(napi_async_cleanup_hook_handle hook, void* arg) {
  Owner* self = static_cast<Owner*>(arg);
  self->hook_ = nullptr;  // removed by the close callback instead
  self->finalizing_ = true;
  if (self->slot_ != nullptr) self->slot_->hook = hook;
  else napi_remove_async_cleanup_hook(hook);
  self->Shutdown();
}

class Reactor : public Napi::ObjectWrap<Reactor> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Reactor", std::initializer_list<Napi::ClassPropertyDescriptor<Reactor>>{});
  }

  // new Reactor(flush(batch: Int32Array, count, addrs: Uint8Array)): batch holds `count` entries of
  // kEntry int32s; addrs, a kAddrSlot-byte slot per entry (the sender of an armed recvfrom).
  explicit Reactor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reactor>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) { Fail(env, "berkeley-sockets: Reactor needs a callback"); return; }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Fail(env, "berkeley-sockets: no event loop");
      return;
    }
    slot_ = new CheckSlot{};
    slot_->owner = this;
    uv_check_init(loop, &slot_->handle);
    uv_unref(reinterpret_cast<uv_handle_t*>(&slot_->handle));  // never keeps the loop alive itself
    flush_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "berkeley-sockets:poll");
    if (!Grow(env, 64)) return;
    napi_add_async_cleanup_hook(env, TearDown<Reactor>, this, &hook_);
  }

  ~Reactor() override { Shutdown(); }

  // Called from a Poller's uv callback: report it at the end of this loop turn.
  void Enqueue(Poller* p);
  void Remove(Poller* p) {
    auto it = std::find(queue_.begin(), queue_.end(), p);
    if (it != queue_.end()) queue_.erase(it);
  }

 private:
  bool Grow(Napi::Env env, size_t entries) {
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, entries * kEntry * sizeof(int32_t));
    if (env.IsExceptionPending()) return false;
    Napi::Int32Array arr = Napi::Int32Array::New(env, entries * kEntry, ab, 0);
    if (env.IsExceptionPending()) return false;
    Napi::ArrayBuffer addrAb = Napi::ArrayBuffer::New(env, entries * kAddrSlot);
    if (env.IsExceptionPending()) return false;
    Napi::Uint8Array addrs = Napi::Uint8Array::New(env, entries * kAddrSlot, addrAb, 0);
    if (env.IsExceptionPending()) return false;
    batch_ = Napi::Persistent(arr);
    addrs_ = Napi::Persistent(addrs);
    data_ = static_cast<int32_t*>(ab.Data());
    addrData_ = static_cast<uint8_t*>(addrAb.Data());
    capacity_ = entries;
    return true;
  }

  void Shutdown() {
    if (hook_ != nullptr) { napi_remove_async_cleanup_hook(hook_); hook_ = nullptr; }
    queue_.clear();
    if (slot_ != nullptr) {
      uv_check_stop(&slot_->handle);
      slot_->owner = nullptr;
      CheckSlot::Close(slot_);
      slot_ = nullptr;
    }
    delete context_;
    context_ = nullptr;
    if (!finalizing_) { flush_.Reset(); batch_.Reset(); addrs_.Reset(); }
    data_ = nullptr;
    addrData_ = nullptr;
    capacity_ = 0;
  }

  static void OnCheck(uv_check_t* handle);
  friend void TearDown<Reactor>(napi_async_cleanup_hook_handle, void*);

  CheckSlot* slot_ = nullptr;
  std::vector<Poller*> queue_;
  std::vector<Poller*> work_;  // the turn being reported (kept to reuse its memory)
  Napi::FunctionReference flush_;
  Napi::Reference<Napi::Int32Array> batch_;
  Napi::Reference<Napi::Uint8Array> addrs_;
  int32_t* data_ = nullptr;
  uint8_t* addrData_ = nullptr;
  size_t capacity_ = 0;
  Napi::AsyncContext* context_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  bool finalizing_ = false;
};

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env, PollerTable* table) {
    return DefineClass(env, "Poller", {
      InstanceMethod("close", &Poller::Close),
      InstanceMethod("setup", &Poller::Setup),
    }, table);
  }

  // new Poller(reactor, fd, serial). Makes the descriptor non-blocking (uv_poll_init).
  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) { Fail(env, "berkeley-sockets: Poller needs a Reactor"); return; }
    Napi::Object robj = info[0].As<Napi::Object>();
    Reactor* reactor = nullptr;
    if (napi_unwrap(env, robj, reinterpret_cast<void**>(&reactor)) != napi_ok || reactor == nullptr) {
      env.GetAndClearPendingException();
      Fail(env, "berkeley-sockets: Poller needs a Reactor");
      return;
    }
    int32_t fd, serial;
    if (!ArgInt(info, 1, &fd) || !ArgInt(info, 2, &serial)) return;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Fail(env, "berkeley-sockets: no event loop");
      return;
    }
    // Watch only sockets, and only ones nobody else watches on this loop: libuv's own probe
    // (uv__io_check_fd) would DEL another watcher's epoll registration — a Node net socket's, or
    // libuv's internal eventfd's — and that socket or the whole loop would silently stop.
    // A refusal is no exception: setup() reports which call failed and its errno (the Result
    // convention), so that src/ makes the SystemError and the trace prints the calls made.
    int type = 0;
    socklen_t typeLen = sizeof type;
    backend_ = uv_backend_fd(loop);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLen) != 0) {
      int err = errno;
      soType_ = -err;
      if (!IsPidfd(fd, err)) { failed_ = kFailedGetsockopt; return; }
    } else {
      soType_ = type;
    }
    if (int err = ProbeUnwatched(loop, fd); err != 0) {
      probe_ = -err;  // EEXIST: another owner watches this descriptor
      failed_ = kFailedEpollCtl;
      return;
    }
    slot_ = new PollSlot{};
    slot_->owner = this;
    if (int rc = uv_poll_init(loop, &slot_->handle, fd); rc != 0) {
      delete slot_;  // never initialised: nothing for libuv to close
      slot_ = nullptr;
      probe_ = rc;   // libuv errors are -errno on Unix
      failed_ = kFailedPollInit;
      return;
    }
    fd_ = fd;
    serial_ = serial;
    reactor_ = reactor;
    reactorRef_ = Napi::Persistent(robj);  // the Reactor outlives every Poller that reports to it
    table_ = static_cast<PollerTable*>(info.Data());
    id_ = table_->Add(this);
    napi_add_async_cleanup_hook(env, TearDown<Poller>, this, &hook_);
  }

  ~Poller() override { Shutdown(); }

  // setup() -> [SO_TYPE's answer or -errno, the loop's epoll descriptor, the probe's or uv_poll_init's
  // result (0 or -errno), the call that failed (0: none, 1: getsockopt, 2: epoll_ctl, 3: uv_poll_init),
  // the number pollerSet knows this Poller by (-1 when a call failed)].
  // What the constructor's calls saw: src/async/reactor.ts throws for a failure, and the trace prints
  // the calls as strace shows them.
  Napi::Value Setup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array a = Napi::Array::New(env, 5);
    a.Set(0u, Napi::Number::New(env, soType_));
    a.Set(1u, Napi::Number::New(env, backend_));
    a.Set(2u, Napi::Number::New(env, probe_));
    a.Set(3u, Napi::Number::New(env, failed_));
    a.Set(4u, Napi::Number::New(env, table_ != nullptr ? id_ : -1));
    return a;
  }

  // Writes this Poller's entry for the turn into `e` (and an armed recvfrom's sender into `addr`);
  // false when there is nothing to report (the armed read found nothing: another reader was faster,
  // and readability was all there was).
  bool Fill(int32_t* e, uint8_t* addr) {
    queued_ = false;
    int status = status_, events = events_;
    status_ = 0;
    events_ = 0;
    int32_t result = 0;
    if (status == 0 && (events & (UV_READABLE | UV_DISCONNECT)) != 0 && armed_) {
      uint8_t* data = nullptr;
      size_t total = 0;
      napi_value arr;
      napi_typedarray_type type;
      size_t count = 0;
      void* ptr = nullptr;
      if (napi_get_reference_value(Env(), armBuf_, &arr) == napi_ok && arr != nullptr &&
          napi_get_typedarray_info(Env(), arr, &type, &count, &ptr, nullptr, nullptr) == napi_ok &&
          type == napi_uint8_array) {
        data = static_cast<uint8_t*>(ptr);
        total = count;
      }
      // A window that no longer fits (the buffer was detached, or the reference is gone) is left to
      // JavaScript, whose own call then reports it.
      if (data != nullptr && armOff_ <= total && armLen_ <= total - armOff_) {
        ssize_t n;
        sockaddr_storage ss;
        socklen_t alen = 0;
        do {
          if (armKind_ == kArmRecvfrom) {
            alen = sizeof ss;
            n = ::recvfrom(fd_, data + armOff_, armLen_, 0, reinterpret_cast<sockaddr*>(&ss), &alen);
          } else {
            n = armKind_ == kArmRecv ? ::recv(fd_, data + armOff_, armLen_, 0) : ::read(fd_, data + armOff_, armLen_);
          }
        } while (n < 0 && errno == EINTR);
        int err = errno;
        if (n >= 0 && armKind_ == kArmRecvfrom) StoreAddr(addr, ss, alen);
        if (n >= 0 || (err != EAGAIN && err != EWOULDBLOCK)) {
          events |= kReadDone;
          result = n >= 0 ? static_cast<int32_t>(n) : -err;
          Disarm();
          if (releaseAfter_ && referenced_ && slot_ != nullptr) {
            uv_unref(reinterpret_cast<uv_handle_t*>(&slot_->handle));
            referenced_ = false;
          }
        } else if ((events & ~UV_READABLE) == 0) {
          return false;
        }
      }
    }
    e[0] = fd_;
    e[1] = serial_;
    e[2] = status;
    e[3] = events;
    e[4] = result;
    return true;
  }

  // pollerSet(id, serial, flags, buf | undefined, offset, length) -> 0 | -errno: the Poller numbered
  // `id` (setup()'s last entry) made for the watcher `serial` — -EBADF when it has shut down, whatever
  // Poller has the number since. flags: see kSetHold; buf, offset, length: the armed read's window
  // (none when buf is undefined).
  static Napi::Value SetById(const Napi::CallbackInfo& info) {
    int32_t id, serial, flags;
    if (!ArgInt(info, 0, &id) || !ArgInt(info, 1, &serial) || !ArgInt(info, 2, &flags)) return {};
    Poller* p = static_cast<PollerTable*>(info.Data())->Find(id);
    if (p == nullptr || p->serial_ != serial) return Napi::Number::New(info.Env(), -EBADF);
    return p->Set(info, flags);
  }

 private:
  Napi::Value Set(const Napi::CallbackInfo& info, int32_t flags) {
    Napi::Env env = info.Env();
    if (slot_ == nullptr) return Napi::Number::New(env, -EBADF);
    int events = flags & 0xff;
    int hold = (flags & kSetHold) != 0;
    int kind = (flags >> kArmShift) & 0xf;
    if (info[3].IsUndefined()) {
      Disarm();
    } else {
      int64_t off, len;
      if (napi_get_value_int64(env, info[4], &off) != napi_ok || napi_get_value_int64(env, info[5], &len) != napi_ok) {
        Fail(env, "berkeley-sockets: expected an integer argument");
        return {};
      }
      // The reference outlives the read as a weak one, so that a caller reading into the same buffer
      // again (the usual loop) costs no new reference, and an idle socket keeps no buffer alive. The
      // same buffer is not inspected again (napi_get_typedarray_info: as much as the rest of the
      // call): its length is the one seen when it was first armed, and Fill() checks the window
      // against the buffer as it is when the read is made (detached, or shrunk, it is not made).
      napi_value prev = nullptr;
      if (armBuf_ != nullptr) napi_get_reference_value(env, armBuf_, &prev);
      bool same = false;
      if (prev != nullptr) napi_strict_equals(env, prev, info[3], &same);
      size_t total = armTotal_;
      if (!same) {
        napi_typedarray_type type;
        void* ptr = nullptr;
        if (napi_get_typedarray_info(env, info[3], &type, &total, &ptr, nullptr, nullptr) != napi_ok ||
            type != napi_uint8_array) {
          Fail(env, "berkeley-sockets: expected a Uint8Array");
          return {};
        }
      }
      if (off < 0 || len < 0 || static_cast<uint64_t>(off) > total || static_cast<uint64_t>(len) > total - off) {
        Napi::RangeError::New(env, "berkeley-sockets: offset/length outside the buffer").ThrowAsJavaScriptException();
        return {};
      }
      if (same) {
        if (!armed_) napi_reference_ref(env, armBuf_, nullptr);
      } else {
        Release();
        if (napi_create_reference(env, info[3], 1, &armBuf_) != napi_ok) return {};
        armTotal_ = total;
      }
      armOff_ = static_cast<size_t>(off);
      armLen_ = static_cast<size_t>(len);
      armKind_ = kind == kArmRecv ? kArmRecv : kind == kArmRecvfrom ? kArmRecvfrom : kArmRead;
      releaseAfter_ = (flags & kArmRelease) != 0;
      armed_ = true;
    }
    int want = events & (UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED);
    if (want != watching_) {
      int rc = want == 0 ? uv_poll_stop(&slot_->handle) : uv_poll_start(&slot_->handle, want, OnPoll);
      if (rc != 0) {
        Disarm();  // JavaScript fails every waiter: no read may be made for one of them
        return Napi::Number::New(env, rc);
      }
      watching_ = want;
    }
    if (watching_ != 0 && !pinned_) { Ref(); pinned_ = true; }
    if (watching_ == 0) Unpin();
    if ((hold != 0) != referenced_) {
      referenced_ = hold != 0;
      if (referenced_) uv_ref(reinterpret_cast<uv_handle_t*>(&slot_->handle));
      else uv_unref(reinterpret_cast<uv_handle_t*>(&slot_->handle));
    }
    return Napi::Number::New(env, 0);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  // No read armed; the buffer's reference turns weak (armed_ is true exactly while it is strong).
  void Disarm() {
    if (armed_ && armBuf_ != nullptr && !finalizing_) napi_reference_unref(Env(), armBuf_, nullptr);
    armed_ = false;
  }

  void Release() {
    Disarm();
    if (armBuf_ != nullptr && !finalizing_) napi_delete_reference(Env(), armBuf_);
    armBuf_ = nullptr;
  }

  void Unpin() {
    if (pinned_) { pinned_ = false; Unref(); }
  }

  // Stops watching and hands the uv handle to uv_close; safe to call more than once, from JS, from the
  // destructor (GC) or from the environment's cleanup hook.
  void Shutdown() {
    if (hook_ != nullptr) { napi_remove_async_cleanup_hook(hook_); hook_ = nullptr; }
    if (queued_ && reactor_ != nullptr) reactor_->Remove(this);
    queued_ = false;
    if (slot_ != nullptr) {
      // uv_close stops the watcher itself, removing the descriptor from epoll at once (uv__poll_close:
      // uv__poll_stop, uv__platform_invalidate_fd): a uv_poll_stop before it was one more epoll_ctl.
      slot_->owner = nullptr;
      PollSlot::Close(slot_);
      slot_ = nullptr;
    }
    watching_ = 0;
    Release();
    reactor_ = nullptr;
    if (table_ != nullptr) {
      table_->Remove(id_);  // may delete the table: the environment has let go of it already
      table_ = nullptr;
    }
    if (!finalizing_) {
      reactorRef_.Reset();
      Unpin();
    }
  }

  friend void TearDown<Poller>(napi_async_cleanup_hook_handle, void*);

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    Poller* self = reinterpret_cast<PollSlot*>(handle)->owner;
    if (self == nullptr || self->reactor_ == nullptr) return;
    if (status < 0) {
      // libuv reports POLLERR this way and has stopped the watcher (uv__poll_io).
      self->status_ = status;
      self->watching_ = 0;
    }
    self->events_ |= events;
    if (!self->queued_) {
      self->queued_ = true;
      self->reactor_->Enqueue(self);
    }
  }

  friend class Reactor;

  PollSlot* slot_ = nullptr;
  Reactor* reactor_ = nullptr;
  Napi::ObjectReference reactorRef_;
  int32_t fd_ = -1;
  // What the constructor's calls saw (setup()): getsockopt(SO_TYPE)'s answer (-errno for a pidfd or a
  // failure), the loop's epoll descriptor that ProbeUnwatched used, the probe's or uv_poll_init's
  // -errno, and which call failed (a Poller that failed watches nothing and is dropped by src/).
  enum Failed { kFailedNone = 0, kFailedGetsockopt = 1, kFailedEpollCtl = 2, kFailedPollInit = 3 };
  int soType_ = 0;
  int backend_ = -1;
  int probe_ = 0;
  int failed_ = kFailedNone;
  int32_t serial_ = 0;
  int watching_ = 0;          // the events uv_poll watches now (0: stopped)
  bool referenced_ = true;    // uv handles start referenced
  int status_ = 0;            // what epoll reported since the last turn's report
  int events_ = 0;
  bool queued_ = false;
  bool armed_ = false;
  napi_ref armBuf_ = nullptr;
  size_t armTotal_ = 0;       // armBuf_'s length when it was first armed
  size_t armOff_ = 0;
  size_t armLen_ = 0;
  ArmKind armKind_ = kArmRead;
  bool releaseAfter_ = false;
  bool pinned_ = false;
  PollerTable* table_ = nullptr;  // set while registered (a Poller whose constructor failed is not)
  int32_t id_ = -1;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  bool finalizing_ = false;
};

void Reactor::Enqueue(Poller* p) {
  if (slot_ == nullptr) return;
  if (queue_.empty()) uv_check_start(&slot_->handle, OnCheck);
  queue_.push_back(p);
}

void Reactor::OnCheck(uv_check_t* handle) {
  Reactor* self = reinterpret_cast<CheckSlot*>(handle)->owner;
  uv_check_stop(handle);
  if (self == nullptr || self->context_ == nullptr || self->queue_.empty()) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  // Pollers that epoll reports while JavaScript runs below are reported next turn.
  self->work_.swap(self->queue_);
  if (self->work_.size() > self->capacity_ && !self->Grow(env, self->work_.size() * 2)) {
    env.GetAndClearPendingException();  // out of memory: report what fits, the rest next turn
    for (size_t i = self->capacity_; i < self->work_.size(); i++) self->queue_.push_back(self->work_[i]);
    self->work_.resize(self->capacity_);
    uv_check_start(handle, OnCheck);
  }
  size_t n = 0;
  for (Poller* p : self->work_)
    if (p->Fill(self->data_ + kEntry * n, self->addrData_ + kAddrSlot * n)) n++;
  self->work_.clear();
  if (n == 0) return;
  // The raw call, not node-addon-api's MakeCallback: while the environment is being torn down, a late
  // event must fail quietly, not throw where no JavaScript can run.
  napi_value argv[3] = {self->batch_.Value(), Napi::Number::New(env, static_cast<double>(n)), self->addrs_.Value()};
  napi_value result;
  napi_make_callback(env, *self->context_, self->Value(), self->flush_.Value(), 3, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    // A throwing callback is an uncaught exception, as for any Node callback.
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

}  // namespace

void RegisterWatcher(Napi::Env env, Napi::Object exports) {
  auto* table = new PollerTable();
  napi_add_env_cleanup_hook(env, [](void* t) { static_cast<PollerTable*>(t)->Unref(); }, table);
  exports.Set("Reactor", Reactor::Define(env));
  exports.Set("Poller", Poller::Define(env, table));
  exports.Set("pollerSet", Napi::Function::New(env, Poller::SetById, "pollerSet", table));
  Napi::Object uv = Napi::Object::New(env);
  uv.Set("UV_READABLE", Napi::Number::New(env, UV_READABLE));
  uv.Set("UV_WRITABLE", Napi::Number::New(env, UV_WRITABLE));
  uv.Set("UV_DISCONNECT", Napi::Number::New(env, UV_DISCONNECT));
  uv.Set("UV_PRIORITIZED", Napi::Number::New(env, UV_PRIORITIZED));
  uv.Set("READ_DONE", Napi::Number::New(env, kReadDone));
  uv.Set("ARM_READ", Napi::Number::New(env, kArmRead));
  uv.Set("ARM_RECV", Napi::Number::New(env, kArmRecv));
  uv.Set("ARM_RECVFROM", Napi::Number::New(env, kArmRecvfrom));
  uv.Set("ARM_RELEASE", Napi::Number::New(env, kArmRelease));
  uv.Set("SET_HOLD", Napi::Number::New(env, kSetHold));
  uv.Set("ARM_SHIFT", Napi::Number::New(env, kArmShift));
  uv.Set("ADDR_SLOT", Napi::Number::New(env, static_cast<double>(kAddrSlot)));
  uv.Set("ENTRY", Napi::Number::New(env, static_cast<double>(kEntry)));
  exports.Set("uv", uv);
}

}  // namespace bs
