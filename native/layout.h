// layout.h — describing a C structure to TypeScript: its size and each field's offset and size, as the
// compiler lays them out, so src/ encodes and decodes it without a platform number of its own.
#pragma once

#include <napi.h>

#include <cstddef>

namespace bs {

// { size, fields: {} }, to which Field() adds name: [offset, size].
Napi::Object Struct(Napi::Env env, size_t size);
void Field(Napi::Env env, Napi::Object s, const char* name, size_t offset, size_t size);

}  // namespace bs

#define BS_FIELD(obj, type, member) \
  ::bs::Field(env, obj, #member, offsetof(type, member), sizeof(((type*)nullptr)->member))
