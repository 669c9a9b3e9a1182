// npm run test:asan (scripts/test-asan.sh): vitest.config.ts, with the ASan runtime preloaded only into
// the test workers (and, by inheritance, everything they start), not into vitest's own process, which
// never loads the addon and would only run its transforms and reporters slower.
import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.config';

const preload = process.env.BSOCK_ASAN_PRELOAD;
if (!preload) throw new Error('scripts/vitest.asan.config.mts is run by scripts/test-asan.sh (BSOCK_ASAN_PRELOAD unset)');

export default mergeConfig(base, defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: { env: { LD_PRELOAD: preload } },
}));
