// options.cc — getsockopt(2), setsockopt(2) as bytes in, bytes out. src/options.ts gives each option
// its type (int, timeval, linger, …); this file interprets no value except a plain int's, which
// getsockoptInt returns directly (the most common call, and the cheapest one to make).
#include "layout.h"
#include "platform.h"
#include "result.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstddef>
#include <cstring>

namespace bs {
namespace {

// getsockopt(fd, level, name, out) -> optlen | -errno; the value lands in out[0..optlen). An option whose
// optlen the kernel counts in larger units (OptlenUnit: Linux's SO_GET_FILTER, in instructions) is asked
// for as many whole units as `out` holds, and its length reported back in bytes.
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  uint8_t* out;
  size_t cap;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) ||
      !ArgBytes(info, 3, &out, &cap))
    return {};
  size_t unit = OptlenUnit(level, name);
  socklen_t len = static_cast<socklen_t>(cap / unit);
  socklen_t asked = len;
  int rc = ::getsockopt(fd, level, name, out, &len);
  int err = errno;
  // Asked for no unit, the kernel writes nothing and answers how many there are.
  size_t got = unit == 1 ? len : asked == 0 ? 0 : static_cast<size_t>(len) * unit;
  return Result(info.Env(), rc < 0 ? -1 : static_cast<double>(got > cap ? cap : got), err);
}

// getsockopt(fd, level, name) for an int option -> its value (int32), or -errno - 2^32: an error is
// below every int. The value returns directly, without a buffer to look up: the most common call, and
// the one the per-call overhead is measured with (bench/getsockopt). For an option counted in larger
// units (SO_GET_FILTER) no unit fits an int: the kernel is asked for none, and its answer — how many
// there are (the filter's instructions) — is the value.
Napi::Value GetSockOptInt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name)) return {};
  unsigned char raw[sizeof(int)] = {};
  size_t unit = OptlenUnit(level, name);
  socklen_t len = static_cast<socklen_t>(sizeof raw / unit);
  int rc = ::getsockopt(fd, level, name, raw, &len);
  int err = errno;
  if (rc < 0) return Napi::Number::New(info.Env(), -static_cast<double>(err) - 4294967296.0);
  if (unit != 1) return Int(info.Env(), static_cast<double>(len));
  // Some options are a single byte or short on Linux (IP_MULTICAST_LOOP may be read as a char).
  int value = 0;
  if (len >= sizeof(int)) {
    std::memcpy(&value, raw, sizeof value);
  } else if (len == sizeof(int16_t)) {
    int16_t half;
    std::memcpy(&half, raw, sizeof half);
    value = half;
  } else if (len == 1) {
    value = raw[0];
  }
  return Int(info.Env(), value);
}

// setsockopt(fd, level, name, bytes) -> 0 | -errno
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) ||
      !ArgBytes(info, 3, &data, &len))
    return {};
  int rc = ::setsockopt(fd, level, name, data, static_cast<socklen_t>(len));
  return Result(info.Env(), rc, errno);
}

}  // namespace

// Field layouts of the structures options carry, measured by the compiler, so src/options.ts can
// encode and decode them without a platform number of its own: { size, fields: { name: [offset, size] } }.
Napi::Object Struct(Napi::Env env, size_t size) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", Napi::Number::New(env, static_cast<double>(size)));
  o.Set("fields", Napi::Object::New(env));
  return o;
}

void Field(Napi::Env env, Napi::Object s, const char* name, size_t offset, size_t size) {
  Napi::Array f = Napi::Array::New(env, 2);
  f.Set(0u, Napi::Number::New(env, static_cast<double>(offset)));
  f.Set(1u, Napi::Number::New(env, static_cast<double>(size)));
  s.Get("fields").As<Napi::Object>().Set(name, f);
}

Napi::Object OptionLayouts(Napi::Env env) {
  Napi::Object all = Napi::Object::New(env);
  Napi::Object tv = Struct(env, sizeof(timeval));
  BS_FIELD(tv, timeval, tv_sec);
  BS_FIELD(tv, timeval, tv_usec);
  all.Set("timeval", tv);
  Napi::Object lg = Struct(env, sizeof(linger));
  BS_FIELD(lg, linger, l_onoff);
  BS_FIELD(lg, linger, l_linger);
  all.Set("linger", lg);
  Napi::Object mr = Struct(env, sizeof(ip_mreq));
  BS_FIELD(mr, ip_mreq, imr_multiaddr);
  BS_FIELD(mr, ip_mreq, imr_interface);
  all.Set("ip_mreq", mr);
  Napi::Object m6 = Struct(env, sizeof(ipv6_mreq));
  BS_FIELD(m6, ipv6_mreq, ipv6mr_multiaddr);
  BS_FIELD(m6, ipv6_mreq, ipv6mr_interface);
  all.Set("ipv6_mreq", m6);
  AddPlatformLayouts(env, all);  // Linux: ip_mreqn, ucred, tcp_info, packet_mreq, sock_filter, sock_fprog
  return all;
}

void RegisterOptions(Napi::Env env, Napi::Object exports) {
  exports.Set("optionLayouts", OptionLayouts(env));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt, "getsockopt"));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetSockOptInt, "getsockoptInt"));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt, "setsockopt"));
  RegisterSocketFilter(env, exports);  // setsockoptFprog (options_linux.cc; ENOSYS elsewhere)
}

}  // namespace bs
