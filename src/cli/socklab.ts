#!/usr/bin/env node
// socklab: drive real sockets by hand, one system call per command — the Grenoble networking
// course's laboratory, on this library. Interactive on a terminal (readline: history, Tab completion,
// Ctrl-C ends a blocked call and never the shell); a script from a file or a pipe otherwise, whose
// exit status says whether every command did what was expected of it.
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { type Lang, messages, pickLang } from './i18n';
import { stripComment } from './parse';
import { type Done, Session } from './session';

interface Args {
  lang?: string;
  mode: 'tcp' | 'udp';
  trace: boolean;
  errexit: boolean;
  interactive: boolean;
  file?: string;
}

function parseArgs(argv: string[], usage: () => never): Args {
  const a: Args = { mode: 'tcp', trace: false, errexit: false, interactive: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') usage();
    else if (arg === '-x' || arg === '--trace') a.trace = true;
    else if (arg === '-e' || arg === '--errexit') a.errexit = true;
    else if (arg === '-i' || arg === '--interactive') a.interactive = true;
    else if (arg === '--lang') a.lang = argv[++i] ?? '';
    else if (arg.startsWith('--lang=')) a.lang = arg.slice(7);
    else if (arg === 'tcp' || arg === 'udp') a.mode = arg;
    else if (arg === '--version' || arg === '-V') {
      process.stdout.write(`socklab ${version()}\n`);
      process.exit(0);
    } else if (arg.startsWith('-') && arg !== '-') throw new Error(arg);
    else if (a.file === undefined) a.file = arg;
    else throw new Error(arg);
  }
  return a;
}

function version(): string {
  try {
    return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return '';
  }
}

/** `!` expects the command to fail; `!ECONNREFUSED` expects that errno. */
const EXPECT = /^!([A-Z][A-Z0-9_]*(?=\s|$))?\s*/;

