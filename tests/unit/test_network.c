/* test_network.c — isolation/network.h against the real kernel.
 *
 * Safety: nothing here touches the network namespace the tests were started
 * in.  Each test makes its own namespaces (A, B): a short-lived child
 * unshare(CLONE_NEWNET)s and the worker keeps /proc/<child>/ns/net open.
 * Every call into network.h runs in a child forked from the worker that
 * first setns()es into A or B and checks that it really left the original
 * namespace (else it exits 99 before doing anything).  The host end of each
 * veth pair lives in A, the peer in B.  The namespaces disappear with the
 * last fd, so nothing is left behind even when a test fails.
 *
 * A child reports through a shared page (struct job): a return value, the
 * struct al_error and a note explaining which check failed.  Needs root.
 */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "network.h"

#define HOST_IF "nt-a"
#define PEER_IF "nt-b"
#define ADDR_A "10.200.0.1"
#define ADDR_B "10.200.0.2"
#define UDP_PORT 40123

struct job
{
  /* in */
  int peer_fd;
  char payload[64];
  /* out */
  int ret;
  struct al_error err;
  char note[2048];
};

#define N_JOBS 4
static struct job *jobs;
static ino_t origin_netns; /* the namespace the worker started in */

/* In a child: fail with a note unless cond holds. */
#define CHECK(job, cond, ...)                                                                      \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          snprintf ((job)->note, sizeof (job)->note, __VA_ARGS__);                                 \
          return 1;                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

static ino_t
ns_ino (const char *path)
{
  struct stat st;
  cr_assert_eq (stat (path, &st), 0, "stat %s: %s", path, strerror (errno));
  return st.st_ino;
}

static void
setup (void)
{
  origin_netns = ns_ino ("/proc/self/ns/net");
  jobs = mmap (NULL, sizeof (struct job) * N_JOBS, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  cr_assert_neq (jobs, MAP_FAILED);
  memset (jobs, 0, sizeof (struct job) * N_JOBS);
  for (int i = 0; i < N_JOBS; i++)
    jobs[i].peer_fd = -1;
}

TestSuite (network, .init = setup);

/* A fresh, empty network namespace, kept alive by the returned fd. */
static int
new_netns (void)
{
  int ready[2], hold[2];
  cr_assert_eq (pipe2 (ready, O_CLOEXEC), 0);
  cr_assert_eq (pipe2 (hold, O_CLOEXEC), 0);
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      close (ready[0]);
      close (hold[1]);
      char c = unshare (CLONE_NEWNET) == 0 ? 'y' : 'n';
      if (write (ready[1], &c, 1) != 1)
        _exit (2);
      while (read (hold[0], &c, 1) > 0) /* until the worker has opened it */
        ;
      _exit (0);
    }
  close (ready[1]);
  close (hold[0]);
  char c = 0;
  cr_assert_eq (read (ready[0], &c, 1), 1);
  close (ready[0]);
  cr_assert_eq (c, 'y', "unshare(CLONE_NEWNET) failed in child");
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int) pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int open_errno = errno;
  close (hold[1]);
  int status;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  cr_assert_geq (fd, 0, "open %s: %s", path, strerror (open_errno));
  struct stat st;
  cr_assert_eq (fstat (fd, &st), 0);
  cr_assert_neq (st.st_ino, origin_netns, "new namespace is the original one");
  return fd;
}

/* Fork a child that enters nsfd and runs fn (job); returns its pid. */
static pid_t
spawn_in (int nsfd, int (*fn) (struct job *), struct job *job)
{
  pid_t pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      alarm (20);
      if (setns (nsfd, CLONE_NEWNET) < 0)
        _exit (98);
      struct stat here, want;
      if (stat ("/proc/thread-self/ns/net", &here) < 0 || fstat (nsfd, &want) < 0
          || here.st_ino == origin_netns || here.st_ino != want.st_ino)
        _exit (99);
      _exit (fn (job));
    }
  return pid;
}

static int
wait_child (pid_t pid)
{
  int status;
  pid_t r;
  while ((r = waitpid (pid, &status, 0)) < 0 && errno == EINTR)
    ;
  cr_assert_eq (r, pid);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}

static int
run_in (int nsfd, int (*fn) (struct job *), struct job *job)
{
  return wait_child (spawn_in (nsfd, fn, job));
}

