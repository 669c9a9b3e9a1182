// options_linux.cc — the option structures only Linux has (platform.h): struct ip_mreqn (IP_ADD_MEMBERSHIP
// with an interface index), struct ucred (SO_PEERCRED), and the kernel's struct tcp_info (TCP_INFO).
#include "layout.h"
#include "platform.h"

#include <linux/filter.h>  // struct sock_filter: SO_GET_FILTER's optlen counts them
#include <linux/tcp.h>  // the kernel's struct tcp_info (glibc's copy lags behind)
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace bs {

size_t OptlenUnit(int level, int name) {
  return level == SOL_SOCKET && name == SO_GET_FILTER ? sizeof(sock_filter) : 1;
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
