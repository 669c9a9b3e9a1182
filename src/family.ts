// Type-level address families. AF_INET, AF_INET6, AF_UNIX and AF_PACKET are numbers at run time (from the C
// headers) but carry a brand in their types, so `socket(AF_INET, …)` yields a SocketHandle whose
// getsockname()/accept() are typed InetAddress without a cast. A plain number gives the full union.
import type { PacketAddress } from './packet';
import type { Inet6Address, InetAddress, SocketAddress, UnixAddress } from './sockaddr';

declare const familyBrand: unique symbol;

/** A socket domain constant whose type remembers which family it is. */
export type AddressFamily<Name extends 'inet' | 'inet6' | 'unix' | 'packet'> = number & { readonly [familyBrand]: Name };

/** What getsockname/getpeername/accept/recvfrom return for a socket of domain F. */
export type AddressOf<F extends number> = F extends AddressFamily<'inet'>
  ? InetAddress
  : F extends AddressFamily<'inet6'>
    ? Inet6Address
    : F extends AddressFamily<'unix'>
      ? UnixAddress
      : F extends AddressFamily<'packet'>
        ? PacketAddress
        : SocketAddress;

declare const optionBrand: unique symbol;

/**
 * A socket option constant whose type remembers what the option carries ('int', 'timeval', 'linger',
 * 'tcp_info'…), so getsockopt/setsockopt are typed by the option name (see options.ts).
 */
export type SockOpt<Kind extends string> = number & { readonly [optionBrand]: Kind };