#define ASSERT_RUN(nsfd, fn, job)                                                                  \
  do                                                                                               \
    {                                                                                              \
      int rc_ = run_in ((nsfd), (fn), (job));                                                      \
      cr_assert_eq (rc_, 0, "%s: exit %d: %s [err: %s]", #fn, rc_, (job)->note, (job)->err.msg);   \
    }                                                                                              \
  while (0)

/* ------------------------------------------------------- child helpers */

static int
link_flags (const char *ifname)
{
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -errno;
  struct ifreq ifr = { 0 };
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return -errno;
  return ifr.ifr_flags & 0xffff;
}

static bool
link_exists (const char *ifname)
{
  return if_nametoindex (ifname) != 0;
}

/* Names of all links here, space-separated, in index order. */
static void
link_list (char *buf, size_t size)
{
  buf[0] = '\0';
  struct if_nameindex *list = if_nameindex ();
  if (list == NULL)
    {
      snprintf (buf, size, "<if_nameindex: %s>", strerror (errno));
      return;
    }
  for (struct if_nameindex *i = list; i->if_index; i++)
    {
      if (buf[0])
        strncat (buf, " ", size - strlen (buf) - 1);
      strncat (buf, i->if_name, size - strlen (buf) - 1);
    }
  if_freenameindex (list);
}

/* Is addr/prefix on ifname? */
static bool
has_addr4 (const char *ifname, const char *addr, unsigned prefix)
{
  struct ifaddrs *list;
  if (getifaddrs (&list) < 0)
    return false;
  bool found = false;
  struct in_addr want;
  inet_pton (AF_INET, addr, &want);
  uint32_t mask = prefix ? htonl (~0u << (32 - prefix)) : 0;
  for (struct ifaddrs *i = list; i; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && strcmp (i->ifa_name, ifname) == 0
        && ((struct sockaddr_in *) i->ifa_addr)->sin_addr.s_addr == want.s_addr
        && ((struct sockaddr_in *) i->ifa_netmask)->sin_addr.s_addr == mask)
      found = true;
  freeifaddrs (list);
  return found;
}

static bool
has_addr6 (const char *ifname, const char *addr)
{
  struct ifaddrs *list;
  if (getifaddrs (&list) < 0)
    return false;
  bool found = false;
  struct in6_addr want;
  inet_pton (AF_INET6, addr, &want);
  for (struct ifaddrs *i = list; i; i = i->ifa_next)
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 && strcmp (i->ifa_name, ifname) == 0
        && memcmp (&((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, &want, sizeof want) == 0)
      found = true;
  freeifaddrs (list);
  return found;
}

/* ------------------------------------------------------------ lo up */

static int
child_lo_up (struct job *job)
{
  int flags = link_flags ("lo");
  CHECK (job, flags >= 0 && !(flags & IFF_UP), "lo flags before: %d (want down)", flags);
  job->ret = al_net_link_up ("lo", &job->err);
  CHECK (job, job->ret == 0, "al_net_link_up(lo) = %d", job->ret);
  flags = link_flags ("lo");
  CHECK (job, flags >= 0 && (flags & IFF_UP), "lo flags after: %#x (want IFF_UP)", flags);
  /* lo up means 127.0.0.1 answers. */
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (UDP_PORT) };
  inet_pton (AF_INET, "127.0.0.1", &sa.sin_addr);
  CHECK (job, bind (s, (struct sockaddr *) &sa, sizeof sa) == 0, "bind 127.0.0.1: %s",
         strerror (errno));
  CHECK (job, sendto (s, "x", 1, 0, (struct sockaddr *) &sa, sizeof sa) == 1,
         "send to 127.0.0.1: %s", strerror (errno));
  char c;
  CHECK (job, recv (s, &c, 1, MSG_DONTWAIT) == 1, "recv on 127.0.0.1: %s", strerror (errno));
  return 0;
}

Test (network, lo_up_in_fresh_netns)
{
  cleanup_close int a = new_netns ();
  ASSERT_RUN (a, child_lo_up, &jobs[0]);
}

/* ---------------------------------------------------- veth across A/B */

static int
child_veth_create (struct job *job)
{
  job->ret = al_net_veth_create (HOST_IF, PEER_IF, job->peer_fd, &job->err);
  CHECK (job, job->ret == 0, "al_net_veth_create = %d", job->ret);
  return 0;
}

static int
child_expect_host_end (struct job *job)
{
  char links[256];
  link_list (links, sizeof links);
  CHECK (job, link_exists (HOST_IF) && !link_exists (PEER_IF),
         "in A want " HOST_IF " and not " PEER_IF ", have: %s", links);
  return 0;
}

static int
child_expect_peer_end (struct job *job)
{
  char links[256];
  link_list (links, sizeof links);
  CHECK (job, link_exists (PEER_IF) && !link_exists (HOST_IF),
         "in B want " PEER_IF " and not " HOST_IF ", have: %s", links);
  return 0;
}

static int
child_expect_only_lo (struct job *job)
{
  char links[256];
  link_list (links, sizeof links);
  CHECK (job, strcmp (links, "lo") == 0, "want only lo, have: %s", links);
  return 0;
}

/* A and B with HOST_IF in A and PEER_IF in B. */
static void
make_pair (int *a, int *b)
{
  *a = new_netns ();
  *b = new_netns ();
  jobs[0].peer_fd = *b;
  ASSERT_RUN (*a, child_veth_create, &jobs[0]);
}

Test (network, veth_pair_across_two_netns)
{
  cleanup_close int a = -1;
  cleanup_close int b = -1;
  make_pair (&a, &b);
  ASSERT_RUN (a, child_expect_host_end, &jobs[1]);
  ASSERT_RUN (b, child_expect_peer_end, &jobs[1]);
}

/* ------------------------------------------- addresses, up, a datagram */

static int
child_config_a (struct job *job)
{
  struct in_addr ip;
  inet_pton (AF_INET, ADDR_A, &ip);
  job->ret = al_net_addr_add (HOST_IF, AF_INET, &ip, 30, &job->err);
  CHECK (job, job->ret == 0, "addr_add A = %d", job->ret);
  job->ret = al_net_link_up (HOST_IF, &job->err);
  CHECK (job, job->ret == 0, "link_up A = %d", job->ret);
  CHECK (job, has_addr4 (HOST_IF, ADDR_A, 30), ADDR_A "/30 not on " HOST_IF);
  int flags = link_flags (HOST_IF);
  CHECK (job, flags >= 0 && (flags & IFF_UP), HOST_IF " flags %#x (want IFF_UP)", flags);
  return 0;
}

static int
child_config_b (struct job *job)
{
  struct in_addr ip;
  inet_pton (AF_INET, ADDR_B, &ip);
  job->ret = al_net_addr_add (PEER_IF, AF_INET, &ip, 30, &job->err);
  CHECK (job, job->ret == 0, "addr_add B = %d", job->ret);
  job->ret = al_net_link_up (PEER_IF, &job->err);
  CHECK (job, job->ret == 0, "link_up B = %d", job->ret);
  CHECK (job, has_addr4 (PEER_IF, ADDR_B, 30), ADDR_B "/30 not on " PEER_IF);
  int flags = link_flags (PEER_IF);
  CHECK (job, flags >= 0 && (flags & IFF_UP), PEER_IF " flags %#x (want IFF_UP)", flags);
  return 0;
}

static int ready_pipe = -1; /* write end, for the receiver */

static int
child_udp_receive (struct job *job)
{
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (UDP_PORT) };
  inet_pton (AF_INET, ADDR_B, &sa.sin_addr);
  CHECK (job, bind (s, (struct sockaddr *) &sa, sizeof sa) == 0, "bind " ADDR_B ": %s",
         strerror (errno));
  struct timeval tv = { .tv_sec = 5 };
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK (job, write (ready_pipe, "r", 1) == 1, "signal ready: %s", strerror (errno));
  char buf[128] = { 0 };
  struct sockaddr_in from;
  socklen_t fromlen = sizeof from;
  ssize_t n = recvfrom (s, buf, sizeof buf - 1, 0, (struct sockaddr *) &from, &fromlen);
  CHECK (job, n > 0, "no datagram in B within 5 s: %s", strerror (errno));
  char src[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &from.sin_addr, src, sizeof src);
  CHECK (job, strcmp (buf, job->payload) == 0, "got `%s`, want `%s`", buf, job->payload);
  CHECK (job, strcmp (src, ADDR_A) == 0, "datagram from %s, want " ADDR_A, src);
  return 0;
}

