// socklab's words, in English and in French (the course is French): `--lang fr`, or LANG/LC_ALL/
// LC_MESSAGES starting with "fr". System call lines, errno names and strerror texts are the C
// library's and stay as they are, as they would in a C program.

export type Lang = 'en' | 'fr';

/** The language asked for: --lang wins, then LC_ALL, LC_MESSAGES, LANG (the POSIX precedence). */
export function pickLang(flag: string | undefined, env: NodeJS.ProcessEnv): Lang {
  if (flag !== undefined) return /^fr/i.test(flag) ? 'fr' : 'en';
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^fr/i.test(locale) ? 'fr' : 'en';
}

// Each command's one-line description, in both languages, is beside the command (commands/*.ts).

const quitEn = 'leave socklab (also exit, or Ctrl-D); every socket is closed';

const quitFr = "quitte socklab (aussi exit, ou Ctrl-D) ; toutes les sockets sont fermées";

export interface Messages {
  lang: Lang;
  /** What `help` says of quit, the one command that is not in the table. */
  quitHelp: string;
  banner(version: string): string;
  helpHeader: string;
  helpFooter: string;
  usage(u: string): string;
  /** A usage line with its placeholders in this language (HOST → HÔTE). */
  words(u: string): string;
  unknownArg(arg: string): string;
  /** A new socket's identifier: its descriptor. */
  newSocket(fd: number): string;
  accepted(fd: number, peer: string): string;
  /** The prompt asking for a missing argument, by its word in the usage (ID, PORT, tcp|udp|raw…). */
  ask(arg: string): string;
  eof: string;
  blocks(call: string, why: 'accept' | 'connect' | 'in' | 'out' | 'sleep'): string;
  interrupted: string;
  inProgress: string;
  wouldBlock: string;
  timedOut(opt: string): string;
  partial(n: number, total: number): string;
  hint(code: string, syscall: string): string | undefined;
  /** An unknown command, and the nearest one when a typo is likely (one or two letters off). */
  unknownCommand(cmd: string, nearest?: string): string;
  noSuchSocket(id: string): string;
  badNumber(what: string, v: string): string;
  badPort(v: string): string;
  badHost(host: string, why: string): string;
  badChoice(v: string, choices: string[]): string;
  badOption(v: string, names: string[]): string;
  badValue(opt: string, v: string): string;
  readOnly(opt: string): string;
  notFor(opt: string, kind: string): string;
  missingText: string;
  tooMany: string;
  unknownVariable(name: string): string;
  unterminated: string;
  noSockets: string;
  columns: [string, string, string, string, string, string];
  udpState(s: 'unbound' | 'bound' | 'connected'): string;
  legend: string;
  traceIs(on: boolean): string;
  /** `capture`'s state: on an interface (and the capture's own descriptor), or off. */
  captureIs(ifname: string | undefined, fd: number | undefined): string;
  /** `capture on` refused: the call and its errno; needsRaw when the reason is CAP_NET_RAW. */
  captureFailed(ifname: string, why: string, needsRaw: boolean): string;
  modeIs(mode: string): string;
  keepalive(on: boolean, idle: number, intvl: number, cnt: number): string;
  resolved(n: number): string;
  expectedFailure: string;
  expectedCode(want: string, got: string): string;
  failedSummary(n: number): string;
  failedAt(where: string, line: string): string;
  stopped: string;
  scriptInterrupted: string;
  cantOpen(file: string, why: string): string;
  cliUsage: string;
}

