// What a socklab command's usage line says, and what to make of a line that does not fit it: the
// arguments it requires (outside [brackets]), where an answer to a prompt goes in the line, and the
// command a mistyped name most likely meant.
import { words } from './parse';
import type { Ctx, Spec } from './spec';

/**
 * The required arguments (outside [brackets] in its usage) that a command line leaves out, in order.
 * The words typed fill the required places first: bind 3 asks for PORT, not for the optional ADDR.
 */
export function missingArgs(spec: Spec, c: Ctx): string[] {
  const forms = spec.usage.split('   |   ').map(required);
  // connect ID HOST PORT | connect HOST PORT: the form the words typed fit (an ID is a number).
  const form = forms.find((f) => c.w.every((w, i) => f[i] !== 'ID' || /^\d+$/.test(w.value))) ?? forms[0];
  const missing = form.filter((a) => a !== 'TEXT').slice(c.w.length);
  if (form.includes('TEXT') && spec.textAt !== undefined && c.text === undefined) missing.push('TEXT');
  return missing;
}

/** The words of a usage outside [brackets], the command and its flags aside: bind ID [ADDR] PORT → ID, PORT. */
function required(usage: string): string[] {
  const out: string[] = [];
  let depth = 0;
  for (const word of usage.trim().split(/\s+/).slice(1)) {
    if (depth === 0 && !word.startsWith('[') && !word.startsWith('-')) out.push(word);
    depth += (word.match(/\[/g) ?? []).length - (word.match(/\]/g) ?? []).length;
  }
  return out;
}

/** `line` with an answer after the words typed, before its trailing flags (write 3 -nb + hi → write 3 hi -nb). */
export function withAnswer(line: string, spec: Spec, answer: string, unterminated: string): string {
  const ws = words(line, unterminated);
  const flags = new Set(spec.flags ?? []);
  let at = line.length;
  for (let i = ws.length - 1; i > 0 && ws[i].quote === null && flags.has(ws[i].value); i--) at = ws[i].start;
  const tail = line.slice(at).trim();
  return `${line.slice(0, at).trimEnd()} ${answer}${tail === '' ? '' : ` ${tail}`}`;
}

/** The command `typed` was most likely meant to be: at most two edits away (Levenshtein), and the only one that close. */
export function nearest(typed: string, names: string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
    return prev[b.length];
  };
  const scored = names.map((n) => [n, distance(typed, n)] as const).filter(([, d]) => d <= 2).sort((x, y) => x[1] - y[1]);
  if (scored.length === 0 || (scored.length > 1 && scored[1][1] === scored[0][1])) return undefined;
  return scored[0][0];
}