static int
child_udp_send (struct job *job)
{
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (UDP_PORT) };
  inet_pton (AF_INET, ADDR_B, &sa.sin_addr);
  /* A few tries: the first one may wait in the neighbour queue for ARP. */
  for (int i = 0; i < 10; i++)
    {
      ssize_t n
          = sendto (s, job->payload, strlen (job->payload), 0, (struct sockaddr *) &sa, sizeof sa);
      CHECK (job, n == (ssize_t) strlen (job->payload), "sendto " ADDR_B ": %s", strerror (errno));
      usleep (100 * 1000);
    }
  return 0;
}

static void
make_configured_pair (int *a, int *b)
{
  make_pair (a, b);
  ASSERT_RUN (*a, child_config_a, &jobs[1]);
  ASSERT_RUN (*b, child_config_b, &jobs[2]);
}

Test (network, addresses_up_and_udp_over_veth)
{
  cleanup_close int a = -1;
  cleanup_close int b = -1;
  make_configured_pair (&a, &b);

  snprintf (jobs[3].payload, sizeof jobs[3].payload, "airlock-net-%d-%ld", (int) getpid (),
            (long) time (NULL));
  memcpy (jobs[2].payload, jobs[3].payload, sizeof jobs[2].payload);
  int p[2];
  cr_assert_eq (pipe2 (p, O_CLOEXEC), 0);
  ready_pipe = p[1];
  cleanup_pid pid_t receiver = spawn_in (b, child_udp_receive, &jobs[2]);
  close (p[1]);
  char c;
  cr_assert_eq (read (p[0], &c, 1), 1, "receiver in B did not get ready");
  close (p[0]);
  ASSERT_RUN (a, child_udp_send, &jobs[3]);
  int rc = wait_child (al_steal_pid (&receiver));
  cr_assert_eq (rc, 0, "receiver: exit %d: %s", rc, jobs[2].note);
}

