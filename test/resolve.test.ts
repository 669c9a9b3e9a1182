// getaddrinfo(3), getnameinfo(3), gethostname(2), if_nametoindex(3), strerror(3), gai_strerror(3).
// This machine has no network: every lookup here is answered by /etc/hosts, /etc/services or a numeric
// form (AI_NUMERICHOST), never by DNS. Expectations are read from those files, not from the library.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { hostname as osHostname, constants as osConstants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  AF_INET, AF_INET6, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_PASSIVE, AI_V4MAPPED, EAI_FAMILY, EAI_NONAME,
  EAI_SERVICE, EAI_SOCKTYPE, IPPROTO_TCP, IPPROTO_UDP, NI_DGRAM, NI_NAMEREQD, NI_NUMERICHOST, NI_NUMERICSERV,
  SOCK_DGRAM, SOCK_STREAM, type InetAddress, type SocketHandle, SystemError, accept, bind, connect, encodeSockaddr, gai_strerror,
  getaddrinfo, gethostname, getnameinfo, getpeername, getsockname, if_indextoname, if_nameindex, if_nametoindex, listen, socket,
  strerror,
} from '../src/index';
import { tcpListener, thrown, noLeakedFds, trackHandles } from './helpers';

const isGlibc = Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime);

// Every handle a test opens is closed after it; nothing this file opens outlives it.
const track = trackHandles();
noLeakedFds();

// ---- /etc/hosts and /etc/services, parsed independently of the C library

interface HostLine {
  address: string;
  names: string[];
}
function readHosts(): HostLine[] {
  let text = '';
  try {
    text = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[0] !== '')
    .map(([address, ...names]) => ({ address, names }));
}
const hosts = readHosts();
const localhostAddrs = hosts.filter((h) => h.names.includes('localhost')).map((h) => h.address);
const localhostV4 = localhostAddrs.filter((a) => !a.includes(':'));
const localhostV6 = localhostAddrs.filter((a) => a.includes(':'));
/** The first name /etc/hosts gives 127.0.0.1 (what a reverse lookup through `files` answers). */
const loopbackName = hosts.find((h) => h.address === '127.0.0.1')?.names[0];

interface ServiceLine {
  name: string;
  port: number;
  proto: string;
}
function readServices(): ServiceLine[] {
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    return [];
  }
  const out: ServiceLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^([\w.+-]+)\s+(\d+)\/(\w+)/.exec(line.replace(/#.*/, ''));
    if (m) out.push({ name: m[1], port: Number(m[2]), proto: m[3] });
  }
  return out;
}
const services = readServices();
const serviceName = (port: number, proto: string) => services.find((s) => s.port === port && s.proto === proto)?.name;
const servicePort = (name: string, proto: string) => services.find((s) => s.name === name && s.proto === proto)?.port;
const sshTcp = servicePort('ssh', 'tcp');
const sshUdp = servicePort('ssh', 'udp');
/** A service listed for udp only, and a port whose udp name differs from its tcp name. */
const udpOnly = services.find((s) => s.proto === 'udp' && !services.some((t) => t.proto === 'tcp' && (t.name === s.name || t.port === s.port)));
const splitPort = services.find(
  (s) => s.proto === 'udp' && serviceName(s.port, 'tcp') !== undefined && serviceName(s.port, 'tcp') !== serviceName(s.port, 'udp'),
)?.port;
const myName = osHostname();
const myHostsLine = hosts.find((h) => h.names.includes(myName) && !h.address.includes(':'));
const unlistedPort = (() => {
  for (let p = 40000; p < 65536; p++) if (!services.some((s) => s.port === p)) return p;
  return undefined;
})();


