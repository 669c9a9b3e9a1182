// options_linux.cc — the option structures only Linux has (platform.h): struct ip_mreqn (IP_ADD_MEMBERSHIP
// with an interface index), struct ucred (SO_PEERCRED), the kernel's struct tcp_info (TCP_INFO), struct
// packet_mreq (PACKET_ADD_MEMBERSHIP, packet(7)), and SO_ATTACH_FILTER's struct sock_fprog, the one
// option whose value holds a pointer (to the program's struct sock_filter array).
#include "layout.h"
#include "platform.h"
#include "result.h"

#include <linux/filter.h>  // struct sock_filter, struct sock_fprog (classic BPF)
#include <linux/tcp.h>  // the kernel's struct tcp_info (glibc's copy lags behind)
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/socket.h>

#include <cstddef>

namespace bs {

namespace {

// setsockopt(fd, level, name, { len, filter }) where filter points at the struct sock_filter array in
// `program` (the caller's bytes, 8 per instruction: src/filter.ts lays them out) -> 0 | -errno. The kernel
// copies the program during the call (sk_attach_filter), so nothing holds the memory afterwards.
Napi::Value SetSockOptFprog(const Napi::CallbackInfo& info) {
  int32_t fd, level, name;
  uint8_t* program;
  size_t len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) ||
      !ArgBytes(info, 3, &program, &len))
    return {};
  // sock_fprog.len is an unsigned short count of whole instructions: anything else would hand the
  // kernel a length that does not describe the bytes it reads.
  if (len % sizeof(sock_filter) != 0 || len / sizeof(sock_filter) > 0xffff) {
    Napi::RangeError::New(info.Env(), "berkeley-sockets: a filter is 0..65535 whole struct sock_filter")
        .ThrowAsJavaScriptException();
    return {};
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(len / sizeof(sock_filter));
  prog.filter = reinterpret_cast<sock_filter*>(program);
  int rc = ::setsockopt(fd, level, name, &prog, sizeof prog);
  return Result(info.Env(), rc, errno);
}

}  // namespace

size_t OptlenUnit(int level, int name) {
  return level == SOL_SOCKET && name == SO_GET_FILTER ? sizeof(sock_filter) : 1;
}

void RegisterSocketFilter(Napi::Env env, Napi::Object exports) {
  exports.Set("setsockoptFprog", Napi::Function::New(env, SetSockOptFprog, "setsockoptFprog"));
}

