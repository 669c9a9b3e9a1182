// addon.cc — module init. The addon keeps no per-call state: everything a call knows lives in the kernel
// or in the caller's buffers, so it is safe in worker threads and in a forked child. The one process-wide
// piece is the signal chain of interrupt.cc, because signal dispositions are process-wide.
#include "interrupt.h"
#include "platform.h"
#include "result.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  bs::RegisterConstants(env, exports);
  bs::RegisterSocket(env, exports);
  bs::RegisterAddress(env, exports);
  bs::RegisterTransfer(env, exports);
  bs::RegisterOptions(env, exports);
  bs::RegisterResolve(env, exports);
  bs::RegisterReadiness(env, exports);
  bs::RegisterEpoll(env, exports);
  bs::RegisterWatcher(env, exports);
  bs::RegisterMessage(env, exports);
  bs::RegisterProcess(env, exports);
  bs::RegisterIoctl(env, exports);
  bs::RegisterInterrupt(env, exports);
  return exports;
}

NODE_API_MODULE(berkeley_sockets, Init)
