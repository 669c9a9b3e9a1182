// BSOCK_TRACE: the trace a program gets from its environment, without a line of its own, read once when
// the library loads (index.ts and promises.ts import this module):
//   1               every call, as strace prints it, on stderr
//   wire            and the loopback's packets of the program's sockets between them (trace.ts)
//   diagram         the calls drawn as a client/server sequence picture on stderr at exit;
//   mermaid         as a Mermaid sequenceDiagram; `diagram:wire`, `mermaid:wire` draw the real packets
//   svg:FILE        the wire trace on stderr, and its SVG picture (svg.ts) written to FILE at exit. The
//                   packets are on (the picture is the calls and the packets on one timeline): without
//                   CAP_NET_RAW the trace says once why there are none, in the picture too, and goes on.
// The pictures take every line, also those of a trace the program turns on itself (the tour's).
import { writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { renderDiagram } from './diagram';
import { tapTrace, trace } from './trace';

const mode = process.env.BSOCK_TRACE;

if (mode === '1') trace(true);
else if (mode === 'wire') trace({ wire: true });
else if (mode !== undefined && /^(diagram|mermaid)(:wire)?$/.test(mode)) {
  // Collect the calls (and packets) and draw them when the process ends; the packets left are read
  // first (the wire's exit hook, registered by trace(), runs before this one).
  const lines: string[] = [];
  tapTrace((line) => lines.push(line));
  trace({ to: () => {} });
  process.on('exit', () => writeSync(2, renderDiagram(lines, mode.startsWith('mermaid') ? 'mermaid' : 'text')));
} else if (mode?.startsWith('svg:')) {
  // The file is named where the program starts: a program that changes directory still writes it there.
  const file = mode.length > 4 ? path.resolve(mode.slice(4)) : undefined;
  const lines: string[] = [];
  tapTrace((line) => lines.push(line));
  trace({ wire: true });
  if (file === undefined) writeSync(2, '# BSOCK_TRACE=svg:FILE: no FILE given, no picture\n');
  else {
    process.on('exit', () => {
      try {
        writeFileSync(file, renderDiagram(lines, 'svg'));
      } catch (e) {
        const err = e as { code?: string; message?: string };
        writeSync(2, `# BSOCK_TRACE=svg: cannot write ${file} (${err.code ?? err.message})\n`);
      }
    });
  }
}
