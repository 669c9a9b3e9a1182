// The keepalive lab: watch TCP keepalive probes on the wire, then watch a dead peer being detected in
// idle + interval × count seconds.
//
//   npm run keepalive-lab -- --idle 1 --interval 1 --count 3
//
// As root, the lab runs in a private network namespace of its own (unshare -n), captures with tcpdump
// on its loopback, and makes the peer vanish with an iptables rule that drops everything the server
// side sends. Without root it shows the probes through TCP_INFO and prints the commands to run by hand.
import { spawn, spawnSync } from 'node:child_process';
import {
  AF_INET, IPPROTO_TCP, SOCK_STREAM, TCP_INFO, accept, bind, close, connect, getsockname, getsockopt, listen, read,
  setKeepAlive, socket, write,
} from 'berkeley-sockets';
import * as promises from 'berkeley-sockets/promises';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be a whole number of seconds >= 1`);
    process.exit(2);
  }
  return v;
}
const idle = option('idle', 1);
const interval = option('interval', 1);
const count = option('count', 3);

const root = process.getuid?.() === 0;
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isolated = process.env.KEEPALIVE_LAB_NETNS === '1';

// As root, start again inside a fresh network namespace: our iptables rule then touches nothing else.
if (root && !isolated && has('unshare') && has('iptables') && has('ip')) {
  const r = spawnSync('unshare', ['-n', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, KEEPALIVE_LAB_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}
if (isolated) spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'inherit' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stamp = (t0: number) => `+${((Date.now() - t0) / 1000).toFixed(3)} s`;

async function main(): Promise<void> {
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: 0 });
  listen(srv, 1);
  const port = getsockname(srv).port;

  let dump: ReturnType<typeof spawn> | undefined;
  let onPacket: ((line: string) => void) | undefined;
  if (root && has('tcpdump')) {
    dump = spawn('tcpdump', ['-i', 'lo', '-nn', '-tt', '-l', '-U', `tcp port ${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let ready = false;
    dump.stderr!.setEncoding('utf8').on('data', (d: string) => (ready ||= d.includes('listening on')));
    let partial = '';
    dump.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onPacket?.(line);
    });
    for (let i = 0; i < 100 && !ready; i++) await sleep(50);
    console.log(`tcpdump is capturing: tcpdump -i lo -nn 'tcp port ${port}'`);
  } else {
    console.log(`(run as root to see the packets; by hand: sudo tcpdump -i lo -nn 'tcp port ${port}')`);
  }

  const cli = socket(AF_INET, SOCK_STREAM, 0);
  connect(cli, { family: AF_INET, address: '127.0.0.1', port });
  const { fd: conn } = accept(srv);
  const cport = getsockname(cli).port;
  setKeepAlive(cli, { idle, interval, count });
  console.log(`client 127.0.0.1:${cport} → server 127.0.0.1:${port}; keepalive idle=${idle}s interval=${interval}s count=${count}`);

  // Times come from tcpdump's own timestamps, relative to the packet that carried the last data.
  let dropFrom = Infinity; // when the iptables rule went in (epoch seconds, tcpdump's clock)
  const describe = () => {
    let base: number | undefined;
    return (line: string) => {
      const m = /^(\d+\.\d+) IP \S+?\.(\d+) > \S+?\.(\d+): Flags \[([^\]]*)\].*length (\d+)/.exec(line);
      if (!m) return;
      const [t, from, flags, length] = [Number(m[1]), Number(m[2]), m[4], Number(m[5])];
      if (from === cport && length > 0) {
        base = t;
        console.log(`  +0.000 s  client → server  ${length} byte(s) of data: keepalive counts from here`);
        return;
      }
      if (base === undefined) return;
      const at = `+${(t - base).toFixed(3)} s`;
      if (from === cport && length === 0 && flags === '.') console.log(`  ${at}  client → server  keepalive probe`);
      else if (from === port && length === 0 && flags === '.') {
        console.log(`  ${at}  server → client  ACK${t >= dropFrom ? ' (on the wire, but dropped before the client sees it)' : ': the peer is alive'}`);
      } else if (flags.includes('R')) console.log(`  ${at}  ${from === cport ? 'client → server' : 'server → client'}  RST`);
    };
  };

  // 1. A live peer: the probes are answered, the connection stays up.
  const buf = Buffer.alloc(16);
  console.log(`\n1. A live peer answers every probe:`);
  onPacket = describe();
  write(cli, 'x');
  read(conn, buf);
  let t0 = Date.now();
  const watchFor = (idle + interval * Math.min(count, 2)) * 1000 + 400;
  if (!dump) {
    for (let seen = 0; Date.now() - t0 < watchFor; await sleep(100)) {
      const probes = getsockopt(cli, IPPROTO_TCP, TCP_INFO!).probes;
      if (probes !== seen) console.log(`  ${stamp(t0)}  TCP_INFO: ${probes} probe(s) outstanding`);
      seen = probes;
    }
  } else {
    await sleep(watchFor);
  }

  if (!isolated) {
    console.log('\n2. making the peer vanish needs root (a network namespace and iptables); as root, run:');
    console.log(`   sudo unshare -n sh -c 'ip link set lo up; iptables -A INPUT -p tcp --sport PORT -j DROP; …'`);
    close(conn); close(cli); close(srv);
    dump?.kill('SIGINT');
    return;
  }

  // 2. The peer vanishes: everything the server side sends is dropped from now on.
  const expected = idle + interval * count;
  console.log(`\n2. The peer vanishes (iptables drops what it sends) right after acknowledging the last data:`);
  await sleep(200); // let tcpdump's lines for phase 1 drain
  onPacket = describe();
  write(cli, 'y');
  read(conn, buf);
  t0 = Date.now();
  await sleep(20); // the ACK of 'y' reaches the client: no data is left unacknowledged
  spawnSync('iptables', ['-A', 'INPUT', '-p', 'tcp', '--sport', String(port), '-j', 'DROP']);
  dropFrom = Date.now() / 1000;
  try {
    // The lab's own limit is an AbortSignal, so it cannot be mistaken for the kernel's ETIMEDOUT.
    await promises.read(cli, buf, undefined, { signal: AbortSignal.timeout((expected + 10) * 1000) });
    console.log('   the read returned: the peer did not vanish?');
  } catch (e) {
    const err = e as { code?: string; message: string };
    console.log(`   read() failed with ${err.code} after ${((Date.now() - t0) / 1000).toFixed(2)} s` +
      ` (idle + interval × count = ${idle} + ${interval} × ${count} = ${expected} s)`);
    if (err.code !== 'ETIMEDOUT') process.exitCode = 1;
  }
  close(conn); close(cli); close(srv);
  await sleep(100);
  dump?.kill('SIGINT');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