static int
child_addr6 (struct job *job)
{
  struct in6_addr ip;
  inet_pton (AF_INET6, "fd00:a1::1", &ip);
  job->ret = al_net_addr_add (HOST_IF, AF_INET6, &ip, 64, &job->err);
  CHECK (job, job->ret == 0, "addr_add v6 = %d", job->ret);
  CHECK (job, has_addr6 (HOST_IF, "fd00:a1::1"), "fd00:a1::1 not on " HOST_IF);
  /* The same address again is EEXIST, named. */
  job->ret = al_net_addr_add (HOST_IF, AF_INET6, &ip, 64, &job->err);
  CHECK (job, job->ret == -EEXIST, "second addr_add = %d, want -EEXIST", job->ret);
  CHECK (job, strstr (job->err.msg, "fd00:a1::1/64") && strstr (job->err.msg, "`" HOST_IF "`"),
         "message does not name address and link: %s", job->err.msg);
  return 0;
}

Test (network, ipv6_address)
{
  cleanup_close int a = -1;
  cleanup_close int b = -1;
  make_pair (&a, &b);
  ASSERT_RUN (a, child_addr6, &jobs[1]);
}

/* ---------------------------------------------------------- delete */

static int
child_del_host (struct job *job)
{
  job->ret = al_net_link_del (HOST_IF, &job->err);
  CHECK (job, job->ret == 0, "link_del " HOST_IF " = %d", job->ret);
  return 0;
}

static int
child_del_peer (struct job *job)
{
  job->ret = al_net_link_del (PEER_IF, &job->err);
  CHECK (job, job->ret == 0, "link_del " PEER_IF " = %d", job->ret);
  return 0;
}

Test (network, delete_host_end_removes_both)
{
  cleanup_close int a = -1;
  cleanup_close int b = -1;
  make_configured_pair (&a, &b);
  ASSERT_RUN (a, child_del_host, &jobs[1]);
  ASSERT_RUN (a, child_expect_only_lo, &jobs[2]);
  ASSERT_RUN (b, child_expect_only_lo, &jobs[2]);
}

Test (network, delete_peer_end_removes_both)
{
  cleanup_close int a = -1;
  cleanup_close int b = -1;
  make_pair (&a, &b);
  ASSERT_RUN (b, child_del_peer, &jobs[1]);
  ASSERT_RUN (a, child_expect_only_lo, &jobs[2]);
  ASSERT_RUN (b, child_expect_only_lo, &jobs[2]);
}

/* ---------------------------------------------------------- route */

