// socklab commands — capture: the packets of the lab's own sockets, shown between the commands as
// BSOCK_TRACE=wire shows them between a program's calls: the same capture (packet(7) with the library's
// calls, src/capture/source.ts), the same matching by port and the same lines, tcpdump -nn -S's words
// after `  ── ` and the kernel's timestamp (src/trace/wire.ts).
import { type SocketHandle, POLLIN, SystemError, getsockname, if_nameindex, strerror } from '../../index';
import * as A from '../../promises';
import { openCapture } from '../../capture/source';
import { Wire } from '../../trace/wire';
import { UsageError } from '../parse';
import type { Session } from '../session';
import type { Spec } from '../spec';

/** How long the idle watch lets a burst (a handshake, a reply and its ACK) come in, to print it as one block. */
const SETTLE_MS = 50;
/** After a command: how long the capture must be quiet before its packets are printed, and how many tries. */
const QUIET_MS = 5;
const QUIET_TRIES = 10;

/**
 * The lab's capture, when on: a packet socket on one interface, read after each command and, while
 * the lab waits at its prompt, as packets come. A packet is the lab's when one of its ports is the
 * local port of a TCP or UDP socket the lab has (or had) open: getsockname(2) after each command tells
 * them, so the FIN after a close still shows. The packet socket is not one of the lab's sockets: `=`
 * does not list it and no command takes its descriptor.
 */
export class LabCapture {
  private wire?: Wire;
  private socket?: SocketHandle;
  /** The interface captured on. */
  ifname?: string;
  private idle?: AbortController;

  constructor(private readonly lab: Session) {}

  /** Whether the capture is open. */
  get on(): boolean {
    return this.wire !== undefined;
  }

  /** The capture's descriptor (for the message saying it is not a lab socket). */
  get fd(): number | undefined {
    return this.socket?.fd;
  }

  /** Opens the capture on `ifname` (openCapture: EPERM without CAP_NET_RAW, ENODEV for no such interface). */
  open(ifname: string): void {
    const socket = openCapture(ifname);
    this.socket = socket.fd;
    this.wire = new Wire(socket);
    this.ifname = ifname;
    this.learn();
  }

  /** Watches the local port of every TCP and UDP socket of the lab (raw sockets have none). */
  private learn(): void {
    const w = this.wire;
    if (w === undefined) return;
    for (const s of this.lab.socks.values()) {
      if (s.kind === 'raw' || s.h.closed) continue;
      try {
        w.watch((getsockname(s.h) as { port: number }).port);
      } catch {
        // a socket the kernel no longer names has sent nothing new
      }
    }
  }

  /**
   * The lines of the lab's packets captured since the last time, in the kernel's order. Should reading
   * fail (recvmsg ENETDOWN: the interface went away), the lab says so and the capture is off.
   */
  private lines(): string[] {
    const w = this.wire;
    if (w === undefined) return [];
    this.learn();
    try {
      return w.drain();
    } catch (e) {
      if (!(e instanceof SystemError)) throw e;
      const ifname = this.ifname ?? '';
      this.socket?.close();
      this.wire = this.socket = this.ifname = undefined;
      this.stopIdle();
      return [this.lab.m.captureFailed(ifname, `${e.syscall}: ${e.code} (${strerror(e.errno)})`, false), this.lab.m.captureIs(undefined, undefined)];
    }
  }

  /**
   * Prints the lab's packets captured since the last time (after each command), once the capture has
   * been quiet for QUIET_MS: on the loopback the answer to a segment (the handshake's last ACK, the ACK
   * of data) is sent from the softirq that received it, which may run just after the call returned.
   * Bounded: at most QUIET_TRIES polls, however busy the interface.
   */
  async show(): Promise<void> {
    const fd = this.socket;
    if (fd === undefined) return;
    const lines = this.lines();
    for (let i = 0; i < QUIET_TRIES && !fd.closed; i++) {
      if ((await A.poll([{ fd, events: POLLIN! }], QUIET_MS)) === 0) break;
      lines.push(...this.lines());
    }
    for (const line of lines) this.lab.out(line);
  }

