/* network.c — see network.h. */
#include "config.h"

#include "network.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "cleanup.h"

/* Big enough for every request built here and for an error reply that
 * carries an extended-ack message. */
#define NET_BUF_SIZE 8192

/* What one request is about, for the error message: "bring up link `lo`". */
struct net_request
{
  char what[256];
  char ext_msg[256]; /* NLMSGERR_ATTR_MSG of the reply, "" if none */
  int error;         /* the kernel's errno, 0 on ack */
};

static void
al_mnl_closep (struct mnl_socket **nl)
{
  if (*nl)
    {
      int saved = errno;
      mnl_socket_close (*nl);
      errno = saved;
    }
}
#define cleanup_mnl __attribute__ ((cleanup (al_mnl_closep)))

/* The rules of the kernel's dev_valid_name(), plus the length limit.
 * role is "" or "host " / "peer " for the two ends of a veth pair. */
static int
check_ifname (const char *ifname, const char *role, struct al_error *err)
{
  if (ifname == NULL || ifname[0] == '\0')
    return al_error_reason (err, EINVAL, "%sinterface name is empty", role);
  size_t len = strnlen (ifname, IFNAMSIZ);
  if (len >= IFNAMSIZ)
    return al_error_reason (err, EINVAL, "%sinterface name `%.64s%s` is longer than %d bytes", role,
                            ifname, strlen (ifname) > 64 ? "..." : "", IFNAMSIZ - 1);
  if (strcmp (ifname, ".") == 0 || strcmp (ifname, "..") == 0)
    return al_error_reason (err, EINVAL, "%sinterface name `%s` is not allowed", role, ifname);
  for (const char *p = ifname; *p; p++)
    if (*p == '/' || *p == ':' || isspace ((unsigned char) *p))
      return al_error_reason (
          err, EINVAL, "%sinterface name `%s` contains a '/', ':' or whitespace", role, ifname);
  return 0;
}

static int
ext_ack_attr_cb (const struct nlattr *attr, void *data)
{
  struct net_request *req = data;
  if (mnl_attr_get_type (attr) == NLMSGERR_ATTR_MSG
      && mnl_attr_validate (attr, MNL_TYPE_NUL_STRING) == 0)
    {
      snprintf (req->ext_msg, sizeof req->ext_msg, "%s", mnl_attr_get_str (attr));
      /* One line, whatever the kernel said. */
      for (char *p = req->ext_msg; *p; p++)
        if (*p == '\n' || *p == '\r')
          *p = ' ';
    }
  return MNL_CB_OK;
}

/* NLMSG_ERROR: error 0 is the ack; otherwise keep the errno and, when the
 * kernel sent TLVs after the (possibly capped) echo of our request, the
 * extended-ack message. */
static int
error_cb (const struct nlmsghdr *nlh, void *data)
{
  struct net_request *req = data;
  if (mnl_nlmsg_get_payload_len (nlh) < sizeof (struct nlmsgerr))
    {
      req->error = EBADMSG;
      return MNL_CB_ERROR;
    }
  const struct nlmsgerr *e = mnl_nlmsg_get_payload (nlh);
  if (e->error == 0)
    return MNL_CB_STOP;

  req->error = e->error < 0 ? -e->error : e->error;
  if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
    {
      size_t offset = (nlh->nlmsg_flags & NLM_F_CAPPED)
                          ? sizeof (struct nlmsgerr)
                          : sizeof (e->error) + (size_t) e->msg.nlmsg_len;
      if (offset <= mnl_nlmsg_get_payload_len (nlh))
        mnl_attr_parse (nlh, (unsigned) offset, ext_ack_attr_cb, req);
    }
  return MNL_CB_ERROR;
}

static int
noop_cb (const struct nlmsghdr *nlh, void *data)
{
  (void) nlh;
  (void) data;
  return MNL_CB_OK;
}

/* Send nlh (built by the caller in buf) with NLM_F_ACK and wait for the
 * kernel's answer.  Every failure is reported as "<req->what>: ...". */
