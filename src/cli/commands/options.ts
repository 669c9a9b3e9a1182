// socklab commands — Socket options: options (getsockopt/setsockopt by name), keepalive, and multicast membership
// (mjoin, mleave).
// Each command is one system call (or a short C idiom), made through the session (../session.ts).
import { isIP } from 'node:net';
import {
  AF_INET6, IPPROTO_IP, IPPROTO_IPV6, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP,
  getKeepAlive, if_indextoname, if_nametoindex, setsockopt,
} from '../../index';
import { UsageError } from '../parse';
import type { Session } from '../session';
import type { Ctx, Spec } from '../spec';
import { calls } from '../strace';

export function optionCommands(lab: Session): Record<string, Spec> {
  const m = lab.m;
  const specs: Record<string, Spec> = {
    options: {
      usage: 'options ID [NAME [VALUE]]',
      help: {
        en: 'getsockopt(2)/setsockopt(2): show all, or set NAME (SO_REUSEADDR, SO_RCVBUF, TCP_NODELAY…) to VALUE',
        fr: 'getsockopt(2)/setsockopt(2) : les affiche toutes, ou donne VALEUR à NOM (SO_REUSEADDR, SO_RCVBUF, TCP_NODELAY…)',
      },
      args: ['id', 'opt', 'value'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.options.usage);
        lab.noMore(c, 3, specs.options.usage);
        if (c.w.length === 1) return lab.showOptions(s);
        const def = lab.option(s, c.w[1].value);
        if (c.w.length === 3) {
          if (def.readOnly) throw new UsageError(m.readOnly(def.name));
          if (!lab.setOption(s, def, c.w[2].value)) return;
        }
        lab.getOption(s, def, true);
      },
    },
    keepalive: {
      usage: 'keepalive ID [IDLE INTVL CNT]',
      help: {
        en: 'TCP keepalive: SO_KEEPALIVE + TCP_KEEPIDLE/INTVL/CNT in seconds; without values, show them',
        fr: 'keepalive TCP : SO_KEEPALIVE + TCP_KEEPIDLE/INTVL/CNT en secondes ; sans valeurs, les affiche',
      },
      args: ['id', 'secs', 'secs', 'n'],
      run: (c) => {
        const s = lab.sock(c.w[0], specs.keepalive.usage);
        if (s.kind !== 'tcp') throw new UsageError(m.notFor('keepalive', s.kind));
        lab.noMore(c, 4, specs.keepalive.usage);
        if (c.w.length !== 1 && c.w.length !== 4) throw new UsageError(m.usage(specs.keepalive.usage));
        if (c.w.length === 4) {
          const idle = lab.number(c.w[1], 'IDLE', 1, 32767);
          const intvl = lab.number(c.w[2], 'INTVL', 1, 32767);
          const cnt = lab.number(c.w[3], 'CNT', 1, 127);
          const set: [string, string | number][] = [['SO_KEEPALIVE', 1], ['TCP_KEEPIDLE', idle], ['TCP_KEEPINTVL', intvl], ['TCP_KEEPCNT', cnt]];
          for (const [name, v] of set) if (!lab.setOption(s, lab.option(s, name), String(v))) return;
        }
        const k = lab.attempt(() => getKeepAlive(s.h));
        if ('v' in k) lab.out(m.keepalive(k.v.enable, k.v.idle, k.v.interval, k.v.count));
      },
    },
    mjoin: {
      usage: 'mjoin ID GROUP [IFADDR]',
      help: {
        en: 'IP_ADD_MEMBERSHIP (IPV6_JOIN_GROUP): join multicast GROUP on the interface IFADDR',
        fr: "IP_ADD_MEMBERSHIP (IPV6_JOIN_GROUP) : rejoint le GROUPE multicast sur l'interface IFADDR",
      },
      args: ['id', 'group', 'ifaddr'],
      run: (c) => membership(lab, c, true, specs.mjoin.usage),
    },
    mleave: {
      usage: 'mleave ID GROUP [IFADDR]',
      help: {
        en: 'IP_DROP_MEMBERSHIP (IPV6_LEAVE_GROUP): leave multicast GROUP',
        fr: 'IP_DROP_MEMBERSHIP (IPV6_LEAVE_GROUP) : quitte le GROUPE multicast',
      },
      args: ['id', 'group', 'ifaddr'],
      run: (c) => membership(lab, c, false, specs.mleave.usage),
    },
  };
  return specs;
}

/** IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP and their opposites, for mjoin and mleave. */
function membership(lab: Session, c: Ctx, join: boolean, usage: string): void {
  const s = lab.sock(c.w[0], usage);
  lab.noMore(c, 3, usage);
  const group = c.w[1]?.value;
  if (group === undefined) throw new UsageError(lab.m.usage(usage));
  const fd = s.h.fd;
  if (s.domain === AF_INET6) {
    if (isIP(group) !== 6) throw new UsageError(lab.m.badHost(group, 'not an IPv6 multicast address'));
    const ifText = c.w[2]?.value ?? '0';
    const index = /^\d+$/.test(ifText) ? Number(ifText) : if_nametoindex(ifText);
    if (!/^\d+$/.test(ifText) && index === 0) throw new UsageError(lab.m.badHost(ifText, 'no such interface'));
    const name = join ? 'IPV6_JOIN_GROUP' : 'IPV6_LEAVE_GROUP';
    const ifname = index ? if_indextoname(index) : undefined;
    const shown = `{ipv6mr_multiaddr=${group}, ipv6mr_interface=${index}}`;
    const straced = `{inet_pton(AF_INET6, "${group}", &ipv6mr_multiaddr), ipv6mr_interface=${ifname ? `if_nametoindex("${ifname}")` : index}}`;
    const r = lab.attempt(() => setsockopt(s.h, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, { ipv6mr_multiaddr: group, ipv6mr_interface: index }));
    const line = calls.setsockopt(fd, IPPROTO_IPV6, name, shown, straced, 20);
    // strace (after the kernel headers) calls these IPV6_ADD_MEMBERSHIP / IPV6_DROP_MEMBERSHIP.
    line.s = line.s.replace(name, join ? 'IPV6_ADD_MEMBERSHIP' : 'IPV6_DROP_MEMBERSHIP');
    lab.report(line, 'f' in r ? r.f : { rc: 0 }, 'setsockopt');
    return;
  }
  if (isIP(group) !== 4) throw new UsageError(lab.m.badHost(group, 'not an IPv4 multicast address'));
  const iface = c.w[2]?.value ?? '0.0.0.0';
  if (isIP(iface) !== 4) throw new UsageError(lab.m.badHost(iface, 'IFADDR is the IPv4 address of a local interface'));
  const name = join ? 'IP_ADD_MEMBERSHIP' : 'IP_DROP_MEMBERSHIP';
  const shown = `{imr_multiaddr=${group}, imr_interface=${iface}}`;
  const straced = `{imr_multiaddr=inet_addr("${group}"), imr_interface=inet_addr("${iface}")}`;
  const r = lab.attempt(() => setsockopt(s.h, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, { imr_multiaddr: group, imr_interface: iface }));
  lab.report(calls.setsockopt(fd, IPPROTO_IP, name, shown, straced, 8), 'f' in r ? r.f : { rc: 0 }, 'setsockopt');
}
