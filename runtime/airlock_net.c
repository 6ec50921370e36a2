/* airlock_net.c — airlock-net, the network of `sandbox run --network
 * loopback|private`, set up from outside the sandbox.
 *
 *   airlock-net loopback PID
 *   airlock-net private PID HOST_IF HOST_ADDR INSIDE_ADDR
 *
 * PID's network namespace gets lo up (both); for private also the veth
 * pair HOST_IF (here, HOST_ADDR/30, up) <-> eth0 (there, INSIDE_ADDR/30,
 * up, default route via HOST_ADDR).  All through rtnetlink
 * (isolation/network.h, libmnl): no `ip` process.
 *
 * Why a program of its own: Debian ships libmnl only as a shared library,
 * and airlock itself is linked statically (a dynamic loader on every start
 * costs it 1.7 ms and 1 MiB); only these two modes need netlink, so only
 * they pay for a dynamic process.  airlock runs it (real root, before the
 * sandbox's init sets up) and reads its one-line error from stderr.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "network.h"

static int
fail (const struct al_error *err)
{
  fprintf (stderr, "%s\n", err->msg);
  return 1;
}

int
main (int argc, char **argv)
{
  struct al_error err = { 0 };
  bool private_net = argc == 6 && strcmp (argv[1], "private") == 0;
  if (!private_net && !(argc == 3 && strcmp (argv[1], "loopback") == 0))
    {
      fprintf (stderr, "usage: airlock-net loopback PID | private PID HOST_IF HOST_ADDR "
                       "INSIDE_ADDR\n");
      return 2;
    }
  char path[64];
  snprintf (path, sizeof path, "/proc/%s/ns/net", argv[2]);
  int netns = open (path, O_RDONLY | O_CLOEXEC);
  if (netns < 0)
    {
      fprintf (stderr, "open %s: %s\n", path, strerror (errno));
      return 1;
    }

  struct in_addr host, inside;
  if (private_net)
    {
      if (inet_pton (AF_INET, argv[4], &host) != 1 || inet_pton (AF_INET, argv[5], &inside) != 1)
        {
          fprintf (stderr, "airlock-net: bad address\n");
          return 2;
        }
      /* The host end goes with the pair when the namespace dies. */
      if (al_net_veth_create (argv[3], "eth0", netns, &err) < 0
          || al_net_addr_add (argv[3], AF_INET, &host, 30, &err) < 0
          || al_net_link_up (argv[3], &err) < 0)
        return fail (&err);
    }
  if (setns (netns, CLONE_NEWNET) < 0)
    {
      fprintf (stderr, "enter the sandbox's network namespace: %s\n", strerror (errno));
      return 1;
    }
  if (al_net_link_up ("lo", &err) < 0)
    return fail (&err);
  if (private_net
      && (al_net_addr_add ("eth0", AF_INET, &inside, 30, &err) < 0
          || al_net_link_up ("eth0", &err) < 0
          || al_net_route_default ("eth0", &host, &err) < 0))
    return fail (&err);
  return 0;
}