static int
net_transact (struct nlmsghdr *nlh, struct net_request *req, struct al_error *err)
{
  cleanup_mnl struct mnl_socket *nl = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == NULL)
    return al_error_set (err, errno, "%s: open rtnetlink socket", req->what);
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return al_error_set (err, errno, "%s: bind rtnetlink socket", req->what);

  /* Best effort: without these the errno alone is reported. */
  int one = 1;
  mnl_socket_setsockopt (nl, NETLINK_CAP_ACK, &one, sizeof one);
  mnl_socket_setsockopt (nl, NETLINK_EXT_ACK, &one, sizeof one);

  unsigned portid = mnl_socket_get_portid (nl);
  unsigned seq = (unsigned) time (NULL);
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;

  ssize_t n;
  do
    n = mnl_socket_sendto (nl, nlh, nlh->nlmsg_len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return al_error_set (err, errno, "%s: send rtnetlink request", req->what);

  mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = { 0 };
  ctl_cb[NLMSG_NOOP] = noop_cb;
  ctl_cb[NLMSG_ERROR] = error_cb;

  char buf[NET_BUF_SIZE];
  req->error = 0;
  req->ext_msg[0] = '\0';
  for (;;)
    {
      n = mnl_socket_recvfrom (nl, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return al_error_set (err, errno, "%s: read rtnetlink reply", req->what);
      if (n == 0)
        return al_error_reason (err, EPROTO, "%s: rtnetlink socket closed without a reply",
                                req->what);

      int ret = mnl_cb_run2 (buf, (size_t) n, seq, portid, NULL, req, ctl_cb, NLMSG_MIN_TYPE);
      if (ret == MNL_CB_STOP)
        return 0;
      if (ret == MNL_CB_ERROR)
        {
          int errnum = req->error ? req->error : errno;
          if (errnum == 0)
            errnum = EPROTO;
          if (req->ext_msg[0])
            return al_error_set (err, errnum, "%s: %s", req->what, req->ext_msg);
          return al_error_set (err, errnum, "%s", req->what);
        }
      /* MNL_CB_OK: not our answer yet (e.g. a multipart message); read on. */
    }
}

static struct nlmsghdr *
put_link_request (char *buf, uint16_t type, uint16_t flags, const char *ifname)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, ifname);
  return nlh;
}

int
al_net_link_up (const char *ifname, struct al_error *err)
{
  int ret = check_ifname (ifname, "", err);
  if (ret < 0)
    return al_error_wrap (err, "bring up link");

  struct net_request req;
  snprintf (req.what, sizeof req.what, "bring up link `%s`", ifname);
  char buf[NET_BUF_SIZE];
  struct nlmsghdr *nlh = put_link_request (buf, RTM_NEWLINK, 0, ifname);
  struct ifinfomsg *ifi = mnl_nlmsg_get_payload (nlh);
  ifi->ifi_change = IFF_UP;
  ifi->ifi_flags = IFF_UP;
  return net_transact (nlh, &req, err);
}

int
al_net_link_del (const char *ifname, struct al_error *err)
{
  int ret = check_ifname (ifname, "", err);
  if (ret < 0)
    return al_error_wrap (err, "delete link");

  struct net_request req;
  snprintf (req.what, sizeof req.what, "delete link `%s`", ifname);
  char buf[NET_BUF_SIZE];
  struct nlmsghdr *nlh = put_link_request (buf, RTM_DELLINK, 0, ifname);
  return net_transact (nlh, &req, err);
}

int
al_net_veth_create (const char *host_if, const char *peer_if, int peer_netns_fd,
                    struct al_error *err)
{
  int ret = check_ifname (host_if, "host ", err);
  if (ret == 0)
    ret = check_ifname (peer_if, "peer ", err);
  if (ret < 0)
    return al_error_wrap (err, "create veth pair");
  if (strcmp (host_if, peer_if) == 0 && peer_netns_fd < 0)
    return al_error_reason (err, EINVAL,
                            "create veth pair `%s` <-> `%s`: both ends have the same name", host_if,
                            peer_if);

  struct net_request req;
  snprintf (req.what, sizeof req.what, "create veth pair `%s` <-> `%s`", host_if, peer_if);

