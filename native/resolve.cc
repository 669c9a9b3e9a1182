// resolve.cc — getaddrinfo(3), getnameinfo(3), gethostname(2), inet_pton(3), inet_ntop(3),
// if_nametoindex(3), and the message tables strerror(3) / gai_strerror(3).
//
// getaddrinfo and getnameinfo are the synchronous libc calls: they read /etc/hosts, /etc/services and
// nsswitch, and may block on DNS, exactly like the C programs they stand in for.
#include "result.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <string>

namespace bs {
namespace {

bool ArgOptString(const Napi::CallbackInfo& info, size_t i, std::string* s, bool* present) {
  *present = info[i].IsString();
  if (*present) *s = info[i].As<Napi::String>().Utf8Value();
  else if (!info[i].IsNull() && !info[i].IsUndefined())
    return Fail(info.Env(), "berkeley-sockets: expected a string or null");
  return true;
}

Napi::Object ResolveError(Napi::Env env, int eai, int err) {
  Napi::Object e = Napi::Object::New(env);
  e.Set("eai", Napi::Number::New(env, eai));
  e.Set("errno", Napi::Number::New(env, eai == EAI_SYSTEM ? -err : 0));
  return e;
}

// getaddrinfo(node|null, service|null, family, socktype, protocol, flags)
//   -> [[family, socktype, protocol, sockaddr Buffer, canonname|undefined], …] | { eai, errno }
Napi::Value GetAddrInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string node, service;
  bool hasNode, hasService;
  int32_t family, socktype, protocol, flags;
  if (!ArgOptString(info, 0, &node, &hasNode) || !ArgOptString(info, 1, &service, &hasService) ||
      !ArgInt(info, 2, &family) || !ArgInt(info, 3, &socktype) || !ArgInt(info, 4, &protocol) ||
      !ArgInt(info, 5, &flags))
    return {};
  addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = socktype;
  hints.ai_protocol = protocol;
  hints.ai_flags = flags;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(hasNode ? node.c_str() : nullptr, hasService ? service.c_str() : nullptr,
                         &hints, &res);
  int err = errno;
  if (rc != 0) return ResolveError(env, rc, err);
  Napi::Array list = Napi::Array::New(env);
  uint32_t i = 0;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Napi::Array row = Napi::Array::New(env, 5);
    row.Set(0u, Napi::Number::New(env, ai->ai_family));
    row.Set(1u, Napi::Number::New(env, ai->ai_socktype));
    row.Set(2u, Napi::Number::New(env, ai->ai_protocol));
    row.Set(3u, Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(ai->ai_addr), ai->ai_addrlen));
    if (ai->ai_canonname) row.Set(4u, Napi::String::New(env, ai->ai_canonname));
    list.Set(i++, row);
  }
  ::freeaddrinfo(res);
  return list;
}

// getnameinfo(sockaddr bytes, flags) -> [host, service] | { eai, errno }
Napi::Value GetNameInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* data;
  size_t len;
  int32_t flags;
  if (!ArgBytes(info, 0, &data, &len) || !ArgInt(info, 1, &flags)) return {};
  sockaddr_storage ss;
  if (len > sizeof ss) { Fail(env, "berkeley-sockets: sockaddr too long"); return {}; }
  std::memset(&ss, 0, sizeof ss);
  if (len > 0) std::memcpy(&ss, data, len);  // an empty array's data pointer may be null (UBSan: memcpy)
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  int rc = ::getnameinfo(reinterpret_cast<sockaddr*>(&ss), static_cast<socklen_t>(len), host,
                         sizeof host, serv, sizeof serv, flags);
  int err = errno;
  if (rc != 0) return ResolveError(env, rc, err);
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::String::New(env, host));
  pair.Set(1u, Napi::String::New(env, serv));
  return pair;
}

// gethostname() -> string | -errno
Napi::Value GetHostName(const Napi::CallbackInfo& info) {
#ifdef HOST_NAME_MAX
  char name[HOST_NAME_MAX + 1];
#else
  char name[256];
#endif
  if (::gethostname(name, sizeof name) < 0) return Napi::Number::New(info.Env(), -errno);
  name[sizeof name - 1] = '\0';
  return Napi::String::New(info.Env(), name);
}

// inet_pton(af, string, out) -> 1 (out holds 4 or 16 bytes) | 0 (not an address) | -errno
Napi::Value InetPton(const Napi::CallbackInfo& info) {
  int32_t af;
  uint8_t* out;
  size_t cap;
  if (!ArgInt(info, 0, &af) || !info[1].IsString() || !ArgBytes(info, 2, &out, &cap)) {
    if (!info.Env().IsExceptionPending()) Fail(info.Env(), "berkeley-sockets: expected a string");
    return {};
  }
  char text[INET6_ADDRSTRLEN + 1];
  size_t textLen = 0;
  napi_get_value_string_utf8(info.Env(), info[1], text, sizeof text, &textLen);
  if (textLen >= INET6_ADDRSTRLEN) return Napi::Number::New(info.Env(), 0);  // too long to be one
  unsigned char bin[sizeof(in6_addr)];
  int rc = ::inet_pton(af, text, bin);
  int err = errno;
  if (rc == 1) {
    size_t n = af == AF_INET6 ? sizeof(in6_addr) : sizeof(in_addr);
    if (cap < n) { Fail(info.Env(), "berkeley-sockets: inet_pton output too small"); return {}; }
    std::memcpy(out, bin, n);
  }
  return Result(info.Env(), rc, err);
}

