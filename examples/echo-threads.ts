// A concurrent echo server, thread per client: the modern stand-in for the course's fork() server.
// The main thread accepts (blocking: it does nothing else) and hands each connection's descriptor
// *number* to a new worker thread, which serves it with the ordinary blocking calls until end of file.
// Threads share the process's descriptor table, so the number is all a worker needs; ownership moves
// with it (release() here, fromFd() there), so exactly one thread closes each connection.
//
//   node dist/examples/echo-threads.js [PORT] [--count N]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  AF_INET, SOCK_STREAM, accept, bind, close, fromFd, getsockname, listen, read, socket, writeAll,
} from 'berkeley-sockets';

if (isMainThread) {
  const args = process.argv.slice(2);
  const countAt = args.indexOf('--count');
  const count = countAt >= 0 ? Number(args.splice(countAt, 2)[1]) : Infinity;
  const srv = socket(AF_INET, SOCK_STREAM, 0);
  bind(srv, { family: AF_INET, address: '127.0.0.1', port: Number(args[0] ?? 7008) });
  listen(srv, 64);
  console.log(`echo server (thread per client) listening on port ${getsockname(srv).port}`);
  const workers: Promise<unknown>[] = [];
  for (let served = 0; served < count; served++) {
    const { fd, address } = accept(srv); // blocks this thread; the workers keep running
    console.error(`connection from ${address.address}:${address.port}`);
    const worker = new Worker(__filename, { workerData: { fd: fd.release() } });
    workers.push(new Promise((resolve) => worker.on('exit', resolve)));
  }
  close(srv);
  void Promise.all(workers).then(() => console.error('all clients served'));
} else {
  const conn = fromFd(workerData.fd as number); // this thread owns the connection now
  const buf = Buffer.alloc(4096);
  let n: number;
  while ((n = read(conn, buf)) > 0) writeAll(conn, buf.subarray(0, n)); // until end of file
  close(conn);
  parentPort?.postMessage('done');
}
