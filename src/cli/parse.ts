// Reading a socklab command line: ${variables}, comments, words (with "double" and 'single'
// quotes), and the C escapes of the text to send. No policy here: the commands decide what each word is.

/** A word of the line, with where it was, so a command can take "the rest of the line" verbatim. */
export interface Word {
  /** The word without its quotes (escapes still as typed). */
  value: string;
  /** The quote it was written in, if it was one quoted string. */
  quote: '"' | "'" | null;
  start: number;
  end: number;
}

export class ParseError extends Error {}

/** A mistake in the command line: printed as is, nothing was called. */
export class UsageError extends Error {}

/**
 * Replaces `${name}` and `${name:-default}` with `lookup(name)` (undefined: the default, or an error).
 * A `$` not followed by `{` is left alone, so text like "5$" needs no escaping.
 */
export function expand(line: string, lookup: (name: string) => string | undefined, unknown: (name: string) => string): string {
  return line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def: string | undefined) => {
    const v = lookup(name);
    if (v !== undefined && v !== '') return v;
    if (def !== undefined) return def;
    if (v !== undefined) return v;
    throw new ParseError(unknown(name));
  });
}

/**
 * The line without its comment: `#` at the start of a word, outside quotes, to the end of the line.
 * Done before ${} expansion, so a comment may mention ${from} without it being looked up.
 */
export function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

/**
 * Splits a line into words. `#` at the start of a word, outside quotes, begins a comment that runs to
 * the end of the line (quote the text to send a word starting with #).
 */
export function words(line: string, unterminated: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n || line[i] === '#') break;
    const start = i;
    let value = '';
    let quotes = 0;
    let quoteChar: '"' | "'" | null = null;
    while (i < n && !/\s/.test(line[i])) {
      const c = line[i];
      if (c === '"' || c === "'") {
        const close = findClose(line, i + 1, c);
        if (close < 0) throw new ParseError(unterminated);
        value += line.slice(i + 1, close);
        quotes++;
        quoteChar = c;
        i = close + 1;
      } else if (c === '\\' && i + 1 < n) {
        value += line.slice(i, i + 2); // kept for unescape(): "\ " is a space inside a word
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    const whole = quotes === 1 && (line[start] === '"' || line[start] === "'") && (line[i - 1] === line[start]);
    out.push({ value, quote: whole ? quoteChar : null, start, end: i });
  }
  return out;
}

function findClose(line: string, from: number, q: string): number {
  for (let i = from; i < line.length; i++) {
    if (line[i] === '\\' && q === '"') i++;
    else if (line[i] === q) return i;
  }
  return -1;
}

/** C escapes in text to send: \n \r \t \0 \\ \" \' \a \b \f \v \e \xHH and octal \NNN. */
export function unescape(s: string): Buffer {
  const bytes: number[] = [];
  const utf8 = (str: string) => bytes.push(...Buffer.from(str, 'utf8'));
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      utf8(c);
      continue;
    }
    const e = s[++i];
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, f: 12, v: 11, e: 27, '\\': 92, '"': 34, "'": 39, ' ': 32 };
    if (e in simple) bytes.push(simple[e]);
    else if (e === 'x' && /^[0-9a-fA-F]{1,2}/.test(s.slice(i + 1))) {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1))![0];
      bytes.push(parseInt(hex, 16));
      i += hex.length;
    } else if (/[0-7]/.test(e)) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i))![0];
      bytes.push(parseInt(oct, 8) & 0xff);
      i += oct.length - 1;
    } else {
      utf8(`\\${e}`);
    }
  }
  return Buffer.from(bytes);
}

/** The bytes of text as typed from `from` to `to` in the line: one quoted word loses its quotes. */
export function textOf(line: string, ws: Word[]): Buffer {
  if (ws.length === 0) return Buffer.alloc(0);
  if (ws.length === 1 && ws[0].quote === "'") return Buffer.from(ws[0].value, 'utf8');
  if (ws.length === 1 && ws[0].quote === '"') return unescape(ws[0].value);
  return unescape(line.slice(ws[0].start, ws[ws.length - 1].end));
}