  /* The kernel would say EINVAL or EBADF; say which fd and why. */
  if (peer_netns_fd >= 0)
    {
      int type = ioctl (peer_netns_fd, NS_GET_NSTYPE);
      if (type < 0 && errno == EBADF)
        return al_error_set (err, errno, "%s: peer namespace fd %d", req.what, peer_netns_fd);
      if (type < 0 && errno != ENOTTY)
        return al_error_set (err, errno, "%s: inspect peer namespace fd %d", req.what,
                             peer_netns_fd);
      if (type != CLONE_NEWNET)
        return al_error_reason (err, EINVAL, "%s: peer namespace fd %d is not a network namespace",
                                req.what, peer_netns_fd);
    }

  char buf[NET_BUF_SIZE];
  struct nlmsghdr *nlh = put_link_request (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, host_if);
  struct nlattr *linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  struct nlattr *peer = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  /* VETH_INFO_PEER carries a whole link request: ifinfomsg, then attrs. */
  struct ifinfomsg *peer_ifi = mnl_nlmsg_put_extra_header (nlh, sizeof *peer_ifi);
  peer_ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, peer_if);
  if (peer_netns_fd >= 0)
    mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t) peer_netns_fd);
  mnl_attr_nest_end (nlh, peer);
  mnl_attr_nest_end (nlh, data);
  mnl_attr_nest_end (nlh, linkinfo);
  return net_transact (nlh, &req, err);
}

int
al_net_addr_add (const char *ifname, int family, const void *addr, unsigned prefixlen,
                 struct al_error *err)
{
  int ret = check_ifname (ifname, "", err);
  if (ret < 0)
    return al_error_wrap (err, "add address");
  if (family != AF_INET && family != AF_INET6)
    return al_error_reason (err, EAFNOSUPPORT,
                            "add address to `%s`: address family %d is neither AF_INET nor "
                            "AF_INET6",
                            ifname, family);
  if (addr == NULL)
    return al_error_reason (err, EINVAL, "add address to `%s`: no address given", ifname);

  size_t alen = family == AF_INET ? sizeof (struct in_addr) : sizeof (struct in6_addr);
  unsigned max_prefix = (unsigned) alen * 8;
  char text[INET6_ADDRSTRLEN];
  inet_ntop (family, addr, text, sizeof text);
  struct net_request req;
  snprintf (req.what, sizeof req.what, "add address %s/%u to `%s`", text, prefixlen, ifname);
  if (prefixlen > max_prefix)
    return al_error_reason (err, EINVAL, "%s: prefix length is above %u", req.what, max_prefix);

  unsigned ifindex = if_nametoindex (ifname);
  if (ifindex == 0)
    return al_error_set (err, errno, "%s", req.what);

  char buf[NET_BUF_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = (unsigned char) family;
  ifa->ifa_prefixlen = (unsigned char) prefixlen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  mnl_attr_put (nlh, IFA_LOCAL, alen, addr);
  mnl_attr_put (nlh, IFA_ADDRESS, alen, addr);
  if (family == AF_INET && prefixlen <= 30)
    {
      struct in_addr brd;
      memcpy (&brd, addr, sizeof brd);
      uint32_t host_mask = prefixlen == 0 ? UINT32_MAX : (UINT32_MAX >> prefixlen);
      brd.s_addr |= htonl (host_mask);
      mnl_attr_put (nlh, IFA_BROADCAST, sizeof brd, &brd);
    }
  if (family == AF_INET6)
    mnl_attr_put_u32 (nlh, IFA_FLAGS, IFA_F_NODAD);
  return net_transact (nlh, &req, err);
}

int
al_net_route_default (const char *ifname, const void *gw4, struct al_error *err)
{
  int ret = check_ifname (ifname, "", err);
  if (ret < 0)
    return al_error_wrap (err, "add default route");

  struct net_request req;
  if (gw4)
    {
      char text[INET_ADDRSTRLEN];
      inet_ntop (AF_INET, gw4, text, sizeof text);
      snprintf (req.what, sizeof req.what, "add default route via %s dev `%s`", text, ifname);
    }
  else
    snprintf (req.what, sizeof req.what, "add default route dev `%s`", ifname);

  unsigned ifindex = if_nametoindex (ifname);
  if (ifindex == 0)
    return al_error_set (err, errno, "%s", req.what);

  char buf[NET_BUF_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = gw4 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  if (gw4)
    mnl_attr_put (nlh, RTA_GATEWAY, sizeof (struct in_addr), gw4);
  mnl_attr_put_u32 (nlh, RTA_OIF, ifindex);
  return net_transact (nlh, &req, err);
}
