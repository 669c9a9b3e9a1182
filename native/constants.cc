// constants.cc — every platform constant the TypeScript layer exports, read from this platform's
// headers at build time (never hard-coded in src/). A name the platform lacks is simply absent, and
// src/constants.ts types it `number | undefined`. Also the byte layout of the sockaddr structures, so
// src/sockaddr.ts can encode them for Linux (2-byte sa_family) and BSD/macOS (sin_len + 1-byte family).
#include "result.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>  // FIONREAD; SIOCATMARK (Linux: <asm/sockios.h>, the BSDs: <sys/sockio.h>)
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/un.h>
#include <time.h>
#if __has_include(<sys/epoll.h>)
#include <sys/epoll.h>  // Linux only: the EPOLL* names below are then absent
#endif
#if __has_include(<linux/sockios.h>)
#include <linux/sockios.h>  // SIOCINQ, SIOCOUTQ (Linux only)
#endif
// packet(7), Linux only: struct sockaddr_ll, packet_mreq and PACKET_* (<netpacket/packet.h>), the Ethernet
// protocol numbers ETH_P_* (<net/ethernet.h>: <linux/if_ether.h>), the hardware types ARPHRD_*; and the
// classic BPF opcodes of SO_ATTACH_FILTER (<linux/filter.h>).
#if __has_include(<netpacket/packet.h>)
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#endif
#if __has_include(<linux/filter.h>)
#include <linux/filter.h>
#endif
#include <cerrno>
#include <cstddef>