static int
child_route (struct job *job)
{
  cleanup_close int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in far = { .sin_family = AF_INET, .sin_port = htons (9) };
  inet_pton (AF_INET, "198.51.100.7", &far.sin_addr);
  int r = connect (s, (struct sockaddr *) &far, sizeof far);
  CHECK (job, r < 0 && errno == ENETUNREACH, "before: connect = %d (%s), want ENETUNREACH", r,
         strerror (errno));

  /* A gateway that is not on any link: refused, with the kernel's reason. */
  struct in_addr bad_gw;
  inet_pton (AF_INET, "192.0.2.1", &bad_gw);
  job->ret = al_net_route_default (HOST_IF, &bad_gw, &job->err);
  CHECK (job, job->ret < 0 && job->ret == -job->err.errnum, "bad gateway: ret %d, errnum %d",
         job->ret, job->err.errnum);
  CHECK (job,
         strstr (job->err.msg, "default route via 192.0.2.1 dev `" HOST_IF "`")
             && strstr (job->err.msg, "Nexthop has invalid gateway")
             && strstr (job->err.msg, strerror (job->err.errnum)),
         "bad gateway message: %s", job->err.msg);

  struct in_addr gw;
  inet_pton (AF_INET, ADDR_B, &gw);
  job->ret = al_net_route_default (HOST_IF, &gw, &job->err);
  CHECK (job, job->ret == 0, "route_default = %d", job->ret);

  cleanup_close int s2 = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK (job, connect (s2, (struct sockaddr *) &far, sizeof far) == 0, "after: connect: %s",
         strerror (errno));
  struct sockaddr_in me;
  socklen_t len = sizeof me;
  getsockname (s2, (struct sockaddr *) &me, &len);
  char src[INET_ADDRSTRLEN];
  inet_ntop (AF_INET, &me.sin_addr, src, sizeof src);
  CHECK (job, strcmp (src, ADDR_A) == 0, "route source %s, want " ADDR_A, src);

  job->ret = al_net_route_default (HOST_IF, &gw, &job->err);
  CHECK (job, job->ret == -EEXIST, "second route_default = %d, want -EEXIST", job->ret);
  return 0;
}

Test (network, default_route)
{
  cleanup_close int a = -1;
  cleanup_close int b = -1;
  make_configured_pair (&a, &b);
  ASSERT_RUN (a, child_route, &jobs[3]);
}

/* ------------------------------------------------------- bad input */

static int
child_missing_ifname (struct job *job)
{
  struct in_addr ip;
  inet_pton (AF_INET, ADDR_A, &ip);
  struct
  {
    const char *op;
    int ret;
  } cases[4];
  struct al_error errs[4] = { 0 };
  cases[0].op = "bring up link `nope0`";
  cases[0].ret = al_net_link_up ("nope0", &errs[0]);
  cases[1].op = "delete link `nope0`";
  cases[1].ret = al_net_link_del ("nope0", &errs[1]);
  cases[2].op = "add address 10.200.0.1/30 to `nope0`";
  cases[2].ret = al_net_addr_add ("nope0", AF_INET, &ip, 30, &errs[2]);
  cases[3].op = "default route via 10.200.0.1 dev `nope0`";
  cases[3].ret = al_net_route_default ("nope0", &ip, &errs[3]);
  for (int i = 0; i < 4; i++)
    {
      job->err = errs[i];
      CHECK (job, cases[i].ret == -ENODEV && errs[i].errnum == ENODEV, "%s: ret %d", cases[i].op,
             cases[i].ret);
      CHECK (job, strstr (errs[i].msg, cases[i].op) && strstr (errs[i].msg, strerror (ENODEV)),
             "message does not say `%s`: %s", cases[i].op, errs[i].msg);
      CHECK (job, strchr (errs[i].msg, '\n') == NULL, "message is not one line: %s", errs[i].msg);
    }
  /* 15 bytes is a valid name: it gets as far as the kernel. */
  job->ret = al_net_link_up ("abcdefghijklmno", &job->err);
  CHECK (job, job->ret == -ENODEV, "15-byte name: ret %d, want -ENODEV", job->ret);
  return 0;
}

Test (network, nonexistent_ifname_is_named)
{
  cleanup_close int a = new_netns ();
  ASSERT_RUN (a, child_missing_ifname, &jobs[0]);
}

/* Any netlink socket from here on kills the child (SIGSYS): the names
 * must be refused before. */
