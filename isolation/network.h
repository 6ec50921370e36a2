/* network.h — link, address and route set-up over rtnetlink (libmnl).
 *
 * What this module promises:
 * - Every call acts on the network namespace of the calling thread, opens
 *   its own NETLINK_ROUTE socket, sends one request with NLM_F_ACK and reads
 *   the kernel's answer: 0 means the kernel acknowledged the change.
 * - Interface names are checked before any netlink traffic: empty, longer
 *   than 15 bytes (IFNAMSIZ - 1), ".", ".." or containing '/', ':' or
 *   whitespace is -EINVAL.
 * - A failure is one line naming the operation and the interface(s), then
 *   the kernel's extended-ack text when it sent one, then strerror of the
 *   kernel's errno, e.g.
 *     bring up link `eth9`: No such device
 *     add default route via 10.0.0.9 dev `veth0`: Nexthop has invalid
 *     gateway: Network is unreachable
 *   err->errnum is that errno (ENODEV, EEXIST, ...).
 * - al_net_veth_create() is atomic: the peer is created directly in
 *   peer_netns_fd (-1: the caller's namespace) and either both ends exist or
 *   neither does.  peer_netns_fd is checked to be a network namespace first.
 * - Deleting either end of a veth pair removes both.
 */
#ifndef AL_NETWORK_H
#define AL_NETWORK_H

#include "error.h"

/* Set IFF_UP on ifname (e.g. "lo" in a fresh namespace). */
int al_net_link_up (const char *ifname, struct al_error *err);

/* Create the veth pair host_if <-> peer_if; host_if stays here, peer_if is
 * created in the network namespace peer_netns_fd (-1: here too).  Both ends
 * are left down and without addresses. */
int al_net_veth_create (const char *host_if, const char *peer_if, int peer_netns_fd,
                        struct al_error *err);

/* Add addr/prefixlen to ifname.  family is AF_INET (addr is a struct
 * in_addr, prefixlen <= 32; the broadcast address is set for prefixes up to
 * /30) or AF_INET6 (a struct in6_addr, prefixlen <= 128, added without
 * duplicate address detection so it is usable at once). */
int al_net_addr_add (const char *ifname, int family, const void *addr, unsigned prefixlen,
                     struct al_error *err);

/* Delete the link ifname. */
int al_net_link_del (const char *ifname, struct al_error *err);

/* Add the IPv4 default route through ifname, via gateway gw4 (a struct
 * in_addr), or, when gw4 is NULL, straight out of ifname (scope link).
 * Fails with EEXIST if a default route is already there. */
int al_net_route_default (const char *ifname, const void *gw4, struct al_error *err);

#endif