const en: Messages = {
  lang: 'en',
  quitHelp: quitEn,
  banner: (v) => `socklab ${v}: the Berkeley socket calls by hand, one command per system call.\n` +
    `help lists the commands, = shows the sockets, Tab completes, Ctrl-C interrupts a blocked call, quit leaves.`,
  helpHeader: 'Commands (ID: a socket\'s descriptor, as socket and accept print it and = lists it; a command prefixed\n' +
    'with ! is expected to fail):',
  helpFooter: 'Options: -nb makes a blocking call non-blocking (EAGAIN instead of waiting). help COMMAND for its usage.\n' +
    'At the prompt, a command missing arguments asks for each of them (an empty answer cancels).\n' +
    '${NAME} and ${NAME:-default} are replaced by a variable — ${id}: the last socket made; ${id1}, ${id2}…: the\n' +
    'first, second… socket made (accept included), so that a script reads the same whatever the descriptors;\n' +
    '${port}: the port of the last getsockname (passive shows it); ${from}: "HOST PORT" of the last recvfrom —\n' +
    'or by an environment variable.',
  usage: (u) => `usage: ${u}`,
  words: (u) => u,
  unknownArg: (arg) => `socklab: unknown argument ${arg}`,
  newSocket: (fd) => `  id ${fd} (the descriptor)`,
  accepted: (fd, peer) => `  id ${fd}: connection from ${peer}`,
  ask: (arg) => `${({
    ID: 'socket id', HOST: 'host', PORT: 'port', TEXT: 'text', GROUP: 'multicast group', SECONDS: 'seconds',
    'tcp|udp|raw': 'protocol (tcp, udp or raw)', 'rd|wr|rdwr': 'direction (rd, wr or rdwr)',
  } as Record<string, string>)[arg] ?? arg.toLowerCase()}? `,
  eof: '  end of file: the peer has shut down its side (shutdown or close)',
  blocks: (call, why) => `  ${call} blocks ${{
    accept: 'until a client connects',
    connect: 'until the handshake completes',
    in: 'until data arrives',
    out: 'until there is room in the send buffer',
    sleep: '',
  }[why]} (Ctrl-C interrupts)`.replace('  (', ' ('),
  interrupted: '  interrupted by Ctrl-C (SIGINT): the call returns EINTR, as in a C program with a SIGINT handler',
  inProgress: '  the handshake goes on in the background: = shows W once the connection is established',
  wouldBlock: '  the call would have blocked (non-blocking)',
  timedOut: (opt) => `  ${opt} expired`,
  partial: (n, total) => `  only ${n} of ${total} bytes were written before the interruption`,
  hint: (code, syscall) => {
    if (code === 'EADDRINUSE') return '  another socket already has this address and port (or it is in TIME_WAIT: options ID SO_REUSEADDR 1 before bind)';
    if (code === 'ECONNREFUSED') return syscall === 'connect' ? '  nobody listens on that port (the peer answered with RST)' : '  the peer\'s port is closed (ICMP port unreachable)';
    if (code === 'EACCES' && syscall === 'sendto') return '  sending to a broadcast address needs SO_BROADCAST: options ID SO_BROADCAST 1';
    if (code === 'EPIPE') return '  the peer has closed its side: writing is no longer possible';
    if (code === 'ENOTCONN') return '  the socket is not connected';
    if (code === 'EINVAL' && syscall === 'accept') return '  accept needs a listening socket (listen ID first)';
    if (code === 'EPERM' || (code === 'EACCES' && syscall === 'socket')) return '  raw sockets need root (CAP_NET_RAW)';
    return undefined;
  },
  unknownCommand: (cmd, nearest) =>
    `unknown command: ${cmd} (${nearest ? `did you mean ${nearest}? ` : ''}help lists the commands)`,
  noSuchSocket: (id) => `no socket has id ${id} (= lists them)`,
  badNumber: (what, v) => `${what} must be a number: ${v}`,
  badPort: (v) => `not a port (0..65535 or a service name): ${v}`,
  badHost: (host, why) => `cannot resolve ${host}: ${why}`,
  badChoice: (v, choices) => `${v}: expected ${choices.join(', ')}`,
  badOption: (v, names) => `unknown option ${v}; options: ${names.join(' ')}`,
  badValue: (opt, v) => `bad value for ${opt}: ${v}`,
  readOnly: (opt) => `${opt} can only be read`,
  notFor: (opt, kind) => `${opt} does not apply to a ${kind} socket`,
  missingText: 'the text to send is missing ("" sends nothing)',
  tooMany: 'too many arguments',
  unknownVariable: (name) => `undefined variable: \${${name}} (use \${${name}:-default})`,
  unterminated: 'unterminated quote',
  noSockets: 'no sockets',
  columns: ['id', 'proto', 'local', 'remote', 'state', 'R W X'],
  udpState: (s) => s,
  legend: 'R: a read (or accept) would not block; W: a write would not block; X: urgent data or an exceptional condition',
  traceIs: (on) => (on ? 'trace on: each system call as strace shows it' : 'trace off'),
  captureIs: (ifname, fd) => (ifname === undefined ? 'capture off'
    : `capture on ${ifname}: the packets of the lab's sockets (by their ports), as tcpdump -nn -S prints them, after each command and at the prompt\n` +
      `  (descriptor ${fd} is the capture's packet socket, not a lab socket)`),
  captureFailed: (ifname, why, needsRaw) => `capture on ${ifname}: ${why}` +
    (needsRaw ? '\n  capturing packets needs CAP_NET_RAW (root): the lab goes on without them' : ''),
  modeIs: (mode) => `mode ${mode}: passive and connect HOST PORT make ${mode} sockets`,
  keepalive: (on, idle, intvl, cnt) => on
    ? `  keepalive on: first probe after ${idle} s of silence, then every ${intvl} s; a dead peer is detected after about ${idle} + ${intvl} × ${cnt} = ${idle + intvl * cnt} s`
    : `  keepalive off (would be: idle ${idle} s, interval ${intvl} s, count ${cnt})`,
  resolved: (n) => `  ${n} address${n === 1 ? '' : 'es'}`,
  expectedFailure: '  expected a failure (!), but the command succeeded',
  expectedCode: (want, got) => `  expected ${want}, got ${got}`,
  failedSummary: (n) => `socklab: ${n} command${n === 1 ? '' : 's'} failed unexpectedly`,
  failedAt: (where, line) => `  ${where}: ${line}`,
  stopped: 'socklab: stopped at the first unexpected failure (-e)',
  scriptInterrupted: 'socklab: interrupted (Ctrl-C): the script stops here',
  cantOpen: (file, why) => `socklab: cannot read ${file}: ${why}`,
  cliUsage: `usage: socklab [tcp|udp] [-x] [-e] [-i] [--lang en|fr] [SCRIPT]

  tcp, udp     the protocol of the shortcuts passive and connect HOST PORT (default tcp)
  -x           start with trace on (each system call as strace shows it)
  -e           stop a script at the first unexpected failure
  -i           interactive on a pipe: print the prompt when waiting for a command, and ask for the
               arguments a command is missing (the next lines answer)
  --lang fr    messages and help in French (also LANG=fr_FR.UTF-8)
  SCRIPT       run the commands of this file (- or none: standard input), then exit

A script exits with status 1 if a command failed unexpectedly. Prefix a command with ! when it must
fail (! connect \${id} 127.0.0.1 9), or with !ECODE when it must fail with that errno (!ECONNREFUSED …).
Ctrl-C ends a blocked call: at the prompt socklab goes on; a script stops there (status 130).`,
};

