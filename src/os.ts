// errno values of this platform, as Node reports them (os.constants.errno comes from the same headers).
import { constants } from 'node:os';

export const os: Readonly<Record<string, number>> & { EBADF: number; EINTR: number; EAGAIN: number } =
  constants.errno as never;