// inet_aton(string) -> the in_addr as the host reads its 4 bytes (0..2^32-1) | -1 if invalid.
// Unlike inet_pton it accepts the historical forms ("127.1", "0x7f.1", octal), as inet_addr(3) does.
Napi::Value InetAton(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) { Fail(info.Env(), "berkeley-sockets: expected a string"); return {}; }
  std::string text = info[0].As<Napi::String>().Utf8Value();
  if (text.size() != std::strlen(text.c_str())) return Napi::Number::New(info.Env(), -1);
  in_addr a;
  if (::inet_aton(text.c_str(), &a) == 0) return Napi::Number::New(info.Env(), -1);
  return Napi::Number::New(info.Env(), static_cast<double>(a.s_addr));
}

// inet_ntop(af, bytes) -> string | -errno
Napi::Value InetNtop(const Napi::CallbackInfo& info) {
  int32_t af;
  uint8_t* data;
  size_t len;
  if (!ArgInt(info, 0, &af) || !ArgBytes(info, 1, &data, &len)) return {};
  size_t need = af == AF_INET6 ? sizeof(in6_addr) : sizeof(in_addr);
  if (af != AF_INET && af != AF_INET6) return Napi::Number::New(info.Env(), -EAFNOSUPPORT);
  if (len < need) return Napi::Number::New(info.Env(), -EINVAL);
  unsigned char bin[sizeof(in6_addr)];
  std::memcpy(bin, data, need);
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(af, bin, text, sizeof text) == nullptr) return Napi::Number::New(info.Env(), -errno);
  return Napi::String::New(info.Env(), text);
}

// if_nametoindex(name) -> index (0 if there is no such interface)
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) { Fail(info.Env(), "berkeley-sockets: expected a string"); return {}; }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Number::New(info.Env(), ::if_nametoindex(name.c_str()));
}

// if_indextoname(index) -> name | undefined
Napi::Value IfIndexToName(const Napi::CallbackInfo& info) {
  int32_t index;
  if (!ArgInt(info, 0, &index)) return {};
  char name[IF_NAMESIZE];
  if (index <= 0 || ::if_indextoname(static_cast<unsigned>(index), name) == nullptr)
    return info.Env().Undefined();
  return Napi::String::New(info.Env(), name);
}

// if_nameindex() -> [[index, name], …], or -errno. The list is the C library's: copied, then freed.
Napi::Value IfNameIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct if_nameindex* list = ::if_nameindex();
  if (list == nullptr) return Napi::Number::New(env, -errno);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (struct if_nameindex* p = list; p->if_index != 0 || p->if_name != nullptr; p++) {
    Napi::Array row = Napi::Array::New(env, 2);
    row.Set(0u, Napi::Number::New(env, p->if_index));
    row.Set(1u, Napi::String::New(env, p->if_name != nullptr ? p->if_name : ""));
    out.Set(n++, row);
  }
  ::if_freenameindex(list);
  return out;
}

// strerror(errnum) -> text. A negative errnum is read as -errno, this addon's convention (INT32_MIN has
// no positive counterpart and stays as it is). strerror_r: strerror's buffer for unknown numbers is
// shared by every thread.
Napi::Value StrError(const Napi::CallbackInfo& info) {
  int32_t err;
  if (!ArgInt(info, 0, &err)) return {};
  int e = err < 0 && err != INT32_MIN ? -err : err;
  char buf[128];
#if defined(__GLIBC__)
  const char* text = ::strerror_r(e, buf, sizeof buf);  // GNU: returns the text, in buf or static
#else
  const char* text = ::strerror_r(e, buf, sizeof buf) == 0 ? buf : "Unknown error";  // XSI (musl, BSD)
#endif
  return Napi::String::New(info.Env(), text);
}

Napi::Value GaiStrError(const Napi::CallbackInfo& info) {
  int32_t code;
  if (!ArgInt(info, 0, &code)) return {};
  return Napi::String::New(info.Env(), ::gai_strerror(code));
}

}  // namespace

void RegisterResolve(Napi::Env env, Napi::Object exports) {
  exports.Set("getaddrinfo", Napi::Function::New(env, GetAddrInfo, "getaddrinfo"));
  exports.Set("getnameinfo", Napi::Function::New(env, GetNameInfo, "getnameinfo"));
  exports.Set("gethostname", Napi::Function::New(env, GetHostName, "gethostname"));
  exports.Set("inet_pton", Napi::Function::New(env, InetPton, "inet_pton"));
  exports.Set("inet_aton", Napi::Function::New(env, InetAton, "inet_aton"));
  exports.Set("inet_ntop", Napi::Function::New(env, InetNtop, "inet_ntop"));
  exports.Set("if_nametoindex", Napi::Function::New(env, IfNameToIndex, "if_nametoindex"));
  exports.Set("if_indextoname", Napi::Function::New(env, IfIndexToName, "if_indextoname"));
  exports.Set("if_nameindex", Napi::Function::New(env, IfNameIndex, "if_nameindex"));
  exports.Set("strerror", Napi::Function::New(env, StrError, "strerror"));
  exports.Set("gai_strerror", Napi::Function::New(env, GaiStrError, "gai_strerror"));
}

}  // namespace bs
