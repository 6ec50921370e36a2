/* init.h — the container init: what runs in the clone3() child.
 *
 * The parent (airlock create) and the init talk over a SOCK_SEQPACKET
 * socketpair, one struct al_sync_msg per message:
 *
 *   parent -> init  AL_SYNC_GO      id maps written, cgroup entered
 *   init -> parent  AL_SYNC_READY   set up; now waiting for `start`
 *   init -> parent  AL_SYNC_ERROR   setup failed: errnum + message
 *
 * After READY the init blocks reading the exec fifo (state dir
 * exec.fifo, opened O_RDWR before pivot_root); `airlock start` writes one
 * byte into it, and the init runs startContainer hooks, loads seccomp and
 * execve()s.  The init never returns: it execs or _exit()s.
 */
#ifndef AL_INIT_H
#define AL_INIT_H

#include <stdbool.h>

#include "error.h"
#include "oci_config.h"

enum al_sync_type
{
  AL_SYNC_GO = 1,
  AL_SYNC_READY,
  AL_SYNC_ERROR,
};

struct al_sync_msg
{
  int type;
  int errnum;
  char msg[AL_ERROR_MSG_MAX];
};

struct al_init_ctx
{
  const struct al_config *config;
  int sync_fd;     /* init's end of the socketpair */
  int fifo_fd;     /* exec.fifo, O_RDWR */
  const char *bundle;
  bool no_pivot;
  int preserve_fds; /* fds 3 .. 3+N-1 survive into the container */
  bool new_userns;
};

__attribute__ ((noreturn)) void al_init_run (const struct al_init_ctx *ctx);

int al_sync_send (int fd, int type, const struct al_error *err);
int al_sync_recv (int fd, struct al_sync_msg *msg, struct al_error *err);

#endif