namespace bs {

#define BS_CONST(name) exports.Set(#name, Napi::Number::New(env, static_cast<double>(name)))

void RegisterConstants(Napi::Env env, Napi::Object exportsRoot) {
  Napi::Object exports = Napi::Object::New(env);

  // Address families (address_families(7))
  BS_CONST(AF_UNSPEC);
  BS_CONST(AF_UNIX);
#ifdef AF_LOCAL
  BS_CONST(AF_LOCAL);
#endif
  BS_CONST(AF_INET);
  BS_CONST(AF_INET6);
#ifdef AF_PACKET
  BS_CONST(AF_PACKET);
#endif
#ifdef AF_NETLINK
  BS_CONST(AF_NETLINK);
#endif
  BS_CONST(PF_UNSPEC);
  BS_CONST(PF_UNIX);
#ifdef PF_LOCAL
  BS_CONST(PF_LOCAL);
#endif
  BS_CONST(PF_INET);
  BS_CONST(PF_INET6);
#ifdef PF_PACKET
  BS_CONST(PF_PACKET);
#endif
#ifdef PF_NETLINK
  BS_CONST(PF_NETLINK);
#endif

  // Socket types and creation flags
  BS_CONST(SOCK_STREAM);
  BS_CONST(SOCK_DGRAM);
  BS_CONST(SOCK_RAW);
  BS_CONST(SOCK_SEQPACKET);
#ifdef SOCK_RDM
  BS_CONST(SOCK_RDM);
#endif
#ifdef SOCK_NONBLOCK
  BS_CONST(SOCK_NONBLOCK);
#endif
#ifdef SOCK_CLOEXEC
  BS_CONST(SOCK_CLOEXEC);
#endif

  // Protocols (ip(7), ipv6(7), tcp(7), udp(7), raw(7))
  BS_CONST(IPPROTO_IP);
  BS_CONST(IPPROTO_IPV6);
  BS_CONST(IPPROTO_ICMP);
#ifdef IPPROTO_ICMPV6
  BS_CONST(IPPROTO_ICMPV6);
#endif
  BS_CONST(IPPROTO_TCP);
  BS_CONST(IPPROTO_UDP);
  BS_CONST(IPPROTO_RAW);
#ifdef IPPROTO_SCTP
  BS_CONST(IPPROTO_SCTP);
#endif
#ifdef IPPROTO_UDPLITE
  BS_CONST(IPPROTO_UDPLITE);
#endif
#ifdef IPPROTO_MPTCP
  BS_CONST(IPPROTO_MPTCP);
#endif

  // IPv6 extension headers (ipv6(7), RFC 8200): the Next Header values a packet decoder walks or names
#ifdef IPPROTO_HOPOPTS
  BS_CONST(IPPROTO_HOPOPTS);
#endif
#ifdef IPPROTO_ROUTING
  BS_CONST(IPPROTO_ROUTING);
#endif
#ifdef IPPROTO_FRAGMENT
  BS_CONST(IPPROTO_FRAGMENT);
#endif
#ifdef IPPROTO_DSTOPTS
  BS_CONST(IPPROTO_DSTOPTS);
#endif
#ifdef IPPROTO_NONE
  BS_CONST(IPPROTO_NONE);
#endif

  // Option levels
  BS_CONST(SOL_SOCKET);
#ifdef SOL_IP
  BS_CONST(SOL_IP);
#endif
#ifdef SOL_IPV6
  BS_CONST(SOL_IPV6);
#endif
#ifdef SOL_TCP
  BS_CONST(SOL_TCP);
#endif
#ifdef SOL_UDP
  BS_CONST(SOL_UDP);
#endif
#ifdef SOL_RAW
  BS_CONST(SOL_RAW);
#endif
#ifdef SOL_PACKET
  BS_CONST(SOL_PACKET);
#endif

  // Socket-level options (man 7 socket)
  BS_CONST(SO_DEBUG);
  BS_CONST(SO_REUSEADDR);
#ifdef SO_REUSEPORT
  BS_CONST(SO_REUSEPORT);
#endif
  BS_CONST(SO_TYPE);
  BS_CONST(SO_ERROR);
  BS_CONST(SO_DONTROUTE);
  BS_CONST(SO_BROADCAST);
  BS_CONST(SO_SNDBUF);
  BS_CONST(SO_RCVBUF);
#ifdef SO_SNDBUFFORCE
  BS_CONST(SO_SNDBUFFORCE);
#endif
#ifdef SO_RCVBUFFORCE
  BS_CONST(SO_RCVBUFFORCE);
#endif
  BS_CONST(SO_KEEPALIVE);
  BS_CONST(SO_OOBINLINE);
  BS_CONST(SO_LINGER);
  BS_CONST(SO_RCVLOWAT);
  BS_CONST(SO_SNDLOWAT);
  BS_CONST(SO_RCVTIMEO);
  BS_CONST(SO_SNDTIMEO);
  BS_CONST(SO_ACCEPTCONN);
#ifdef SO_NO_CHECK
  BS_CONST(SO_NO_CHECK);
#endif
#ifdef SO_PRIORITY
  BS_CONST(SO_PRIORITY);
#endif
#ifdef SO_BSDCOMPAT
  BS_CONST(SO_BSDCOMPAT);
#endif
#ifdef SO_PASSCRED
  BS_CONST(SO_PASSCRED);
#endif
#ifdef SO_PEERCRED
  BS_CONST(SO_PEERCRED);
#endif
#ifdef SO_BINDTODEVICE
  BS_CONST(SO_BINDTODEVICE);
#endif
#ifdef SO_TIMESTAMP
  BS_CONST(SO_TIMESTAMP);
#endif
#ifdef SO_TIMESTAMPNS
  BS_CONST(SO_TIMESTAMPNS);
#endif
#ifdef SO_PROTOCOL
  BS_CONST(SO_PROTOCOL);
#endif
#ifdef SO_DOMAIN
  BS_CONST(SO_DOMAIN);
#endif
#ifdef SO_MARK
  BS_CONST(SO_MARK);
#endif
#ifdef SO_BUSY_POLL
  BS_CONST(SO_BUSY_POLL);
#endif
#ifdef SO_INCOMING_CPU
  BS_CONST(SO_INCOMING_CPU);
#endif
#ifdef SO_NOSIGPIPE
  BS_CONST(SO_NOSIGPIPE);
#endif
  // Socket filters (socket(7)): a classic BPF program decides which packets the socket receives
#ifdef SO_ATTACH_FILTER
  BS_CONST(SO_ATTACH_FILTER);
#endif
#ifdef SO_GET_FILTER
  BS_CONST(SO_GET_FILTER);  // Linux: SO_ATTACH_FILTER's own number, for getsockopt (optlen in instructions)
#endif
#ifdef SO_DETACH_FILTER
  BS_CONST(SO_DETACH_FILTER);
#endif
#ifdef SO_LOCK_FILTER
  BS_CONST(SO_LOCK_FILTER);
#endif
  // Ancillary data types and the listen backlog (socket(7), unix(7))
#ifdef SOMAXCONN
  BS_CONST(SOMAXCONN);
#endif
#ifdef SCM_RIGHTS
  BS_CONST(SCM_RIGHTS);
#endif
#ifdef SCM_CREDENTIALS
  BS_CONST(SCM_CREDENTIALS);
#endif
#ifdef SCM_TIMESTAMPNS
  BS_CONST(SCM_TIMESTAMPNS);
#endif

  // TCP options (tcp(7)); macOS calls TCP_KEEPIDLE TCP_KEEPALIVE
  BS_CONST(TCP_NODELAY);
#ifdef TCP_MAXSEG
  BS_CONST(TCP_MAXSEG);
#endif
#ifdef TCP_CORK
  BS_CONST(TCP_CORK);
#endif
#ifdef TCP_KEEPIDLE
  BS_CONST(TCP_KEEPIDLE);
#endif
#ifdef TCP_KEEPALIVE
  BS_CONST(TCP_KEEPALIVE);
#endif
#ifdef TCP_KEEPINTVL
  BS_CONST(TCP_KEEPINTVL);
#endif
#ifdef TCP_KEEPCNT
  BS_CONST(TCP_KEEPCNT);
#endif
#ifdef TCP_SYNCNT
  BS_CONST(TCP_SYNCNT);
#endif
#ifdef TCP_LINGER2
  BS_CONST(TCP_LINGER2);
#endif
#ifdef TCP_DEFER_ACCEPT
  BS_CONST(TCP_DEFER_ACCEPT);
#endif
#ifdef TCP_WINDOW_CLAMP
  BS_CONST(TCP_WINDOW_CLAMP);
#endif
#ifdef TCP_INFO
  BS_CONST(TCP_INFO);
#endif
#ifdef TCP_QUICKACK
  BS_CONST(TCP_QUICKACK);
#endif
#ifdef TCP_CONGESTION
  BS_CONST(TCP_CONGESTION);
#endif
#ifdef TCP_USER_TIMEOUT
  BS_CONST(TCP_USER_TIMEOUT);
#endif
#ifdef TCP_FASTOPEN
  BS_CONST(TCP_FASTOPEN);
#endif
#ifdef TCP_NOTSENT_LOWAT
  BS_CONST(TCP_NOTSENT_LOWAT);
#endif

  // TCP header option kinds (<netinet/tcp.h>, RFC 9293, 7323, 2018): what a captured segment carries
#ifdef TCPOPT_EOL
  BS_CONST(TCPOPT_EOL);
#endif
#ifdef TCPOPT_NOP
  BS_CONST(TCPOPT_NOP);
#endif
#ifdef TCPOPT_MAXSEG
  BS_CONST(TCPOPT_MAXSEG);
#endif
#ifdef TCPOPT_WINDOW
  BS_CONST(TCPOPT_WINDOW);
#endif
#ifdef TCPOPT_SACK_PERMITTED
  BS_CONST(TCPOPT_SACK_PERMITTED);
#endif
#ifdef TCPOPT_SACK
  BS_CONST(TCPOPT_SACK);
#endif
#ifdef TCPOPT_TIMESTAMP
  BS_CONST(TCPOPT_TIMESTAMP);
#endif

#ifdef __linux__
  // TCP states, as tcpi_state in TCP_INFO reports them (an enum in <netinet/tcp.h>, hence no #ifdef each)
  BS_CONST(TCP_ESTABLISHED);
  BS_CONST(TCP_SYN_SENT);
  BS_CONST(TCP_SYN_RECV);
  BS_CONST(TCP_FIN_WAIT1);
  BS_CONST(TCP_FIN_WAIT2);
  BS_CONST(TCP_TIME_WAIT);
  BS_CONST(TCP_CLOSE);
  BS_CONST(TCP_CLOSE_WAIT);
  BS_CONST(TCP_LAST_ACK);
  BS_CONST(TCP_LISTEN);
  BS_CONST(TCP_CLOSING);
#endif

  // IPv4 options (ip(7))
  BS_CONST(IP_TOS);
  BS_CONST(IP_TTL);
  BS_CONST(IP_HDRINCL);
  BS_CONST(IP_OPTIONS);
#ifdef IP_RECVERR
  BS_CONST(IP_RECVERR);
#endif
#ifdef IP_PKTINFO
  BS_CONST(IP_PKTINFO);
#endif
#ifdef IP_RECVTTL
  BS_CONST(IP_RECVTTL);
#endif
#ifdef IP_RECVTOS
  BS_CONST(IP_RECVTOS);
#endif
#ifdef IP_MTU_DISCOVER
  BS_CONST(IP_MTU_DISCOVER);
#endif
#ifdef IP_MTU
  BS_CONST(IP_MTU);
#endif
#ifdef IP_FREEBIND
  BS_CONST(IP_FREEBIND);
#endif
#ifdef IP_TRANSPARENT
  BS_CONST(IP_TRANSPARENT);
#endif
#ifdef IP_BIND_ADDRESS_NO_PORT
  BS_CONST(IP_BIND_ADDRESS_NO_PORT);
#endif
  BS_CONST(IP_MULTICAST_IF);
  BS_CONST(IP_MULTICAST_TTL);
  BS_CONST(IP_MULTICAST_LOOP);
  BS_CONST(IP_ADD_MEMBERSHIP);
  BS_CONST(IP_DROP_MEMBERSHIP);
#ifdef IP_MULTICAST_ALL
  BS_CONST(IP_MULTICAST_ALL);
#endif

  // IPv6 options (ipv6(7))
  BS_CONST(IPV6_V6ONLY);
  BS_CONST(IPV6_UNICAST_HOPS);
  BS_CONST(IPV6_MULTICAST_IF);
  BS_CONST(IPV6_MULTICAST_HOPS);
  BS_CONST(IPV6_MULTICAST_LOOP);
  BS_CONST(IPV6_JOIN_GROUP);
  BS_CONST(IPV6_LEAVE_GROUP);
#ifdef IPV6_RECVPKTINFO
  BS_CONST(IPV6_RECVPKTINFO);
#endif
#ifdef IPV6_PKTINFO
  BS_CONST(IPV6_PKTINFO);
#endif
#ifdef IPV6_TCLASS
  BS_CONST(IPV6_TCLASS);
#endif
  // RFC 3542: the hop limit and traffic class of received datagrams, as ancillary data.
#ifdef IPV6_RECVHOPLIMIT
  BS_CONST(IPV6_RECVHOPLIMIT);
#endif
#ifdef IPV6_HOPLIMIT
  BS_CONST(IPV6_HOPLIMIT);
#endif
#ifdef IPV6_RECVTCLASS
  BS_CONST(IPV6_RECVTCLASS);
#endif
#ifdef IPV6_RECVERR
  BS_CONST(IPV6_RECVERR);
#endif
#ifdef IPV6_MTU
  BS_CONST(IPV6_MTU);
#endif

  // Message flags (send(2), recv(2))
  BS_CONST(MSG_OOB);
  BS_CONST(MSG_PEEK);
  BS_CONST(MSG_DONTROUTE);
  BS_CONST(MSG_WAITALL);
  BS_CONST(MSG_TRUNC);
  BS_CONST(MSG_CTRUNC);
  BS_CONST(MSG_EOR);
#ifdef MSG_DONTWAIT
  BS_CONST(MSG_DONTWAIT);
#endif
#ifdef MSG_NOSIGNAL
  BS_CONST(MSG_NOSIGNAL);
#endif
#ifdef MSG_MORE
  BS_CONST(MSG_MORE);
#endif
#ifdef MSG_CONFIRM
  BS_CONST(MSG_CONFIRM);
#endif
#ifdef MSG_ERRQUEUE
  BS_CONST(MSG_ERRQUEUE);
#endif
#ifdef MSG_CMSG_CLOEXEC
  BS_CONST(MSG_CMSG_CLOEXEC);
#endif
#ifdef MSG_FASTOPEN
  BS_CONST(MSG_FASTOPEN);
#endif
#ifdef MSG_ZEROCOPY
  BS_CONST(MSG_ZEROCOPY);
#endif

  // shutdown(2)
  BS_CONST(SHUT_RD);
  BS_CONST(SHUT_WR);
  BS_CONST(SHUT_RDWR);

  // Special IPv4 addresses, host byte order as in <netinet/in.h>
  BS_CONST(INADDR_ANY);
  BS_CONST(INADDR_LOOPBACK);
  BS_CONST(INADDR_BROADCAST);
  BS_CONST(INADDR_NONE);
#ifdef INADDR_ALLHOSTS_GROUP
  BS_CONST(INADDR_ALLHOSTS_GROUP);
#endif
  BS_CONST(INET_ADDRSTRLEN);
  BS_CONST(INET6_ADDRSTRLEN);

  // getaddrinfo(3) / getnameinfo(3)
  BS_CONST(AI_PASSIVE);
  BS_CONST(AI_CANONNAME);
  BS_CONST(AI_NUMERICHOST);
  BS_CONST(AI_NUMERICSERV);
  BS_CONST(AI_V4MAPPED);
  BS_CONST(AI_ALL);
  BS_CONST(AI_ADDRCONFIG);
  BS_CONST(NI_NUMERICHOST);
  BS_CONST(NI_NUMERICSERV);
  BS_CONST(NI_NOFQDN);
  BS_CONST(NI_NAMEREQD);
  BS_CONST(NI_DGRAM);
  BS_CONST(NI_MAXHOST);
  BS_CONST(NI_MAXSERV);
  BS_CONST(EAI_AGAIN);
  BS_CONST(EAI_BADFLAGS);
  BS_CONST(EAI_FAIL);
  BS_CONST(EAI_FAMILY);
  BS_CONST(EAI_MEMORY);
  BS_CONST(EAI_NONAME);
  BS_CONST(EAI_SERVICE);
  BS_CONST(EAI_SOCKTYPE);
  BS_CONST(EAI_SYSTEM);
  BS_CONST(EAI_OVERFLOW);
#ifdef EAI_NODATA
  BS_CONST(EAI_NODATA);
#endif
#ifdef EAI_ADDRFAMILY
  BS_CONST(EAI_ADDRFAMILY);
#endif

  // fcntl(2)
  BS_CONST(F_GETFL);
  BS_CONST(F_SETFL);
  BS_CONST(F_GETFD);
  BS_CONST(F_SETFD);
  BS_CONST(FD_CLOEXEC);
  BS_CONST(O_NONBLOCK);

  // poll(2)
  BS_CONST(POLLIN);
  BS_CONST(POLLPRI);
  BS_CONST(POLLOUT);
  BS_CONST(POLLERR);
  BS_CONST(POLLHUP);
  BS_CONST(POLLNVAL);
#ifdef POLLRDHUP
  BS_CONST(POLLRDHUP);
#endif

  // select(2)
  BS_CONST(FD_SETSIZE);

  // epoll(7), Linux only (typed number: elsewhere they are undefined and epoll_create1 fails with ENOSYS)
#ifdef EPOLL_CLOEXEC
  BS_CONST(EPOLL_CLOEXEC);
#endif
#ifdef EPOLL_CTL_ADD
  BS_CONST(EPOLL_CTL_ADD);
#endif
#ifdef EPOLL_CTL_MOD
  BS_CONST(EPOLL_CTL_MOD);
#endif
#ifdef EPOLL_CTL_DEL
  BS_CONST(EPOLL_CTL_DEL);
#endif
#ifdef EPOLLIN
  BS_CONST(EPOLLIN);
#endif
#ifdef EPOLLPRI
  BS_CONST(EPOLLPRI);
#endif
#ifdef EPOLLOUT
  BS_CONST(EPOLLOUT);
#endif
#ifdef EPOLLRDNORM
  BS_CONST(EPOLLRDNORM);
#endif
#ifdef EPOLLRDBAND
  BS_CONST(EPOLLRDBAND);
#endif
#ifdef EPOLLWRNORM
  BS_CONST(EPOLLWRNORM);
#endif
#ifdef EPOLLWRBAND
  BS_CONST(EPOLLWRBAND);
#endif
#ifdef EPOLLMSG
  BS_CONST(EPOLLMSG);
#endif
#ifdef EPOLLERR
  BS_CONST(EPOLLERR);
#endif
#ifdef EPOLLHUP
  BS_CONST(EPOLLHUP);
#endif
#ifdef EPOLLRDHUP
  BS_CONST(EPOLLRDHUP);
#endif
#ifdef EPOLLEXCLUSIVE
  BS_CONST(EPOLLEXCLUSIVE);
#endif
#ifdef EPOLLWAKEUP
  BS_CONST(EPOLLWAKEUP);
#endif
#ifdef EPOLLONESHOT
  BS_CONST(EPOLLONESHOT);
#endif
#ifdef EPOLLET
  BS_CONST(EPOLLET);
#endif

  // Packet sockets (packet(7)), Linux: protocols in host order, as the headers define them (pass htons(ETH_P_ALL))
#ifdef ETH_P_ALL
  BS_CONST(ETH_P_ALL);
#endif
#ifdef ETH_P_IP
  BS_CONST(ETH_P_IP);
#endif
#ifdef ETH_P_IPV6
  BS_CONST(ETH_P_IPV6);
#endif
#ifdef ETH_P_ARP
  BS_CONST(ETH_P_ARP);
#endif
#ifdef ETH_P_RARP
  BS_CONST(ETH_P_RARP);
#endif
#ifdef PACKET_HOST
  BS_CONST(PACKET_HOST);
#endif
#ifdef PACKET_BROADCAST
  BS_CONST(PACKET_BROADCAST);
#endif
#ifdef PACKET_MULTICAST
  BS_CONST(PACKET_MULTICAST);
#endif
#ifdef PACKET_OTHERHOST
  BS_CONST(PACKET_OTHERHOST);
#endif
#ifdef PACKET_OUTGOING
  BS_CONST(PACKET_OUTGOING);
#endif
#ifdef PACKET_ADD_MEMBERSHIP
  BS_CONST(PACKET_ADD_MEMBERSHIP);
#endif
#ifdef PACKET_DROP_MEMBERSHIP
  BS_CONST(PACKET_DROP_MEMBERSHIP);
#endif
#ifdef PACKET_MR_MULTICAST
  BS_CONST(PACKET_MR_MULTICAST);
#endif
#ifdef PACKET_MR_PROMISC
  BS_CONST(PACKET_MR_PROMISC);
#endif
#ifdef PACKET_MR_ALLMULTI
  BS_CONST(PACKET_MR_ALLMULTI);
#endif
  // Hardware types (sll_hatype), <net/if_arp.h>; 0 is ARPHRD_NETROM, as strace names it
#ifdef ARPHRD_NETROM
  BS_CONST(ARPHRD_NETROM);
#endif
#ifdef ARPHRD_ETHER
  BS_CONST(ARPHRD_ETHER);
#endif
#ifdef ARPHRD_LOOPBACK
  BS_CONST(ARPHRD_LOOPBACK);
#endif
#ifdef ARPHRD_NONE
  BS_CONST(ARPHRD_NONE);
#endif

  // Socket ioctls that answer an int (ioctl(2), socket(7), tcp(7)); on Linux SIOCINQ is FIONREAD
  BS_CONST(FIONREAD);
#ifdef SIOCINQ
  BS_CONST(SIOCINQ);
#endif
#ifdef SIOCOUTQ
  BS_CONST(SIOCOUTQ);
#endif
  BS_CONST(SIOCATMARK);

#ifdef BPF_MAXINSNS
  // Classic BPF (linux/filter.h): the opcodes of struct sock_filter, for SO_ATTACH_FILTER; all there or all missing
  BS_CONST(BPF_LD);
  BS_CONST(BPF_LDX);
  BS_CONST(BPF_ST);
  BS_CONST(BPF_STX);
  BS_CONST(BPF_ALU);
  BS_CONST(BPF_JMP);
  BS_CONST(BPF_RET);
  BS_CONST(BPF_MISC);
  BS_CONST(BPF_W);
  BS_CONST(BPF_H);
  BS_CONST(BPF_B);
  BS_CONST(BPF_IMM);
  BS_CONST(BPF_ABS);
  BS_CONST(BPF_IND);
  BS_CONST(BPF_MEM);
  BS_CONST(BPF_LEN);
  BS_CONST(BPF_MSH);
  BS_CONST(BPF_ADD);
  BS_CONST(BPF_SUB);
  BS_CONST(BPF_MUL);
  BS_CONST(BPF_DIV);
  BS_CONST(BPF_OR);
  BS_CONST(BPF_AND);
  BS_CONST(BPF_LSH);
  BS_CONST(BPF_RSH);
  BS_CONST(BPF_NEG);
  BS_CONST(BPF_MOD);
  BS_CONST(BPF_XOR);
  BS_CONST(BPF_JA);
  BS_CONST(BPF_JEQ);
  BS_CONST(BPF_JGT);
  BS_CONST(BPF_JGE);
  BS_CONST(BPF_JSET);
  BS_CONST(BPF_K);
  BS_CONST(BPF_X);
  BS_CONST(BPF_A);
  BS_CONST(BPF_TAX);
  BS_CONST(BPF_TXA);
  BS_CONST(BPF_MAXINSNS);
#endif

  // errno values the async layer branches on (the same numbers Node's os.constants.errno has)
  BS_CONST(EAGAIN);
  BS_CONST(EWOULDBLOCK);
  BS_CONST(EINPROGRESS);
  BS_CONST(EINTR);
  BS_CONST(EBADF);

  exportsRoot.Set("constants", exports);

  // sockaddr layouts: sizes and field offsets straight from the compiler.
  Napi::Object layout = Napi::Object::New(env);
#define BS_LAYOUT(key, value) layout.Set(key, Napi::Number::New(env, static_cast<double>(value)))
  BS_LAYOUT("sockaddr_storage", sizeof(sockaddr_storage));
  BS_LAYOUT("sa_family_size", sizeof(sa_family_t));
  BS_LAYOUT("sa_family_offset", offsetof(sockaddr, sa_family));
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
  BS_LAYOUT("sa_len", 1);
#else
  BS_LAYOUT("sa_len", 0);
#endif
  BS_LAYOUT("sockaddr_in", sizeof(sockaddr_in));
  BS_LAYOUT("sin_port", offsetof(sockaddr_in, sin_port));
  BS_LAYOUT("sin_addr", offsetof(sockaddr_in, sin_addr));
  BS_LAYOUT("sockaddr_in6", sizeof(sockaddr_in6));
  BS_LAYOUT("sin6_port", offsetof(sockaddr_in6, sin6_port));
  BS_LAYOUT("sin6_flowinfo", offsetof(sockaddr_in6, sin6_flowinfo));
  BS_LAYOUT("sin6_addr", offsetof(sockaddr_in6, sin6_addr));
  BS_LAYOUT("sin6_scope_id", offsetof(sockaddr_in6, sin6_scope_id));
  BS_LAYOUT("sockaddr_un", sizeof(sockaddr_un));
  BS_LAYOUT("sun_path", offsetof(sockaddr_un, sun_path));
  BS_LAYOUT("sun_path_size", sizeof(reinterpret_cast<sockaddr_un*>(0)->sun_path));
#if __has_include(<netpacket/packet.h>) && defined(AF_PACKET)
  // packet(7): struct sockaddr_ll. The kernel may return more than sizeof: sll_addr holds 8 bytes, and
  // getsockname writes offsetof(sll_addr) + the device's address length.
  BS_LAYOUT("sockaddr_ll", sizeof(sockaddr_ll));
  BS_LAYOUT("sll_family", offsetof(sockaddr_ll, sll_family));
  BS_LAYOUT("sll_protocol", offsetof(sockaddr_ll, sll_protocol));
  BS_LAYOUT("sll_ifindex", offsetof(sockaddr_ll, sll_ifindex));
  BS_LAYOUT("sll_hatype", offsetof(sockaddr_ll, sll_hatype));
  BS_LAYOUT("sll_pkttype", offsetof(sockaddr_ll, sll_pkttype));
  BS_LAYOUT("sll_halen", offsetof(sockaddr_ll, sll_halen));
  BS_LAYOUT("sll_addr", offsetof(sockaddr_ll, sll_addr));
  BS_LAYOUT("sll_addr_size", sizeof(reinterpret_cast<sockaddr_ll*>(0)->sll_addr));
#endif
  // Ancillary data (cmsg(3)) for src/message.ts. cmsg_len is a size_t on Linux/glibc and a socklen_t
  // on BSD/macOS/musl; the alignment is sizeof(size_t) on Linux and 4 on macOS.
  BS_LAYOUT("cmsghdr", sizeof(cmsghdr));
  BS_LAYOUT("cmsg_len", offsetof(cmsghdr, cmsg_len));
  BS_LAYOUT("cmsg_len_size", sizeof(reinterpret_cast<cmsghdr*>(0)->cmsg_len));
  BS_LAYOUT("cmsg_level", offsetof(cmsghdr, cmsg_level));
  BS_LAYOUT("cmsg_type", offsetof(cmsghdr, cmsg_type));
  BS_LAYOUT("cmsg_data", CMSG_LEN(0));                      // CMSG_DATA(c) - (unsigned char*)c
  BS_LAYOUT("cmsg_align", CMSG_SPACE(1) - CMSG_SPACE(0));  // CMSG_ALIGN(1)
  BS_LAYOUT("sizeof_int", sizeof(int));                     // one SCM_RIGHTS descriptor
#ifdef SCM_CREDENTIALS
  BS_LAYOUT("ucred", sizeof(ucred));
  BS_LAYOUT("ucred_pid", offsetof(ucred, pid));
  BS_LAYOUT("ucred_uid", offsetof(ucred, uid));
  BS_LAYOUT("ucred_gid", offsetof(ucred, gid));
#endif
  // struct timespec (SCM_TIMESTAMPNS): the one glibc's SO_TIMESTAMPNS pairs with (64-bit time_t)
  BS_LAYOUT("timespec", sizeof(timespec));
  BS_LAYOUT("tv_sec", offsetof(timespec, tv_sec));
  BS_LAYOUT("tv_sec_size", sizeof(reinterpret_cast<timespec*>(0)->tv_sec));
  BS_LAYOUT("tv_nsec", offsetof(timespec, tv_nsec));
  BS_LAYOUT("tv_nsec_size", sizeof(reinterpret_cast<timespec*>(0)->tv_nsec));
#ifdef IP_PKTINFO
  BS_LAYOUT("in_pktinfo", sizeof(in_pktinfo));
  BS_LAYOUT("ipi_ifindex", offsetof(in_pktinfo, ipi_ifindex));
  BS_LAYOUT("ipi_spec_dst", offsetof(in_pktinfo, ipi_spec_dst));
  BS_LAYOUT("ipi_addr", offsetof(in_pktinfo, ipi_addr));
#endif
#undef BS_LAYOUT
  exportsRoot.Set("layout", layout);
  Napi::Object platform = Napi::Object::New(env);
  platform.Set("addrHeader", Napi::Number::New(env, static_cast<double>(kAddrHeader)));
  exportsRoot.Set("abi", platform);
}

#undef BS_CONST

}  // namespace bs
