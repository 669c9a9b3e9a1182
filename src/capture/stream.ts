// The packets of a capture as an async iterator: `for await (const p of capture('lo', { port }))`.
// The socket is opened at once (packets from then on are kept), and each packet is waited for with
// the promises API's recvmsg, which never blocks the event loop: promises.ts gives it here, so that
// this module, like every other outside src/async/, does not import the async engine itself.
import { invalidArgType } from '../errors';
import type { SocketHandle } from '../handle';
import type { ReceivedMessage, RecvMsgOptions } from '../message';
import { type CaptureOptions, type CaptureSocket, type CapturedPacket, openCapture } from './source';

/** The promises API's recvmsg, as capture() uses it. */
export type AsyncRecvmsg = (fd: SocketHandle, msg: RecvMsgOptions, options?: { signal?: AbortSignal }) => Promise<ReceivedMessage>;

/** capture()'s options: the filter and snapshot length of openCapture, and a signal that ends it. */
export interface CaptureStreamOptions extends CaptureOptions {
  /** Ends the iteration when aborted (it finishes; it does not throw) and closes the socket at once. */
  signal?: AbortSignal;
}

/**
 * An iteration over captured packets. It ends — the socket closed, nothing left behind — when the loop
 * breaks (return()), when `close()` is called (a pending next() then resolves done), when the signal
 * aborts, or when reading fails (the error is thrown once). Opening failed (EPERM without CAP_NET_RAW,
 * ENODEV): the first next() rejects with that error, as every call of the promises API rejects.
 */
export class PacketStream implements AsyncIterableIterator<CapturedPacket> {
  private readonly source: CaptureSocket | undefined;
  private readonly gen: AsyncGenerator<CapturedPacket, undefined>;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.close();

  /** @internal Use capture() from berkeley-sockets/promises. */
  constructor(ifname: string, options: CaptureStreamOptions | undefined, recvmsg: AsyncRecvmsg) {
    let failure: { error: unknown } | undefined;
    this.signal = options?.signal;
    try {
      if (this.signal !== undefined && !(this.signal instanceof AbortSignal)) {
        throw invalidArgType('options.signal', 'an instance of AbortSignal', this.signal);
      }
      if (!this.signal?.aborted) this.source = openCapture(ifname, options);
    } catch (e) {
      failure = { error: e };
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.gen = this.run(failure, recvmsg);
  }

  /** The open capture (its descriptor, interface, link type and filter program), if it opened. */
  get socket(): CaptureSocket | undefined {
    return this.source;
  }

  private async *run(failure: { error: unknown } | undefined, recvmsg: AsyncRecvmsg): AsyncGenerator<CapturedPacket, undefined> {
    try {
      if (failure !== undefined) throw failure.error;
      const source = this.source;
      if (source === undefined) return undefined; // aborted before it began
      for (;;) {
        let m: ReceivedMessage;
        try {
          // No signal here: an abort closes the socket (onAbort), which settles this call.
          m = await recvmsg(source.fd, source.recvmsgOptions);
        } catch (e) {
          if (source.closed) return undefined; // closed while waiting (ERR_SOCKET_CLOSED) or before (EBADF)
          throw e;
        }
        const p = source.packetOf(m);
        if (p !== null) yield p;
      }
    } finally {
      this.close();
    }
  }

  next(): Promise<IteratorResult<CapturedPacket, undefined>> {
    return this.gen.next();
  }

  /** Ends the iteration (what `break` calls): closes the socket first, so a pending next() ends too. */
  return(value?: undefined): Promise<IteratorResult<CapturedPacket, undefined>> {
    this.close();
    return this.gen.return(value);
  }

  throw(err?: unknown): Promise<IteratorResult<CapturedPacket, undefined>> {
    this.close();
    return this.gen.throw(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Closes the socket (idempotent): the iteration ends, and a pending next() resolves done. */
  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.source?.close();
  }
}