const fr: Messages = {
  lang: 'fr',
  quitHelp: quitFr,
  banner: (v) => `socklab ${v} : les primitives des sockets à la main, une commande par appel système.\n` +
    `help liste les commandes, = montre les sockets, Tab complète, Ctrl-C interrompt un appel bloqué, quit termine.`,
  helpHeader: "Commandes (ID : l'identificateur d'une socket, son descripteur, qu'affichent socket et accept et que\n" +
    'liste = ; une commande précédée de ! doit échouer) :',
  helpFooter: "Option : -nb rend un appel bloquant non bloquant (EAGAIN au lieu d'attendre). help COMMANDE pour son usage.\n" +
    "À l'invite, une commande à laquelle il manque des arguments les demande un par un (une réponse vide annule).\n" +
    "${NOM} et ${NOM:-défaut} sont remplacés par une variable — ${id} : la dernière socket créée ; ${id1}, ${id2}… :\n" +
    'la première, la deuxième… socket créée (accept compris), pour qu\'un script se lise de même quels que soient les\n' +
    "descripteurs ; ${port} : le port du dernier getsockname (passive l'affiche) ; ${from} : \"HÔTE PORT\" du\n" +
    "dernier recvfrom — ou d'environnement.",
  usage: (u) => `usage : ${frWords(u)}`,
  words: (u) => frWords(u),
  unknownArg: (arg) => `socklab : argument inconnu ${arg}`,
  newSocket: (fd) => `  Identificateur : ${fd}`,
  accepted: (fd, peer) => `  Identificateur : ${fd}, connexion de ${peer}`,
  ask: (arg) => `${({
    ID: 'Identificateur de socket', HOST: 'hôte', PORT: 'port', TEXT: 'texte', GROUP: 'groupe multicast', SECONDS: 'secondes',
    'tcp|udp|raw': 'protocole (tcp, udp ou raw)', 'rd|wr|rdwr': 'sens (rd, wr ou rdwr)',
  } as Record<string, string>)[arg] ?? frWords(arg).toLowerCase()} ? `,
  eof: "  fin de fichier : l'autre côté a fermé son sens d'émission (shutdown ou close)",
  blocks: (call, why) => `  ${call} bloque ${{
    accept: "jusqu'à ce qu'un client se connecte",
    connect: "jusqu'à la fin de l'établissement de la connexion",
    in: "jusqu'à l'arrivée de données",
    out: "jusqu'à ce que le tampon d'émission ait de la place",
    sleep: '',
  }[why]} (Ctrl-C interrompt)`.replace('  (', ' ('),
  interrupted: "  interrompu par Ctrl-C (SIGINT) : l'appel renvoie EINTR, comme dans un programme C qui traite SIGINT",
  inProgress: "  l'établissement continue en arrière-plan : = affiche W quand la connexion est établie",
  wouldBlock: "  l'appel aurait bloqué (non bloquant)",
  timedOut: (opt) => `  ${opt} a expiré`,
  partial: (n, total) => `  seuls ${n} octets sur ${total} ont été écrits avant l'interruption`,
  hint: (code, syscall) => {
    if (code === 'EADDRINUSE') return "  une autre socket a déjà cette adresse et ce port (ou il est en TIME_WAIT : options ID SO_REUSEADDR 1 avant bind)";
    if (code === 'ECONNREFUSED') return syscall === 'connect' ? "  personne n'écoute sur ce port (l'autre machine a répondu RST)" : "  le port de l'autre côté est fermé (ICMP port unreachable)";
    if (code === 'EACCES' && syscall === 'sendto') return '  envoyer vers une adresse de diffusion demande SO_BROADCAST : options ID SO_BROADCAST 1';
    if (code === 'EPIPE') return "  l'autre côté a fermé : on ne peut plus écrire";
    if (code === 'ENOTCONN') return "  la socket n'est pas connectée";
    if (code === 'EINVAL' && syscall === 'accept') return "  accept demande une socket passive (listen ID d'abord)";
    if (code === 'EPERM' || (code === 'EACCES' && syscall === 'socket')) return '  les sockets brutes demandent root (CAP_NET_RAW)';
    return undefined;
  },
  unknownCommand: (cmd, nearest) =>
    `commande inconnue : ${cmd} (${nearest ? `vouliez-vous dire ${nearest} ? ` : ''}help liste les commandes)`,
  noSuchSocket: (id) => `aucune socket n'a l'identificateur ${id} (= les liste)`,
  badNumber: (what, v) => `${what} doit être un nombre : ${v}`,
  badPort: (v) => `pas un port (0..65535 ou un nom de service) : ${v}`,
  badHost: (host, why) => `impossible de résoudre ${host} : ${why}`,
  badChoice: (v, choices) => `${v} : attendu ${choices.join(', ')}`,
  badOption: (v, names) => `option inconnue ${v} ; options : ${names.join(' ')}`,
  badValue: (opt, v) => `valeur incorrecte pour ${opt} : ${v}`,
  readOnly: (opt) => `${opt} se lit seulement`,
  notFor: (opt, kind) => `${opt} ne s'applique pas à une socket ${kind}`,
  missingText: 'il manque le texte à envoyer ("" n\'envoie rien)',
  tooMany: "trop d'arguments",
  unknownVariable: (name) => `variable non définie : \${${name}} (utiliser \${${name}:-défaut})`,
  unterminated: 'guillemet non fermé',
  noSockets: 'aucune socket',
  columns: ['id', 'proto', 'locale', 'distante', 'état', 'R W X'],
  udpState: (s) => ({ unbound: 'non liée', bound: 'liée', connected: 'connectée' })[s],
  legend: "R : une lecture (ou accept) ne bloquerait pas ; W : une écriture ne bloquerait pas ; X : données urgentes ou condition exceptionnelle",
  traceIs: (on) => (on ? 'trace on : chaque appel système comme strace le montre' : 'trace off'),
  captureIs: (ifname, fd) => (ifname === undefined ? 'capture off'
    : `capture on ${ifname} : les paquets des sockets du lab (par leurs ports), comme tcpdump -nn -S les affiche, après chaque commande et à l'invite\n` +
      `  (le descripteur ${fd} est la socket de capture, pas une socket du lab)`),
  captureFailed: (ifname, why, needsRaw) => `capture on ${ifname} : ${why}` +
    (needsRaw ? "\n  capturer les paquets demande CAP_NET_RAW (root) : le lab continue sans eux" : ''),
  modeIs: (mode) => `mode ${mode} : passive et connect HÔTE PORT créent des sockets ${mode}`,
  keepalive: (on, idle, intvl, cnt) => on
    ? `  keepalive actif : première sonde après ${idle} s de silence, puis toutes les ${intvl} s ; un pair mort est détecté après environ ${idle} + ${intvl} × ${cnt} = ${idle + intvl * cnt} s`
    : `  keepalive inactif (sinon : idle ${idle} s, intervalle ${intvl} s, nombre ${cnt})`,
  resolved: (n) => `  ${n} adresse${n === 1 ? '' : 's'}`,
  expectedFailure: "  un échec était attendu (!), mais la commande a réussi",
  expectedCode: (want, got) => `  attendu ${want}, obtenu ${got}`,
  failedSummary: (n) => `socklab : ${n} commande${n === 1 ? '' : 's'} en échec inattendu`,
  failedAt: (where, line) => `  ${where} : ${line}`,
  stopped: 'socklab : arrêt au premier échec inattendu (-e)',
  scriptInterrupted: 'socklab : interrompu (Ctrl-C) : le script s\'arrête ici',
  cantOpen: (file, why) => `socklab : impossible de lire ${file} : ${why}`,
  cliUsage: `usage : socklab [tcp|udp] [-x] [-e] [-i] [--lang en|fr] [SCRIPT]

  tcp, udp     le protocole des raccourcis passive et connect HÔTE PORT (tcp par défaut)
  -x           commence avec trace on (chaque appel système comme strace le montre)
  -e           arrête un script au premier échec inattendu
  -i           interactif sur un tube : affiche l'invite en attendant une commande, et demande les
               arguments qui manquent à une commande (les lignes suivantes répondent)
  --lang fr    messages et aide en français (aussi LANG=fr_FR.UTF-8)
  SCRIPT       exécute les commandes de ce fichier (- ou rien : l'entrée standard), puis termine

Un script termine avec le code 1 si une commande a échoué de façon inattendue. Préfixer par ! une
commande qui doit échouer (! connect \${id} 127.0.0.1 9), ou par !ECODE si elle doit échouer avec cet errno.
Ctrl-C termine un appel bloqué : à l'invite socklab continue ; un script s'arrête là (code 130).`,
};

const FR_WORDS: Record<string, string> = {
  HOST: 'HÔTE', TEXT: 'TEXTE', GROUP: 'GROUPE', SECONDS: 'SECONDES', COMMAND: 'COMMANDE', NAME: 'NOM', VALUE: 'VALEUR',
};
function frWords(u: string): string {
  return u.replace(/\b[A-Z]+\b/g, (w) => FR_WORDS[w] ?? w);
}

export function messages(lang: Lang): Messages {
  return lang === 'fr' ? fr : en;
}