static int
child_bad_names_no_netlink (struct job *job)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  CHECK (job, ctx != NULL, "seccomp_init");
  CHECK (job,
         seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS (socket), 1,
                           SCMP_A0 (SCMP_CMP_EQ, AF_NETLINK))
             == 0,
         "seccomp_rule_add");
  CHECK (job, seccomp_load (ctx) == 0, "seccomp_load");
  seccomp_release (ctx);

  const char *too_long = "abcdefghijklmnop"; /* 16 bytes */
  const char *bad[] = { too_long, "", ".", "..", "a/b", "a:b", "a b" };
  struct in_addr ip;
  inet_pton (AF_INET, ADDR_A, &ip);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct al_error e[6] = { 0 };
      int r[6];
      r[0] = al_net_link_up (bad[i], &e[0]);
      r[1] = al_net_link_del (bad[i], &e[1]);
      r[2] = al_net_addr_add (bad[i], AF_INET, &ip, 30, &e[2]);
      r[3] = al_net_route_default (bad[i], &ip, &e[3]);
      r[4] = al_net_veth_create (bad[i], "ok0", -1, &e[4]);
      r[5] = al_net_veth_create ("ok0", bad[i], -1, &e[5]);
      for (int k = 0; k < 6; k++)
        {
          job->err = e[k];
          CHECK (job, r[k] == -EINVAL && e[k].errnum == EINVAL, "name `%s` call %d: ret %d", bad[i],
                 k, r[k]);
          CHECK (job,
                 bad[i][0] == '\0' ? strstr (e[k].msg, "empty") != NULL
                                   : strstr (e[k].msg, bad[i]) != NULL,
                 "name `%s` call %d: message does not name it: %s", bad[i], k, e[k].msg);
        }
    }
  return 0;
}

Test (network, bad_names_refused_before_netlink)
{
  cleanup_close int a = new_netns ();
  int rc = run_in (a, child_bad_names_no_netlink, &jobs[0]);
  cr_assert_neq (rc, 128 + SIGSYS, "a netlink socket was opened for a bad name");
  cr_assert_eq (rc, 0, "exit %d: %s [err: %s]", rc, jobs[0].note, jobs[0].err.msg);
}

static int
child_bad_peer_fd (struct job *job)
{
  cleanup_close int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  cleanup_close int uts = open ("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  int closed = dup (devnull);
  close (closed);
  CHECK (job, devnull >= 0 && uts >= 0 && closed >= 0, "open test fds");
  struct
  {
    int fd;
    int errnum;
  } cases[] = { { devnull, EINVAL }, { uts, EINVAL }, { closed, EBADF } };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      job->ret = al_net_veth_create (HOST_IF, PEER_IF, cases[i].fd, &job->err);
      CHECK (job, job->ret == -cases[i].errnum, "fd %d: ret %d, want %d", cases[i].fd, job->ret,
             -cases[i].errnum);
      char fdtext[32];
      snprintf (fdtext, sizeof fdtext, "fd %d", cases[i].fd);
      CHECK (job,
             strstr (job->err.msg, "`" HOST_IF "` <-> `" PEER_IF "`")
                 && strstr (job->err.msg, fdtext),
             "message does not name the pair and the fd: %s", job->err.msg);
      char links[256];
      link_list (links, sizeof links);
      CHECK (job, strcmp (links, "lo") == 0, "fd %d: links left: %s", cases[i].fd, links);
    }
  return 0;
}

Test (network, invalid_peer_netns_fd_leaves_nothing)
{
  cleanup_close int a = new_netns ();
  ASSERT_RUN (a, child_bad_peer_fd, &jobs[0]);
}

/* The kernel refuses (peer name taken in B): nothing is left in A. */
static int
child_make_taken_peer (struct job *job)
{
  job->ret = al_net_veth_create ("other0", PEER_IF, -1, &job->err);
  CHECK (job, job->ret == 0, "veth other0/" PEER_IF " in B = %d", job->ret);
  return 0;
}

static int
child_create_conflict (struct job *job)
{
  job->ret = al_net_veth_create (HOST_IF, PEER_IF, job->peer_fd, &job->err);
  CHECK (job, job->ret == -EEXIST, "ret %d, want -EEXIST", job->ret);
  CHECK (job, strstr (job->err.msg, "create veth pair `" HOST_IF "` <-> `" PEER_IF "`"),
         "message: %s", job->err.msg);
  char links[256];
  link_list (links, sizeof links);
  CHECK (job, strcmp (links, "lo") == 0, "links left in A: %s", links);
  return 0;
}

static int
child_expect_b_untouched (struct job *job)
{
  char links[256];
  link_list (links, sizeof links);
  CHECK (job, strcmp (links, "lo " PEER_IF " other0") == 0, "links in B: %s", links);
  return 0;
}

Test (network, kernel_refusal_leaves_nothing)
{
  cleanup_close int a = new_netns ();
  cleanup_close int b = new_netns ();
  ASSERT_RUN (b, child_make_taken_peer, &jobs[0]);
  jobs[1].peer_fd = b;
  ASSERT_RUN (a, child_create_conflict, &jobs[1]);
  ASSERT_RUN (b, child_expect_b_untouched, &jobs[2]);
}