function main(): void {
  let lang: Lang = pickLang(undefined, process.env);
  let m = messages(lang);
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2), () => {
      m = messages(pickLang(process.argv.includes('--lang') ? process.argv[process.argv.indexOf('--lang') + 1] : undefined, process.env));
      process.stdout.write(`${m.cliUsage}\n`);
      process.exit(0);
    });
  } catch (e) {
    process.stderr.write(`${m.unknownArg((e as Error).message)}\n${m.cliUsage}\n`);
    process.exit(2);
  }
  lang = pickLang(args.lang, process.env);
  m = messages(lang);

  const script = args.file !== undefined && args.file !== '-';
  const tty = !script && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const showPrompt = tty || args.interactive;
  const source = script ? args.file! : 'stdin';

  let input: NodeJS.ReadableStream;
  if (script) {
    try {
      readFileSync(args.file!); // fail now, with a message, rather than from the stream later
    } catch (e) {
      process.stderr.write(`${m.cantOpen(args.file!, (e as Error).message)}\n`);
      process.exit(2);
    }
    input = createReadStream(args.file!);
  } else input = process.stdin;

  const out = (line: string) => {
    process.stdout.write(`${line}\n`);
  };
  process.stdout.on('error', () => process.exit(1)); // a closed pipe (socklab … | head)
  const session = new Session(out, m);
  session.trace = args.trace;
  session.mode = args.mode;
  const prompt = () => (session.mode === 'udp' ? 'socklab(udp)> ' : 'socklab> ');

  const historyFile = process.env.SOCKLAB_HISTORY ?? path.join(homedir(), '.socklab_history');
  let history: string[] = [];
  if (tty && historyFile) {
    try {
      history = readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
    } catch {
      // no history yet
    }
  }

  const rl = readline.createInterface({
    input,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    completer: tty ? (line: string) => session.complete(line) : undefined,
    history,
    historySize: 1000,
    removeHistoryDuplicates: true,
    prompt: prompt(),
    crlfDelay: Infinity,
  });

  const queue: { text: string; no: number }[] = [];
  let lineNo = 0;
  let running = false;
  let eof = false;
  let stopped = false;
  let promptShown = false;
  let interrupted = false;
  /** Set while a missing argument is asked for: the next line answers it. */
  let answering: ((text: string | undefined) => void) | undefined;
  const failures: string[] = [];
  const rlHistory = () => (rl as unknown as { history: string[] }).history;

  const showPromptNow = () => {
    if (stopped || eof) return;
    rl.setPrompt(prompt());
    if (tty) rl.prompt(true);
    else {
      process.stdout.write(prompt());
      promptShown = true;
    }
    session.capture.watchIdle(printAbovePrompt);
  };

  /**
   * `capture on`: packets that come while the lab waits at its prompt are printed above it, and the
   * prompt is drawn again below them with the line being typed (readline's refresh starts `prevRows`
   * rows up: the lines are written from the prompt's first row, so it starts from there).
   */
  const printAbovePrompt = (lines: string[]) => {
    if (stopped || eof || running || answering !== undefined) {
      for (const line of lines) out(line); // not at the prompt (leaving): printed all the same
      return;
    }
    if (tty) {
      const r = rl as unknown as { prevRows?: number };
      readline.moveCursor(process.stdout, 0, -rl.getCursorPos().rows);
      readline.cursorTo(process.stdout, 0);
      readline.clearScreenDown(process.stdout);
      for (const line of lines) out(line);
      r.prevRows = 0;
      rl.prompt(true);
    } else process.stdout.write(`\n${lines.map((l) => `${l}\n`).join('')}${prompt()}`);
  };

  const finish = () => {
    session.closeAll();
    if (tty && historyFile) {
      try {
        writeFileSync(historyFile, `${[...(rl as unknown as { history: string[] }).history].reverse().join('\n')}\n`);
      } catch {
        // history is a convenience
      }
    }
    if (interrupted) {
      process.stderr.write(`${m.scriptInterrupted}\n`);
      process.exit(130);
    }
    if (!tty && failures.length > 0) {
      process.stderr.write(`${m.failedSummary(failures.length)}\n${failures.map((f) => `${f}\n`).join('')}`);
    }
    process.exit(!tty && failures.length > 0 ? 1 : 0);
  };

  /**
   * Asks for a missing argument, as the course's socklab does, one prompt each: a line already queued
   * (typed ahead, or piped with -i) answers first; end of input or Ctrl-C gives no answer.
   */
  const ask = async (label: string): Promise<string | undefined> => {
    const queued = queue.shift();
    if (queued !== undefined) {
      out(`${label}${queued.text}`);
      if (tty) dropFromHistory(queued.text);
      return queued.text;
    }
    if (eof || stopped) {
      if (!tty) out(label); // the question, unanswered: the input has ended
      return undefined;
    }
    if (tty) {
      rl.setPrompt(label);
      rl.prompt(true);
    } else process.stdout.write(label);
    const text = await new Promise<string | undefined>((resolve) => {
      answering = resolve;
    });
    if (!tty) process.stdout.write(`${text ?? ''}\n`);
    else if (text !== undefined) dropFromHistory(text);
    return text;
  };
  /** An answer is not a command: the history keeps the command as completed instead. */
  const dropFromHistory = (text: string) => {
    if (rlHistory()[0] === text) rlHistory().shift();
  };
  if (showPrompt) session.ask = ask;

  /** Runs one line and judges it against its ! prefix: true if it did what was expected. */
  const runLine = async (text: string, no: number): Promise<void> => {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      if (promptShown) process.stdout.write('\n');
      promptShown = false;
      return;
    }
    // Echoed so that a script's output reads as a session; its comments stay in the script.
    const shown = stripComment(trimmed).trimEnd();
    if (!tty) out(promptShown ? shown : `${prompt()}${shown}`);
    promptShown = false;
    const ex = EXPECT.exec(trimmed);
    const expect = ex ? ex[1] ?? '' : undefined;
    const done: Done = await session.execute(ex ? trimmed.slice(ex[0].length) : trimmed);
    await session.capture.show(); // the packets since the last command, after this one's output
    if (tty && done.completed !== undefined) {
      const h = rlHistory();
      if (h[0] === trimmed) h.shift();
      h.unshift(`${ex ? ex[0] : ''}${done.completed}`);
    }
    if (done.status === 'quit') {
      stopped = true;
      return;
    }
    let ok: boolean;
    if (done.status === 'usage' || done.status === 'empty') ok = false;
    else if (done.status === 'failed') {
      ok = expect !== undefined && (expect === '' || expect === done.code);
      if (expect && expect !== done.code) out(m.expectedCode(expect, done.code ?? '?'));
    } else {
      ok = expect === undefined;
      if (!ok) out(m.expectedFailure);
    }
    if (!ok) {
      failures.push(m.failedAt(`${source}:${no}`, trimmed));
      if (args.errexit && !tty) {
        out(m.stopped);
        stopped = true;
      }
    }
  };

  const pump = async () => {
    if (running) return;
    running = true;
    while (queue.length > 0 && !stopped) {
      const { text, no } = queue.shift()!;
      await runLine(text, no);
    }
    running = false;
    if (stopped || eof) finish();
    else if (showPrompt) showPromptNow();
  };

  rl.on('line', (text) => {
    ++lineNo;
    session.capture.stopIdle();
    if (answering !== undefined) {
      const answer = answering;
      answering = undefined;
      answer(text);
      return;
    }
    queue.push({ text, no: lineNo });
    void pump();
  });
  const cancelAsking = (): boolean => {
    if (answering === undefined) return false;
    const answer = answering;
    answering = undefined;
    answer(undefined);
    return true;
  };
  rl.on('close', () => {
    eof = true;
    cancelAsking();
    if (tty) {
      // Ctrl-D leaves at once, as a shell does, even from a blocked call.
      process.stdout.write('\n');
      stopped = true;
      session.interrupt();
    }
    if (!running) finish();
  });

  // Ctrl-C: a terminal in raw mode gives it to readline; `kill -INT` and a script's terminal send the
  // signal. Either way it ends the blocked call (EINTR). At a prompt the shell goes on; a script stops
  // there, as sh does (status 130, 128 + SIGINT).
  const onInterrupt = () => {
    if (!showPrompt) {
      interrupted = true;
      stopped = true;
      session.interrupt();
      if (!running) finish();
      return;
    }
    if (session.interrupt()) {
      if (tty) process.stdout.write('^C\n');
      return;
    }
    // At a prompt — a command's, or a missing argument's, which Ctrl-C cancels — the line typed is dropped.
    const asking = answering !== undefined;
    if (tty && (asking || !running)) {
      const r = rl as unknown as { line: string; cursor: number };
      process.stdout.write('^C\n');
      r.line = '';
      r.cursor = 0;
    }
    if (cancelAsking()) return;
    if (tty && !running) rl.prompt();
  };
  process.on('SIGINT', onInterrupt);
  if (tty) rl.on('SIGINT', onInterrupt);

  if (tty) out(m.banner(version()));
  if (showPrompt) showPromptNow();
}

main();