describe('getaddrinfo', () => {
  it.skipIf(sshTcp === undefined || localhostV4.length === 0)(
    "resolves ('localhost', 'ssh') through /etc/hosts and /etc/services",
    () => {
      const res = getaddrinfo('localhost', 'ssh', { ai_socktype: SOCK_STREAM });
      expect(res.length).toBeGreaterThan(0);
      for (const r of res) {
        expect(r.ai_socktype).toBe(SOCK_STREAM);
        expect(r.ai_protocol).toBe(IPPROTO_TCP);
        expect(r.ai_addr).toMatchObject({ family: r.ai_family, port: sshTcp });
        expect(localhostAddrs).toContain(r.ai_addr.address);
      }
      expect(sshTcp).toBe(22);
      const v4 = res.filter((r) => r.ai_family === AF_INET).map((r) => (r.ai_addr as { address: string }).address);
      expect(v4).toContain(localhostV4[0]);
      expect(localhostV4[0]).toBe('127.0.0.1');
    },
  );

  it('returns ::1 for localhost exactly when /etc/hosts lists it', () => {
    const families = getaddrinfo('localhost', null, { ai_socktype: SOCK_STREAM }).map((r) => r.ai_family);
    if (localhostV6.includes('::1')) expect(families).toContain(AF_INET6);
    else expect(families).not.toContain(AF_INET6);
  });

  // Without a hosts line the name would go to DNS, which this machine does not have.
  it.skipIf(myHostsLine === undefined)('resolves the host name from gethostname() through its /etc/hosts line', () => {
    const res = getaddrinfo(gethostname(), '80', { ai_family: AF_INET, ai_socktype: SOCK_STREAM });
    expect(res[0].ai_addr).toEqual({ family: AF_INET, address: myHostsLine!.address, port: 80 });
  });

  it('takes a numeric service as a string or a number', () => {
    const want = [{ ai_family: AF_INET, ai_socktype: SOCK_STREAM, ai_protocol: IPPROTO_TCP, ai_addr: { family: AF_INET, address: '127.0.0.1', port: 8080 } }];
    expect(getaddrinfo('127.0.0.1', '8080', { ai_socktype: SOCK_STREAM })).toEqual(want);
    expect(getaddrinfo('127.0.0.1', 8080, { ai_socktype: SOCK_STREAM })).toEqual(want);
    expect(getaddrinfo('127.0.0.1', 8080, { ai_socktype: SOCK_STREAM, ai_flags: AI_NUMERICSERV })).toEqual(want);
  });

  it('gives one result per socket type when hints leave the type open', () => {
    const res = getaddrinfo('127.0.0.1', '5000', { ai_flags: AI_NUMERICHOST });
    expect(res).toContainEqual(expect.objectContaining({ ai_socktype: SOCK_STREAM, ai_protocol: IPPROTO_TCP }));
    expect(res).toContainEqual(expect.objectContaining({ ai_socktype: SOCK_DGRAM, ai_protocol: IPPROTO_UDP }));
    for (const r of res) expect(r.ai_addr).toEqual({ family: AF_INET, address: '127.0.0.1', port: 5000 });
  });

  it.skipIf(udpOnly === undefined)('resolves a udp-only service for SOCK_DGRAM, and fails with EAI_SERVICE for SOCK_STREAM', () => {
    const res = getaddrinfo('127.0.0.1', udpOnly!.name, { ai_socktype: SOCK_DGRAM });
    expect(res[0]).toMatchObject({ ai_socktype: SOCK_DGRAM, ai_protocol: IPPROTO_UDP, ai_addr: { port: udpOnly!.port } });
    expect(thrown(() => getaddrinfo('127.0.0.1', udpOnly!.name, { ai_socktype: SOCK_STREAM })).code).toBe('EAI_SERVICE');
  });

  it('gives the wildcard address for a null node with AI_PASSIVE, ready to bind', () => {
    const res = getaddrinfo(null, '0', { ai_flags: AI_PASSIVE, ai_socktype: SOCK_DGRAM });
    expect(res.length).toBeGreaterThan(0);
    for (const r of res) expect((r.ai_addr as { address: string }).address).toBe(r.ai_family === AF_INET6 ? '::' : '0.0.0.0');
    const v4 = res.find((r) => r.ai_family === AF_INET);
    expect(v4).toBeDefined();
    const fd = track(socket(v4!.ai_family, v4!.ai_socktype, v4!.ai_protocol));
    bind(fd, v4!.ai_addr);
    expect(getsockname(fd)).toMatchObject({ address: '0.0.0.0' });
    expect((getsockname(fd) as InetAddress).port).toBeGreaterThan(0);
  });

  it('gives the loopback address for a null node without AI_PASSIVE', () => {
    const res = getaddrinfo(null, '7', { ai_socktype: SOCK_STREAM });
    expect(res.length).toBeGreaterThan(0);
    for (const r of res) {
      expect(r.ai_addr).toMatchObject({ address: r.ai_family === AF_INET6 ? '::1' : '127.0.0.1', port: 7 });
    }
  });

  it('fails with EAI_NONAME for localhost under AI_NUMERICHOST, as a SystemError naming getaddrinfo', () => {
    const err = thrown(() => getaddrinfo('localhost', '80', { ai_flags: AI_NUMERICHOST }));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EAI_NONAME');
    expect(err.errno).toBe(EAI_NONAME);
    expect(err.syscall).toBe('getaddrinfo');
    expect(err.hostname).toBe('localhost');
    expect(err.message).toBe('getaddrinfo EAI_NONAME localhost');
    expect(gai_strerror(err.errno!)).toBe(gai_strerror(EAI_NONAME));
  });

  it('fails with EAI_NONAME for a name under the reserved .invalid TLD, without asking DNS', () => {
    const started = Date.now();
    const err = thrown(() => getaddrinfo('no-such-host.invalid', '80', { ai_flags: AI_NUMERICHOST, ai_family: AF_INET }));
    expect(err.code).toBe('EAI_NONAME');
    expect(err.hostname).toBe('no-such-host.invalid');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails with EAI_NONAME for a service name under AI_NUMERICSERV (POSIX)', () => {
    const err = thrown(() => getaddrinfo('127.0.0.1', 'ssh', { ai_flags: AI_NUMERICSERV }));
    expect(err.code).toBe('EAI_NONAME');
  });

  it('fails with EAI_SERVICE for a service /etc/services does not list', () => {
    const err = thrown(() => getaddrinfo('127.0.0.1', 'no-such-service-xyz', { ai_socktype: SOCK_STREAM }));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EAI_SERVICE');
    expect(err.errno).toBe(EAI_SERVICE);
  });

  it.skipIf(sshTcp === undefined || sshUdp !== undefined)('fails with EAI_SERVICE for ssh over SOCK_DGRAM (listed only as tcp)', () => {
    expect(thrown(() => getaddrinfo('127.0.0.1', 'ssh', { ai_socktype: SOCK_DGRAM })).code).toBe('EAI_SERVICE');
  });

  it('fails with EAI_NONAME when both node and service are null', () => {
    const err = thrown(() => getaddrinfo(null, null));
    expect(err.code).toBe('EAI_NONAME');
    expect(err.hostname).toBeUndefined();
  });

  it('does not put a service name in err.hostname when no node was given', () => {
    const err = thrown(() => getaddrinfo(null, 'no-such-service-xyz', { ai_socktype: SOCK_STREAM }));
    expect(err.code).toBe('EAI_SERVICE');
    expect(err.hostname).toBeUndefined();
    expect(err.message).toContain('no-such-service-xyz');
  });

  it('fails with EAI_FAMILY and EAI_SOCKTYPE for hints the library cannot serve', () => {
    expect(thrown(() => getaddrinfo('127.0.0.1', '80', { ai_family: 12345 })).errno).toBe(EAI_FAMILY);
    expect(thrown(() => getaddrinfo('127.0.0.1', '80', { ai_socktype: 12345 })).errno).toBe(EAI_SOCKTYPE);
  });

  it.skipIf(localhostV4.length === 0)('sets ai_canonname on the first result with AI_CANONNAME', () => {
    const res = getaddrinfo('localhost', '80', { ai_flags: AI_CANONNAME, ai_family: AF_INET, ai_socktype: SOCK_STREAM });
    expect(res[0].ai_canonname).toBe('localhost');
    for (const r of res.slice(1)) expect(r.ai_canonname).toBeUndefined();
    const plain = getaddrinfo('localhost', '80', { ai_family: AF_INET, ai_socktype: SOCK_STREAM });
    expect('ai_canonname' in plain[0]).toBe(false);
  });

  it('maps an IPv4 address into IPv6 with AI_V4MAPPED', () => {
    const res = getaddrinfo('127.0.0.1', '80', { ai_family: AF_INET6, ai_socktype: SOCK_STREAM, ai_flags: AI_V4MAPPED | AI_NUMERICHOST });
    expect(res[0].ai_addr).toEqual({ family: AF_INET6, address: '::ffff:127.0.0.1', port: 80, flowinfo: 0, scope_id: 0 });
  });

  it('accepts the historical short form 127.1 like inet_aton', () => {
    const res = getaddrinfo('127.1', '80', { ai_socktype: SOCK_STREAM, ai_flags: AI_NUMERICHOST });
    expect(res[0].ai_addr).toEqual({ family: AF_INET, address: '127.0.0.1', port: 80 });
  });

  it('gives results that socket() and connect() take as they are, to a listener on 127.0.0.1', () => {
    const { srv, port } = tcpListener();
    track(srv);
    const names = localhostV4.length > 0 ? ['127.0.0.1', 'localhost'] : ['127.0.0.1'];
    for (const node of names) {
      const [ai] = getaddrinfo(node, String(port), { ai_family: AF_INET, ai_socktype: SOCK_STREAM });
      const fd = track(socket(ai.ai_family, ai.ai_socktype, ai.ai_protocol));
      connect(fd, ai.ai_addr);
      const { fd: conn, address } = accept(srv);
      track(conn);
      expect(getpeername(fd)).toEqual({ family: AF_INET, address: '127.0.0.1', port });
      expect(address).toEqual(getsockname(fd));
    }
  });

  it('gives an IPv6 result that connects to a listener on ::1', () => {
    const srv = track(socket(AF_INET6, SOCK_STREAM, 0));
    bind(srv, { family: AF_INET6, address: '::1', port: 0 });
    listen(srv, 4);
    const port = getsockname(srv).port;
    const [ai] = getaddrinfo('::1', port, { ai_flags: AI_NUMERICHOST, ai_socktype: SOCK_STREAM });
    const fd = track(socket(ai.ai_family, ai.ai_socktype, ai.ai_protocol));
    connect(fd, ai.ai_addr);
    track(accept(srv).fd);
    expect(getpeername(fd)).toMatchObject({ family: AF_INET6, address: '::1', port });
  });

  it('types ai_addr so that the canonical loop socket(ai_family…) / connect(fd, ai_addr) compiles', () => {
    // Type-checked only, never run: a SocketAddress-typed ai_addr (which includes OtherAddress) would
    // make every C-style getaddrinfo loop a compile error.
    const dir = mkdtempSync(join(__dirname, '..', '.resolve-typecheck-'));
    try {
      const f = join(dir, 'loop.ts');
      writeFileSync(
        f,
        [
          "import { SOCK_STREAM, bind, close, connect, getaddrinfo, socket } from '../src/index';",
          "for (const ai of getaddrinfo('localhost', 'http', { ai_socktype: SOCK_STREAM })) {",
          '  const fd = socket(ai.ai_family, ai.ai_socktype, ai.ai_protocol);',
          '  connect(fd, ai.ai_addr);',
          '  bind(fd, ai.ai_addr);',
          '  close(fd);',
          '}',
          "const port: number = getaddrinfo(null, '80')[0].ai_addr.port;",
          'export { port };',
        ].join('\n'),
      );
      const program = ts.createProgram([f], {
        strict: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
        target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'], types: ['node'], noEmit: true,
        skipLibCheck: true, typeRoots: [join(__dirname, '..', 'node_modules', '@types')],
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program, program.getSourceFile(f))
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a NUL inside node or service instead of resolving the part before it', () => {
    // C would see 'localhost' and '22': a caller checking the whole string would be fooled.
    for (const [node, service] of [
      ['localhost\0.attacker.example', '80'],
      ['127.0.0.1\0junk', '80'],
      ['127.0.0.1', '22\0junk'],
    ]) {
      const err = thrown(() => getaddrinfo(node, service, { ai_socktype: SOCK_STREAM }));
      expect(err.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(err).toBeInstanceOf(TypeError);
    }
  });

  it('fails with ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE for bad arguments', () => {
    expect(thrown(() => getaddrinfo(5 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => getaddrinfo('127.0.0.1', {} as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => getaddrinfo('127.0.0.1', '80', null as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => getaddrinfo('127.0.0.1', 70000)).code).toBe('ERR_OUT_OF_RANGE');
    // As a string too: glibc would silently keep the low 16 bits (port 4464).
    expect(thrown(() => getaddrinfo('127.0.0.1', '70000')).code).toBe('ERR_OUT_OF_RANGE');
    expect(getaddrinfo('127.0.0.1', '65535', { ai_socktype: SOCK_STREAM })[0].ai_addr.port).toBe(65535);
    expect(thrown(() => getaddrinfo('127.0.0.1', '80', { ai_family: 1.5 })).code).toBe('ERR_OUT_OF_RANGE');
  });
});

describe('getnameinfo', () => {
  const lo22 = { family: AF_INET, address: '127.0.0.1', port: 22 };

  it('gives numeric host and service with NI_NUMERICHOST | NI_NUMERICSERV', () => {
    expect(getnameinfo(lo22, NI_NUMERICHOST | NI_NUMERICSERV)).toEqual({ host: '127.0.0.1', service: '22' });
    expect(getnameinfo({ family: AF_INET6, address: '::1', port: 8080 }, NI_NUMERICHOST | NI_NUMERICSERV)).toEqual({ host: '::1', service: '8080' });
  });

  it.skipIf(serviceName(22, 'tcp') === undefined)('names port 22 from /etc/services without NI_NUMERICSERV', () => {
    expect(getnameinfo(lo22, NI_NUMERICHOST)).toEqual({ host: '127.0.0.1', service: serviceName(22, 'tcp') });
    expect(serviceName(22, 'tcp')).toBe('ssh');
  });

  it.skipIf(splitPort === undefined)('looks the port up as udp with NI_DGRAM, as tcp without it', () => {
    const addr = { family: AF_INET, address: '127.0.0.1', port: splitPort! };
    expect(getnameinfo(addr, NI_NUMERICHOST | NI_DGRAM).service).toBe(serviceName(splitPort!, 'udp'));
    expect(getnameinfo(addr, NI_NUMERICHOST).service).toBe(serviceName(splitPort!, 'tcp'));
  });

  it.skipIf(unlistedPort === undefined)('falls back to the number for a port /etc/services does not list', () => {
    expect(getnameinfo({ family: AF_INET, address: '127.0.0.1', port: unlistedPort! }, NI_NUMERICHOST).service).toBe(String(unlistedPort));
  });

  it.skipIf(loopbackName === undefined)('names 127.0.0.1 from /etc/hosts without NI_NUMERICHOST', () => {
    expect(getnameinfo(lo22, NI_NUMERICSERV)).toEqual({ host: loopbackName, service: '22' });
  });

  it("appends the interface name to a link-local address's scope ('fe80::1%lo')", () => {
    const lo = if_nametoindex('lo');
    expect(getnameinfo({ family: AF_INET6, address: 'fe80::1', port: 0, scope_id: lo }, NI_NUMERICHOST | NI_NUMERICSERV).host).toBe('fe80::1%lo');
  });

  it('takes the address a socket reports, and raw sockaddr bytes', () => {
    const { srv, port } = tcpListener();
    track(srv);
    expect(getnameinfo(getsockname(srv), NI_NUMERICHOST | NI_NUMERICSERV)).toEqual({ host: '127.0.0.1', service: String(port) });
    const bytes = encodeSockaddr({ family: AF_INET, address: '127.0.0.1', port: 443 });
    expect(getnameinfo(new Uint8Array(bytes), NI_NUMERICHOST | NI_NUMERICSERV)).toEqual({ host: '127.0.0.1', service: '443' });
  });

  it('fails with EAI_NONAME for NI_NAMEREQD together with NI_NUMERICHOST', () => {
    const err = thrown(() => getnameinfo(lo22, NI_NAMEREQD | NI_NUMERICHOST));
    expect(err).toBeInstanceOf(SystemError);
    expect(err.code).toBe('EAI_NONAME');
    expect(err.syscall).toBe('getnameinfo');
  });

  it('fails with EAI_FAMILY for bytes that are no IP sockaddr', () => {
    const err = thrown(() => getnameinfo(new Uint8Array(4), NI_NUMERICHOST));
    expect(err.code).toBe('EAI_FAMILY');
    expect(err.errno).toBe(EAI_FAMILY);
  });

  it('validates the address and flags like bind does', () => {
    expect(thrown(() => getnameinfo({ family: AF_INET, address: 'localhost', port: 1 })).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => getnameinfo(lo22, '0' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('gethostname', () => {
  it("equals Node's os.hostname() and the kernel's /proc/sys/kernel/hostname", () => {
    expect(gethostname()).toBe(osHostname());
    if (process.platform === 'linux') expect(gethostname()).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
  });
});

describe('if_nametoindex / if_indextoname', () => {
  it("maps 'lo' to the index the kernel lists in /sys and back", () => {
    const idx = if_nametoindex('lo');
    expect(idx).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(idx).toBe(Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8')));
    expect(if_indextoname(idx)).toBe('lo');
  });

  it('returns 0 / undefined for interfaces that do not exist', () => {
    expect(if_nametoindex('no-such-if0')).toBe(0);
    expect(if_nametoindex('')).toBe(0);
    expect(if_nametoindex('lo\0junk')).toBe(0);
    expect(if_indextoname(0)).toBeUndefined();
    expect(if_indextoname(0x7ffffff0)).toBeUndefined();
    expect(if_indextoname(0xffffffff)).toBeUndefined();
  });

  it('fails with ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE for bad arguments', () => {
    expect(thrown(() => if_nametoindex(1 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => if_indextoname(-1)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => if_indextoname('1' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('strerror / gai_strerror', () => {
  const ECONNREFUSED = osConstants.errno.ECONNREFUSED;

  it("gives the C library's text for an errno of either sign", () => {
    expect(strerror(-ECONNREFUSED)).toBe(strerror(ECONNREFUSED));
    expect(strerror(-ECONNREFUSED)).toMatch(/connection refused/i);
    if (isGlibc) {
      expect(strerror(-111)).toBe('Connection refused');
      expect(strerror(0)).toBe('Success');
      expect(strerror(99999)).toBe('Unknown error 99999');
      // The one negative int with no positive counterpart (found by the UBSan build: -INT32_MIN overflowed).
      expect(strerror(-(2 ** 31))).toBe('Unknown error -2147483648');
    }
  });

  it('explains the errno of a real ECONNREFUSED from connect to a bound but not listening port', () => {
    const holder = track(socket(AF_INET, SOCK_STREAM, 0));
    bind(holder, { family: AF_INET, address: '127.0.0.1', port: 0 });
    const cli = track(socket(AF_INET, SOCK_STREAM, 0));
    const err = thrown(() => connect(cli, getsockname(holder)));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(-ECONNREFUSED);
    expect(strerror(err.errno!)).toMatch(/refused/i);
  });

  it('gives a message for each EAI_* code, different for EAI_NONAME and EAI_SERVICE', () => {
    const none = gai_strerror(EAI_NONAME);
    expect(none.length).toBeGreaterThan(0);
    expect(none).not.toBe(gai_strerror(EAI_SERVICE));
    if (isGlibc) {
      expect(none).toBe('Name or service not known');
      expect(gai_strerror(12345)).toBe('Unknown error');
    }
    const err = thrown(() => getaddrinfo('127.0.0.1', 'no-such-service-xyz', { ai_socktype: SOCK_STREAM }));
    expect(gai_strerror(err.errno!)).toBe(gai_strerror(EAI_SERVICE));
  });

  it('fails with ERR_INVALID_ARG_TYPE for a string', () => {
    expect(thrown(() => strerror('111' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => gai_strerror('-2' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('if_nameindex', () => {
  it('lists every interface, each index and name agreeing with if_nametoindex and if_indextoname', () => {
    const list = if_nameindex();
    expect(list.map((i) => i.if_name)).toContain(process.platform === 'linux' ? 'lo' : 'lo0');
    for (const { if_index, if_name } of list) {
      expect(if_index).toBeGreaterThan(0);
      expect(if_nametoindex(if_name)).toBe(if_index);
      expect(if_indextoname(if_index)).toBe(if_name);
    }
    // As the kernel lists them (/sys/class/net on Linux), no more, no fewer.
    if (process.platform === 'linux') {
      const sys = require('node:fs').readdirSync('/sys/class/net').sort();
      expect(list.map((i) => i.if_name).sort()).toEqual(sys);
    }
  });
});

describe('getnameinfo on no address at all', () => {
  // An empty array's data pointer may be null: the addon must not hand it to memcpy (UBSan, test:asan).
  it('fails with EAI_FAMILY for zero bytes, as getnameinfo(3) does for a socklen of 0', () => {
    expect(() => getnameinfo(Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'EAI_FAMILY', syscall: 'getnameinfo' }));
  });
});
