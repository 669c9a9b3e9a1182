// result.h — the one place where a system call's outcome becomes a JavaScript value.
//
// Every native function returns what the kernel returned, or -errno captured immediately after the
// call (libuv's UV__ERR convention). The TypeScript layer turns negatives into SystemErrors. The
// argument readers below are backstops only: src/ validates everything first, so a failure here means
// a caller bypassed src/ and gets a TypeError instead of undefined behaviour.
#pragma once

#include <napi.h>
#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace bs {

// A number for JavaScript: a small integer (every byte count and descriptor, every -errno) is made
// with napi_create_int32, which V8 answers with a Smi and no allocation; Napi::Number::New goes through
// napi_create_double and v8::Number::New's checks (about 45 instructions more per call, callgrind).
inline Napi::Value Int(Napi::Env env, double v) {
  napi_value out;
  napi_status s = v >= INT32_MIN && v <= INT32_MAX ? napi_create_int32(env, static_cast<int32_t>(v), &out)
                                                   : napi_create_double(env, v, &out);
  if (s != napi_ok) return Napi::Value();
  return Napi::Value(env, out);
}

// rc when it is >= 0, otherwise -err. Callers pass errno read right after the syscall.
inline Napi::Value Result(Napi::Env env, double rc, int err) {
  return Int(env, rc < 0 ? -static_cast<double>(err) : rc);
}

inline bool Fail(Napi::Env env, const char* what) {
  Napi::TypeError::New(env, what).ThrowAsJavaScriptException();
  return false;
}

inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, int32_t* out) {
  if (napi_get_value_int32(info.Env(), info[i], out) != napi_ok)
    return Fail(info.Env(), "berkeley-sockets: expected an integer argument");
  return true;
}

// The bytes of any TypedArray or Buffer (data already points at its byteOffset).
inline bool ArgBytes(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  size_t count = 0;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(info.Env(), info[i], &type, &count, &ptr, nullptr, nullptr) != napi_ok)
    return Fail(info.Env(), "berkeley-sockets: expected a TypedArray argument");
  size_t width = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: width = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: width = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: width = 8; break;
    default: width = 1;
  }
  *data = static_cast<uint8_t*>(ptr);
  *len = count * width;
  return true;
}

// A (offset, length) window inside a byte array; rejects anything that would reach past its end.
inline bool ArgWindow(const Napi::CallbackInfo& info, size_t i, uint8_t** data, size_t* len) {
  uint8_t* base = nullptr;
  size_t total = 0;
  // 64-bit: a Buffer may be longer than 2 GiB, and an int32 offset or length would wrap negative.
  int64_t off, n;
  if (!ArgBytes(info, i, &base, &total)) return false;
  if (napi_get_value_int64(info.Env(), info[i + 1], &off) != napi_ok ||
      napi_get_value_int64(info.Env(), info[i + 2], &n) != napi_ok)
    return Fail(info.Env(), "berkeley-sockets: expected an integer argument");
  if (off < 0 || n < 0 || static_cast<uint64_t>(off) > total || static_cast<uint64_t>(n) > total - off) {
    Napi::RangeError::New(info.Env(), "berkeley-sockets: offset/length outside the buffer")
        .ThrowAsJavaScriptException();
    return false;
  }
  *data = base + off;
  *len = static_cast<size_t>(n);
  return true;
}

// Address out-parameter: [uint32 socklen][sockaddr bytes…] so one reusable scratch buffer carries both.
constexpr size_t kAddrHeader = sizeof(uint32_t);

void RegisterConstants(Napi::Env env, Napi::Object exports);
void RegisterSocket(Napi::Env env, Napi::Object exports);
void RegisterAddress(Napi::Env env, Napi::Object exports);
void RegisterTransfer(Napi::Env env, Napi::Object exports);
void RegisterOptions(Napi::Env env, Napi::Object exports);
void RegisterResolve(Napi::Env env, Napi::Object exports);
void RegisterReadiness(Napi::Env env, Napi::Object exports);
void RegisterWatcher(Napi::Env env, Napi::Object exports);
void RegisterMessage(Napi::Env env, Napi::Object exports);
void RegisterProcess(Napi::Env env, Napi::Object exports);
void RegisterIoctl(Napi::Env env, Napi::Object exports);

}  // namespace bs
