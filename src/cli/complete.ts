// socklab's Tab completion (readline's completer): what may come next at the end of a line — a command,
// its words, socket ids, option names and flags — or the answer to the argument being asked for.
import type { Session } from './session';
import { interfaceNames } from './commands/capture';
import { OPTIONS, optionsFor } from './sockopts';

/** Command names typed for others: `status` is `=`. */
export const ALIASES: Record<string, string> = { status: '=' };

/** What Tab offers for a host. */
const HOSTS = ['127.0.0.1', '::1', 'localhost', '*'];

/** What may come next at the end of `line` in `session`: the candidates, and the word they complete. */
export function complete(session: Session, line: string): [string[], string] {
  const stripped = line.replace(/^\s*!([A-Z][A-Z0-9_]*)?\s*/, '');
  const parts = stripped.split(/\s+/);
  const last = parts[parts.length - 1];
  const pick = (all: string[]) => {
    const hits = all.filter((c) => c.startsWith(last));
    return [hits.length ? hits : [], last] as [string[], string];
  };
  if (session.asking !== undefined) {
    const arg = session.asking;
    if (arg === 'ID') return pick(session.ids().map(String));
    if (arg === 'HOST') return pick(HOSTS);
    return pick(arg.includes('|') ? arg.split('|') : []);
  }
  if (parts.length <= 1) return pick(session.commandNames());
  const name = ALIASES[parts[0]] ?? parts[0];
  const spec = session.specs[name];
  if (spec === undefined) return [[], last];
  if (last.startsWith('-')) return pick(spec.flags ?? []);
  const position = parts.slice(1, -1).filter((p) => !p.startsWith('-')).length;
  let kind = spec.args[position];
  if (name === 'connect' && position > 0 && !/^\d+$/.test(parts[1])) kind = spec.args[position + 1];
  switch (kind) {
    case 'id': return pick(session.ids().map(String));
    case 'proto': return pick(['tcp', 'udp', 'raw']);
    case 'v6': return pick(['v6']);
    case 'how': return pick(['rd', 'wr', 'rdwr']);
    case 'onoff': return pick(['on', 'off']);
    case 'mode': return pick(['tcp', 'udp']);
    case 'ifname': return pick(parts[1] === 'on' ? interfaceNames() : []);
    case 'cmd': return pick(session.commandNames());
    case 'host': case 'addr': return pick(HOSTS);
    case 'opt': {
      const s = session.socks.get(Number(parts[1]));
      return pick((s ? optionsFor(s.kind, s.domain) : OPTIONS).map((o) => o.name));
    }
    case 'value': return pick(['on', 'off']);
    default: return pick(spec.flags ?? []);
  }
}
