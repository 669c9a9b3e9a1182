// Type-level address families. AF_INET, AF_INET6 and AF_UNIX are numbers at run time (from the C
// headers) but carry a brand in their types, so `socket(AF_INET, …)` yields a SocketHandle whose
// getsockname()/accept() are typed InetAddress without a cast. A plain number gives the full union.
import type { Inet6Address, InetAddress, SocketAddress, UnixAddress } from './sockaddr';

declare const familyBrand: unique symbol;

/** A socket domain constant whose type remembers which family it is. */
export type AddressFamily<Name extends 'inet' | 'inet6' | 'unix'> = number & { readonly [familyBrand]: Name };

/** What getsockname/getpeername/accept/recvfrom return for a socket of domain F. */
export type AddressOf<F extends number> = F extends AddressFamily<'inet'>
  ? InetAddress
  : F extends AddressFamily<'inet6'>
    ? Inet6Address
    : F extends AddressFamily<'unix'>
      ? UnixAddress
      : SocketAddress;