  /**
   * While the lab waits at its prompt: hands each burst of the lab's packets to `print` as it comes
   * (poll(2) on the capture through the promises API, which does not block the event loop). Ends with
   * stopIdle(), when a line is typed.
   */
  watchIdle(print: (lines: string[]) => void): void {
    const fd = this.socket;
    if (fd === undefined || this.idle !== undefined) return;
    const ac = new AbortController();
    this.idle = ac;
    void (async () => {
      while (!ac.signal.aborted && !fd.closed) {
        try {
          await A.poll([{ fd, events: POLLIN! }], -1, { signal: ac.signal });
          await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        } catch (e) {
          // Stopped (AbortError), or the capture was closed; anything else is said, not swallowed:
          // the packets then wait for the next command.
          if (!ac.signal.aborted && !fd.closed) print([this.lab.m.captureFailed(this.ifname ?? '', `poll: ${(e as Error).message}`, false)]);
          return;
        }
        if (ac.signal.aborted) return;
        const lines = this.lines();
        if (lines.length > 0) print(lines);
      }
    })();
  }

  /** Stops the idle watch: the packets wait for the next command. */
  stopIdle(): void {
    this.idle?.abort();
    this.idle = undefined;
  }

  /** Prints the packets left and closes the packet socket (idempotent). */
  close(): void {
    const w = this.wire;
    if (w === undefined) return;
    this.stopIdle();
    this.learn();
    w.close();
    for (const line of w.drain()) this.lab.out(line);
    this.wire = undefined;
    this.socket = undefined;
    this.ifname = undefined;
  }
}

export function captureCommands(lab: Session): Record<string, Spec> {
  const m = lab.m;
  const specs: Record<string, Spec> = {
    capture: {
      usage: 'capture [on [IFNAME]|off]',
      help: {
        en: 'capture on: the packets of the lab\'s sockets (matched by their ports) on IFNAME (default lo), as tcpdump -nn -S prints them, after each command and at the prompt; off stops; needs CAP_NET_RAW',
        fr: "capture on : les paquets des sockets du lab (reconnus à leurs ports) sur IFNAME (lo par défaut), comme tcpdump -nn -S les affiche, après chaque commande et à l'invite ; off arrête ; demande CAP_NET_RAW",
      },
      args: ['onoff', 'ifname'],
      run: (c) => {
        const usage = specs.capture.usage;
        const v = c.w[0]?.value;
        if (v !== undefined && v !== 'on' && v !== 'off') throw new UsageError(m.usage(usage));
        lab.noMore(c, v === 'on' ? 2 : 1, usage);
        const cap = lab.capture;
        if (v === 'off') cap.close();
        if (v === 'on') {
          const ifname = c.w[1]?.value ?? 'lo';
          if (cap.on && cap.ifname === ifname) return lab.out(m.captureIs(ifname, cap.fd));
          cap.close();
          try {
            cap.open(ifname);
          } catch (e) {
            if (!(e instanceof SystemError)) throw e;
            lab.failure ??= e.code;
            const needsRaw = e.code === 'EPERM' || e.code === 'EACCES';
            const call = e.syscall === 'socket' ? `socket(AF_PACKET, SOCK_RAW, 0) = -1 ${e.code}` : `${e.syscall}: ${e.code}`;
            return lab.out(m.captureFailed(ifname, `${call} (${strerror(e.errno)})`, needsRaw));
          }
        }
        lab.out(m.captureIs(cap.ifname, cap.fd));
      },
    },
  };
  return specs;
}

/** The interfaces, for completion of `capture on IFNAME`. */
export function interfaceNames(): string[] {
  try {
    return if_nameindex().map((i) => i.if_name);
  } catch {
    return ['lo'];
  }
}