void AddPlatformLayouts(Napi::Env env, Napi::Object all) {
  Napi::Object mn = Struct(env, sizeof(ip_mreqn));
  BS_FIELD(mn, ip_mreqn, imr_multiaddr);
  BS_FIELD(mn, ip_mreqn, imr_address);
  BS_FIELD(mn, ip_mreqn, imr_ifindex);
  all.Set("ip_mreqn", mn);
  Napi::Object uc = Struct(env, sizeof(ucred));
  BS_FIELD(uc, ucred, pid);
  BS_FIELD(uc, ucred, uid);
  BS_FIELD(uc, ucred, gid);
  all.Set("ucred", uc);
  Napi::Object pm = Struct(env, sizeof(packet_mreq));
  BS_FIELD(pm, packet_mreq, mr_ifindex);
  BS_FIELD(pm, packet_mreq, mr_type);
  BS_FIELD(pm, packet_mreq, mr_alen);
  BS_FIELD(pm, packet_mreq, mr_address);
  all.Set("packet_mreq", pm);
  Napi::Object sf = Struct(env, sizeof(sock_filter));
  BS_FIELD(sf, sock_filter, code);
  BS_FIELD(sf, sock_filter, jt);
  BS_FIELD(sf, sock_filter, jf);
  BS_FIELD(sf, sock_filter, k);
  all.Set("sock_filter", sf);
  Napi::Object fp = Struct(env, sizeof(sock_fprog));
  BS_FIELD(fp, sock_fprog, len);
  BS_FIELD(fp, sock_fprog, filter);
  all.Set("sock_fprog", fp);
  Napi::Object ti = Struct(env, sizeof(tcp_info));
  BS_FIELD(ti, tcp_info, tcpi_state);
  BS_FIELD(ti, tcp_info, tcpi_ca_state);
  BS_FIELD(ti, tcp_info, tcpi_retransmits);
  BS_FIELD(ti, tcp_info, tcpi_probes);
  BS_FIELD(ti, tcp_info, tcpi_backoff);
  BS_FIELD(ti, tcp_info, tcpi_options);
  BS_FIELD(ti, tcp_info, tcpi_rto);
  BS_FIELD(ti, tcp_info, tcpi_ato);
  BS_FIELD(ti, tcp_info, tcpi_snd_mss);
  BS_FIELD(ti, tcp_info, tcpi_rcv_mss);
  BS_FIELD(ti, tcp_info, tcpi_unacked);
  BS_FIELD(ti, tcp_info, tcpi_sacked);
  BS_FIELD(ti, tcp_info, tcpi_lost);
  BS_FIELD(ti, tcp_info, tcpi_retrans);
  BS_FIELD(ti, tcp_info, tcpi_last_data_sent);
  BS_FIELD(ti, tcp_info, tcpi_last_ack_sent);
  BS_FIELD(ti, tcp_info, tcpi_last_data_recv);
  BS_FIELD(ti, tcp_info, tcpi_last_ack_recv);
  BS_FIELD(ti, tcp_info, tcpi_pmtu);
  BS_FIELD(ti, tcp_info, tcpi_rcv_ssthresh);
  BS_FIELD(ti, tcp_info, tcpi_rtt);
  BS_FIELD(ti, tcp_info, tcpi_rttvar);
  BS_FIELD(ti, tcp_info, tcpi_snd_ssthresh);
  BS_FIELD(ti, tcp_info, tcpi_snd_cwnd);
  BS_FIELD(ti, tcp_info, tcpi_advmss);
  BS_FIELD(ti, tcp_info, tcpi_reordering);
  BS_FIELD(ti, tcp_info, tcpi_rcv_rtt);
  BS_FIELD(ti, tcp_info, tcpi_rcv_space);
  BS_FIELD(ti, tcp_info, tcpi_total_retrans);
  BS_FIELD(ti, tcp_info, tcpi_pacing_rate);
  BS_FIELD(ti, tcp_info, tcpi_max_pacing_rate);
  BS_FIELD(ti, tcp_info, tcpi_bytes_acked);
  BS_FIELD(ti, tcp_info, tcpi_bytes_received);
  BS_FIELD(ti, tcp_info, tcpi_segs_out);
  BS_FIELD(ti, tcp_info, tcpi_segs_in);
  BS_FIELD(ti, tcp_info, tcpi_notsent_bytes);
  BS_FIELD(ti, tcp_info, tcpi_min_rtt);
  BS_FIELD(ti, tcp_info, tcpi_data_segs_in);
  BS_FIELD(ti, tcp_info, tcpi_data_segs_out);
  BS_FIELD(ti, tcp_info, tcpi_delivery_rate);
  BS_FIELD(ti, tcp_info, tcpi_busy_time);
  BS_FIELD(ti, tcp_info, tcpi_rwnd_limited);
  BS_FIELD(ti, tcp_info, tcpi_sndbuf_limited);
  BS_FIELD(ti, tcp_info, tcpi_delivered);
  BS_FIELD(ti, tcp_info, tcpi_delivered_ce);
  BS_FIELD(ti, tcp_info, tcpi_bytes_sent);
  BS_FIELD(ti, tcp_info, tcpi_bytes_retrans);
  BS_FIELD(ti, tcp_info, tcpi_dsack_dups);
  BS_FIELD(ti, tcp_info, tcpi_reord_seen);
  BS_FIELD(ti, tcp_info, tcpi_rcv_ooopack);
  BS_FIELD(ti, tcp_info, tcpi_snd_wnd);
  all.Set("tcp_info", ti);
}

}  // namespace bs
