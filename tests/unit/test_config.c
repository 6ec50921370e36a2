/* Unit tests for config.json parsing (oci_config) and the position locator
 * (json_pos).  JSON in this file is written with single quotes and turned
 * into real JSON by J(), so the documents stay readable; positions in the
 * expected messages refer to the converted text (same length). */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "file.h"
#include "json_pos.h"
#include "oci_config.h"

/* ------------------------------------------------------------------ helpers */

/* 'single' quotes become "double" quotes. */
static char *
J (const char *s)
{
  char *d = strdup (s);
  cr_assert_not_null (d);
  for (char *p = d; *p; p++)
    if (*p == '\'')
      *p = '"';
  return d;
}

static struct al_config *
parse_ok (const char *single_quoted)
{
  cleanup_free char *json = J (single_quoted);
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  int r = al_config_parse (json, strlen (json), "config.json", &c, &err);
  cr_assert_eq (r, 0, "parse failed: %s", err.msg);
  cr_assert_not_null (c);
  return c;
}

static void
expect_raw_error (const char *json, size_t len, const char *msg)
{
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  int r = al_config_parse (json, len, "config.json", &c, &err);
  cr_assert_eq (r, -EINVAL, "expected failure with \"%s\", got r=%d msg=\"%s\"", msg, r, err.msg);
  cr_assert_null (c);
  cr_assert_eq (err.errnum, EINVAL);
  cr_assert_str_eq (err.msg, msg);
}

static void
expect_error (const char *single_quoted, const char *msg)
{
  cleanup_free char *json = J (single_quoted);
  expect_raw_error (json, strlen (json), msg);
}

/* A minimal valid document with `extra` spliced in after root (extra starts
 * with a comma).  Line 1 is "{", line 2 ociVersion, line 3 root, line 4 extra. */
static char *
doc (const char *extra)
{
  char *s = NULL;
  cr_assert_geq (asprintf (&s,
                           "{\n"
                           "'ociVersion': '1.2.0',\n"
                           "'root': {'path': 'rootfs'}\n"
                           "%s\n"
                           "}\n",
                           extra),
                 0);
  char *j = J (s);
  free (s);
  return j;
}

static struct al_config *
doc_ok (const char *extra)
{
  cleanup_free char *json = doc (extra);
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  int r = al_config_parse (json, strlen (json), "config.json", &c, &err);
  cr_assert_eq (r, 0, "parse failed: %s\n%s", err.msg, json);
  return c;
}

static void
doc_error (const char *extra, const char *msg)
{
  cleanup_free char *json = doc (extra);
  expect_raw_error (json, strlen (json), msg);
}

/* ----------------------------------------------------------------- json_pos */

static size_t
find (const char *json, const struct al_json_path_elem *path, size_t n, size_t *ret_offset)
{
  return al_json_pos_find (json, strlen (json), path, n, ret_offset);
}

#define K(k) { .key = (k) }
#define I(i) { .key = NULL, .index = (i) }

Test (json_pos, nested_objects_and_arrays)
{
  const char *j = "{\"a\": {\"b\": [1, {\"c\": \"x\"}, [true, null]]}, \"d\": 4}";
  size_t off;
  struct al_json_path_elem p1[] = { K ("a"), K ("b"), I (1), K ("c") };
  cr_assert_eq (find (j, p1, 4, &off), 4);
  cr_assert_eq (off, (size_t) (strstr (j, "\"x\"") - j));

  struct al_json_path_elem p2[] = { K ("a"), K ("b"), I (2), I (1) };
  cr_assert_eq (find (j, p2, 4, &off), 4);
  cr_assert_eq (off, (size_t) (strstr (j, "null") - j));

  struct al_json_path_elem p3[] = { K ("d") };
  cr_assert_eq (find (j, p3, 1, &off), 1);
  cr_assert_eq (j[off], '4');

  struct al_json_path_elem p4[] = { K ("a"), K ("b") };
  cr_assert_eq (find (j, p4, 2, &off), 2);
  cr_assert_eq (j[off], '[');

  cr_assert_eq (find (j, NULL, 0, &off), 0);
  cr_assert_eq (off, 0);
}

Test (json_pos, missing_member_stops_at_enclosing_value)
{
  const char *j = "  {\"a\": {\"b\": [10, 20]}}";
  size_t off;
  struct al_json_path_elem p1[] = { K ("a"), K ("zz"), K ("y") };
  cr_assert_eq (find (j, p1, 3, &off), 1);
  cr_assert_eq (off, (size_t) (strstr (j, "{\"b\"") - j));

  struct al_json_path_elem p2[] = { K ("a"), K ("b"), I (2) };
  cr_assert_eq (find (j, p2, 3, &off), 2);
  cr_assert_eq (j[off], '[');

  /* indexing an object or naming a member of an array goes no further */
  struct al_json_path_elem p3[] = { I (0) };
  cr_assert_eq (find (j, p3, 1, &off), 0);
  cr_assert_eq (off, 2);
  struct al_json_path_elem p4[] = { K ("a"), K ("b"), K ("x") };
  cr_assert_eq (find (j, p4, 3, &off), 2);

  /* empty containers */
  struct al_json_path_elem p5[] = { I (0) };
  cr_assert_eq (find ("[ ]", p5, 1, &off), 0);
  struct al_json_path_elem p6[] = { K ("a") };
  cr_assert_eq (find ("{ }", p6, 1, &off), 0);
}

Test (json_pos, duplicate_keys_resolve_to_the_last)
{
  const char *j = "{\"a\": 1, \"b\": {\"x\": 0}, \"a\": [7, 8], \"c\": 3}";
  size_t off;
  struct al_json_path_elem p[] = { K ("a"), I (1) };
  cr_assert_eq (find (j, p, 2, &off), 2);
  cr_assert_eq (j[off], '8');

  const char *j2 = "{\"a\": {\"k\": 1}, \"a\": {\"m\": 2}}";
  struct al_json_path_elem p2[] = { K ("a"), K ("k") };
  cr_assert_eq (find (j2, p2, 2, &off), 1, "the last \"a\" has no \"k\"");
  cr_assert_eq (off, (size_t) (strstr (j2, "{\"m\"") - j2));
}

Test (json_pos, strings_with_escapes_and_brackets)
{
  const char *j = "{\"k\\\"}{\": \"v}],\\\"{[\", \"x\": [\"[{\\\"\", \"\\u0041,\", 5], "
                  "\"a\\u0062\": true}";
  size_t off;
  struct al_json_path_elem p1[] = { K ("x"), I (2) };
  cr_assert_eq (find (j, p1, 2, &off), 2);
  cr_assert_eq (j[off], '5');

  struct al_json_path_elem p2[] = { K ("k\"}{") };
  cr_assert_eq (find (j, p2, 1, &off), 1);
  cr_assert_eq (off, (size_t) (strstr (j, "\"v}]") - j));

  /* keys are compared decoded: "a\u0062" is "ab" */
  struct al_json_path_elem p3[] = { K ("ab") };
  cr_assert_eq (find (j, p3, 1, &off), 1);
  cr_assert_eq (j[off], 't');
}

Test (json_pos, numbers_next_to_punctuation)
{
  const char *j = "[1,-2.5e3,3,{\"a\":-0,\"b\":false}]";
  size_t off;
  struct al_json_path_elem p1[] = { I (2) };
  cr_assert_eq (find (j, p1, 1, &off), 1);
  cr_assert_eq (off, 10);
  struct al_json_path_elem p2[] = { I (3), K ("b") };
  cr_assert_eq (find (j, p2, 2, &off), 2);
  cr_assert_eq (off, (size_t) (strstr (j, "false") - j));
}

Test (json_pos, unicode_columns_count_characters)
{
  /* "é" and "ü" are two bytes each, "€" three: columns count characters */
  const char *j = "{\"é\": {\"ü\": \"€€\", \"k\": 1}}";
  size_t off, line, col;
  struct al_json_path_elem p[] = { K ("é"), K ("k") };
  cr_assert_eq (find (j, p, 2, &off), 2);
  cr_assert_eq (j[off], '1');
  al_json_pos_line_col (j, strlen (j), off, &line, &col);
  cr_assert_eq (line, 1);
  cr_assert_eq (col, 24);
}

Test (json_pos, crlf_line_endings)
{
  const char *j = "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    2\r\n  ]\r\n}\r\n";
  size_t off, line, col;
  struct al_json_path_elem p[] = { K ("b"), I (0) };
  cr_assert_eq (find (j, p, 2, &off), 2);
  al_json_pos_line_col (j, strlen (j), off, &line, &col);
  cr_assert_eq (line, 4);
  cr_assert_eq (col, 5);
  struct al_json_path_elem p2[] = { K ("a") };
  find (j, p2, 1, &off);
  al_json_pos_line_col (j, strlen (j), off, &line, &col);
  cr_assert_eq (line, 2);
  cr_assert_eq (col, 8);
}

Test (json_pos, broken_text_never_crashes)
{
  size_t off;
  struct al_json_path_elem p[] = { K ("a"), I (5), K ("b") };
  const char *inputs[] = { "", "   ", "{", "{\"a\"", "{\"a\":", "{\"a\": [1, 2", "{\"a\": [1,, 2]}",
                           "[", "{\"a\" 1}", "\"", "{\"a\": [1 2 3 4 5 6]}", "nul" };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
    {
      size_t depth = find (inputs[i], p, 3, &off);
      cr_assert_leq (depth, 1, "input %zu", i);
      cr_assert_leq (off, strlen (inputs[i]));
    }
  cr_assert_eq (al_json_pos_find (NULL, 0, p, 3, &off), 0);
  cr_assert_eq (off, 0);
  /* the buffer is not NUL-terminated: never look past len */
  cr_assert_eq (al_json_pos_find ("{\"a\": 1}", 5, p, 1, &off), 0);
}

Test (json_pos, line_col_basics)
{
  size_t line, col;
  al_json_pos_line_col ("ab\ncd", 5, 0, &line, &col);
  cr_assert (line == 1 && col == 1);
  al_json_pos_line_col ("ab\ncd", 5, 4, &line, &col);
  cr_assert (line == 2 && col == 2);
  al_json_pos_line_col ("ab\ncd", 5, 99, &line, &col); /* clamped to the end */
  cr_assert (line == 2 && col == 3);
  al_json_pos_line_col ("", 0, 0, &line, &col);
  cr_assert (line == 1 && col == 1);
}

/* --------------------------------------------------------- full and minimal */

static const char full_config[] =
  "{\n"
  "  'ociVersion': '1.2.0',\n"
  "  'process': {\n"
  "    'terminal': true,\n"
  "    'consoleSize': {'height': 25, 'width': 80},\n"
  "    'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 4294967295],\n"
  "             'username': 'me'},\n"
  "    'args': ['sh', '-c', 'echo hi'],\n"
  "    'commandLine': 'ignored on Linux',\n"
  "    'env': ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'EMPTY='],\n"
  "    'cwd': '/work',\n"
  "    'capabilities': {\n"
  "      'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
  "      'effective': ['CAP_AUDIT_WRITE', 'CAP_KILL'],\n"
  "      'inheritable': [],\n"
  "      'permitted': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
  "      'ambient': ['CAP_NET_BIND_SERVICE']\n"
  "    },\n"
  "    'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 4096, 'soft': 1024},\n"
  "                {'type': 'RLIMIT_CORE', 'hard': 18446744073709551615, 'soft': 0}],\n"
  "    'noNewPrivileges': true,\n"
  "    'apparmorProfile': 'airlock-default',\n"
  "    'oomScoreAdj': -500,\n"
  "    'selinuxLabel': 'system_u:system_r:container_t:s0:c1,c2',\n"
  "    'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 4},\n"
  "    'scheduler': {'policy': 'SCHED_DEADLINE', 'nice': -5, 'priority': 3,\n"
  "                  'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM'],\n"
  "                  'runtime': 10000000, 'deadline': 20000000, 'period': 30000000},\n"
  "    'execCPUAffinity': {'initial': '0-3', 'final': '7'}\n"
  "  },\n"
  "  'root': {'path': 'rootfs', 'readonly': true},\n"
  "  'hostname': 'box',\n"
  "  'domainname': 'example.org',\n"
  "  'mounts': [\n"
  "    {'destination': '/proc', 'type': 'proc', 'source': 'proc'},\n"
  "    {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',\n"
  "     'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},\n"
  "    {'destination': '/data', 'type': 'bind', 'source': '/srv/data',\n"
  "     'options': ['rbind', 'ro'],\n"
  "     'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],\n"
  "     'gidMappings': [{'containerID': 1, 'hostID': 200000, 'size': 1000}]}\n"
  "  ],\n"
  "  'hooks': {\n"
  "    'prestart': [{'path': '/usr/bin/fix-mounts', 'args': ['fix-mounts', 'arg1'],\n"
  "                  'env': ['key1=value1']}],\n"
  "    'createRuntime': [{'path': '/usr/bin/cr', 'timeout': 5}],\n"
  "    'createContainer': [{'path': '/usr/bin/cc'}],\n"
  "    'startContainer': [{'path': '/usr/bin/sc'}],\n"
  "    'poststart': [{'path': '/usr/bin/notify-start', 'timeout': 7}],\n"
  "    'poststop': [{'path': '/usr/sbin/cleanup.sh', 'args': ['cleanup.sh', '-f']},\n"
  "                 {'path': '/bin/true'}]\n"
  "  },\n"
  "  'annotations': {'com.example.key1': 'value1', 'com.example.key2': 'value2'},\n"
  "  'linux': {\n"
  "    'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/x'},\n"
  "                   {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': 'user'},\n"
  "                   {'type': 'cgroup'}, {'type': 'time'}],\n"
  "    'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 32000}],\n"
  "    'gidMappings': [{'containerID': 0, 'hostID': 2000, 'size': 16000},\n"
  "                    {'containerID': 16000, 'hostID': 40000, 'size': 1}],\n"
  "    'timeOffsets': {'monotonic': {'secs': 172800, 'nanosecs': 0},\n"
  "                    'boottime': {'secs': -3600, 'nanosecs': 500}},\n"
  "    'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,\n"
  "                 'fileMode': 438, 'uid': 0, 'gid': 5},\n"
  "                {'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0},\n"
  "                {'path': '/dev/pipe', 'type': 'p'}],\n"
  "    'cgroupsPath': '/myRuntime/myContainer',\n"
  "    'resources': {\n"
  "      'devices': [{'allow': false, 'access': 'rwm'},\n"
  "                  {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'}],\n"
  "      'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': -1, 'kernel': -1,\n"
  "                 'kernelTCP': 1048576, 'swappiness': 0, 'disableOOMKiller': false,\n"
  "                 'useHierarchy': true, 'checkBeforeUpdate': true},\n"
  "      'cpu': {'shares': 1024, 'quota': 1000000, 'burst': 1000, 'period': 500000,\n"
  "              'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '2-3',\n"
  "              'mems': '0-7', 'idle': 1},\n"
  "      'pids': {'limit': 32771},\n"
  "      'blockIO': {'weight': 10, 'leafWeight': 20,\n"
  "                  'weightDevice': [{'major': 8, 'minor': 0, 'weight': 500, 'leafWeight': 300},\n"
  "                                   {'major': 8, 'minor': 16, 'weight': 400}],\n"
  "                  'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 600}],\n"
  "                  'throttleWriteBpsDevice': [{'major': 8, 'minor': 16, 'rate': 300}],\n"
  "                  'throttleReadIOPSDevice': [{'major': 8, 'minor': 32, 'rate': 60}],\n"
  "                  'throttleWriteIOPSDevice': [{'major': 8, 'minor': 48, 'rate': 30}]},\n"
  "      'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200},\n"
  "                         {'pageSize': '64KB', 'limit': 1000000}],\n"
  "      'network': {'classID': 1048577,\n"
  "                  'priorities': [{'name': 'eth0', 'priority': 500},\n"
  "                                 {'name': 'eth1', 'priority': 1000}]},\n"
  "      'rdma': {'mlx5_1': {'hcaHandles': 3, 'hcaObjects': 10000},\n"
  "               'mlx4_0': {'hcaObjects': 1000}},\n"
  "      'unified': {'io.max': '8:0 rbps=1024', 'memory.high': '1073741824'}\n"
  "    },\n"
  "    'sysctl': {'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '256'},\n"
  "    'seccomp': {\n"
  "      'defaultAction': 'SCMP_ACT_ERRNO',\n"
  "      'defaultErrnoRet': 1,\n"
  "      'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32',\n"
  "                        'SCMP_ARCH_AARCH64'],\n"
  "      'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],\n"
  "      'listenerPath': '/run/seccomp-agent.socket',\n"
  "      'listenerMetadata': 'meta',\n"
  "      'syscalls': [\n"
  "        {'names': ['getcwd', 'chmod'], 'action': 'SCMP_ACT_ALLOW'},\n"
  "        {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',\n"
  "         'args': [{'index': 0, 'value': 131072, 'op': 'SCMP_CMP_EQ'},\n"
  "                  {'index': 5, 'value': 18446744073709551615, 'valueTwo': 8,\n"
  "                   'op': 'SCMP_CMP_MASKED_EQ'}]},\n"
  "        {'names': ['mount'], 'action': 'SCMP_ACT_NOTIFY'},\n"
  "        {'names': ['ptrace'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38}\n"
  "      ]\n"
  "    },\n"
  "    'rootfsPropagation': 'rslave',\n"
  "    'maskedPaths': ['/proc/kcore', '/proc/keys'],\n"
  "    'readonlyPaths': ['/proc/bus', '/proc/sys', '/proc/sysrq-trigger'],\n"
  "    'mountLabel': 'system_u:object_r:container_file_t:s0:c1,c2',\n"
  "    'intelRdt': {'closID': 'guaranteed_group', 'l3CacheSchema': 'L3:0=7f0;1=1f',\n"
  "                 'memBwSchema': 'MB:0=20;1=70', 'schemata': ['L2:0=ff'],\n"
  "                 'enableMonitoring': true, 'enableCMT': true, 'enableMBM': false},\n"
  "    'personality': {'domain': 'LINUX32', 'flags': []}\n"
  "  }\n"
  "}\n";

static void
assert_strv (char **v, size_t n, const char *const *want, size_t n_want)
{
  cr_assert_eq (n, n_want);
  for (size_t i = 0; i < n; i++)
    cr_assert_str_eq (v[i], want[i]);
  cr_assert_null (v[n], "string lists are NULL-terminated");
}

#define ASSERT_STRV(v, n, ...)                                                                     \
  do                                                                                               \
    {                                                                                              \
      const char *const want_[] = { __VA_ARGS__ };                                                 \
      assert_strv ((v), (n), want_, sizeof want_ / sizeof want_[0]);                               \
    }                                                                                              \
  while (0)

static void
check_full_process (const struct al_process *p)
{
  cr_assert (p->terminal);
  cr_assert (p->has_console_size);
  cr_assert_eq (p->console_height, 25);
  cr_assert_eq (p->console_width, 80);
  cr_assert_eq (p->user.uid, 1000);
  cr_assert_eq (p->user.gid, 1001);
  cr_assert (p->user.has_umask);
  cr_assert_eq (p->user.umask, 18);
  cr_assert_eq (p->user.n_additional_gids, 2);
  cr_assert_eq (p->user.additional_gids[0], 5);
  cr_assert_eq (p->user.additional_gids[1], UINT32_MAX);
  cr_assert_str_eq (p->user.username, "me");
  ASSERT_STRV (p->args, p->n_args, "sh", "-c", "echo hi");
  ASSERT_STRV (p->env, p->n_env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "EMPTY=");
  cr_assert_str_eq (p->cwd, "/work");

  cr_assert (p->has_capabilities);
  const struct al_capabilities *caps = &p->capabilities;
  cr_assert_eq (caps->bounding.n, 3);
  cr_assert_eq (caps->bounding.caps[0], CAP_AUDIT_WRITE);
  cr_assert_eq (caps->bounding.caps[1], CAP_KILL);
  cr_assert_eq (caps->bounding.caps[2], CAP_NET_BIND_SERVICE);
  cr_assert_eq (caps->effective.n, 2);
  cr_assert_eq (caps->effective.caps[1], CAP_KILL);
  cr_assert_eq (caps->inheritable.n, 0);
  cr_assert_eq (caps->permitted.n, 3);
  cr_assert_eq (caps->permitted.caps[2], CAP_NET_BIND_SERVICE);
  cr_assert_eq (caps->ambient.n, 1);
  cr_assert_eq (caps->ambient.caps[0], CAP_NET_BIND_SERVICE);

  cr_assert_eq (p->n_rlimits, 2);
  cr_assert_eq (p->rlimits[0].resource, RLIMIT_NOFILE);
  cr_assert_eq (p->rlimits[0].soft, 1024);
  cr_assert_eq (p->rlimits[0].hard, 4096);
  cr_assert_eq (p->rlimits[1].resource, RLIMIT_CORE);
  cr_assert_eq (p->rlimits[1].soft, 0);
  cr_assert_eq (p->rlimits[1].hard, UINT64_MAX, "RLIM_INFINITY survives jansson");

  cr_assert (p->no_new_privileges);
  cr_assert_str_eq (p->apparmor_profile, "airlock-default");
  cr_assert (p->has_oom_score_adj);
  cr_assert_eq (p->oom_score_adj, -500);
  cr_assert_str_eq (p->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
  cr_assert (p->has_io_priority);
  cr_assert_eq (p->io_priority_class, AL_IOPRIO_CLASS_BE);
  cr_assert_eq (p->io_priority, 4);

  cr_assert_not_null (p->scheduler);
  cr_assert_eq (p->scheduler->policy, 6 /* SCHED_DEADLINE */);
  cr_assert_eq (p->scheduler->flags, 0x01 | 0x02);
  cr_assert (p->scheduler->has_nice);
  cr_assert_eq (p->scheduler->nice, -5);
  cr_assert (p->scheduler->has_priority);
  cr_assert_eq (p->scheduler->priority, 3);
  cr_assert (p->scheduler->has_runtime && p->scheduler->has_deadline && p->scheduler->has_period);
  cr_assert_eq (p->scheduler->runtime, 10000000);
  cr_assert_eq (p->scheduler->deadline, 20000000);
  cr_assert_eq (p->scheduler->period, 30000000);
  cr_assert_str_eq (p->exec_cpu_affinity_initial, "0-3");
  cr_assert_str_eq (p->exec_cpu_affinity_final, "7");
}

static void
check_full_resources (const struct al_resources *r)
{
  cr_assert_eq (r->n_devices, 2);
  cr_assert_not (r->devices[0].allow);
  cr_assert_eq (r->devices[0].type, AL_DEVICE_RULE_ALL);
  cr_assert_eq (r->devices[0].major, -1);
  cr_assert_eq (r->devices[0].minor, -1);
  cr_assert (r->devices[0].has_access);
  cr_assert_eq (r->devices[0].access,
                AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE | AL_DEVICE_ACCESS_MKNOD);
  cr_assert (r->devices[1].allow);
  cr_assert_eq (r->devices[1].type, AL_DEVICE_RULE_CHAR);
  cr_assert_eq (r->devices[1].major, 10);
  cr_assert_eq (r->devices[1].minor, 229);
  cr_assert_eq (r->devices[1].access, AL_DEVICE_ACCESS_READ | AL_DEVICE_ACCESS_WRITE);

  const struct al_memory *m = r->memory;
  cr_assert_not_null (m);
  cr_assert (m->has_limit && m->has_reservation && m->has_swap && m->has_kernel
             && m->has_kernel_tcp && m->has_swappiness);
  cr_assert_eq (m->limit, 536870912);
  cr_assert_eq (m->reservation, 268435456);
  cr_assert_eq (m->swap, -1);
  cr_assert_eq (m->kernel, -1);
  cr_assert_eq (m->kernel_tcp, 1048576);
  cr_assert_eq (m->swappiness, 0);
  cr_assert (m->has_disable_oom_killer && m->has_use_hierarchy && m->has_check_before_update);
  cr_assert_not (m->disable_oom_killer);
  cr_assert (m->use_hierarchy);
  cr_assert (m->check_before_update);

  const struct al_cpu *cpu = r->cpu;
  cr_assert_not_null (cpu);
  cr_assert (cpu->has_shares && cpu->has_quota && cpu->has_burst && cpu->has_period
             && cpu->has_realtime_runtime && cpu->has_realtime_period && cpu->has_idle);
  cr_assert_eq (cpu->shares, 1024);
  cr_assert_eq (cpu->quota, 1000000);
  cr_assert_eq (cpu->burst, 1000);
  cr_assert_eq (cpu->period, 500000);
  cr_assert_eq (cpu->realtime_runtime, 950000);
  cr_assert_eq (cpu->realtime_period, 1000000);
  cr_assert_str_eq (cpu->cpus, "2-3");
  cr_assert_str_eq (cpu->mems, "0-7");
  cr_assert_eq (cpu->idle, 1);

  cr_assert_not_null (r->pids);
  cr_assert (r->pids->has_limit);
  cr_assert_eq (r->pids->limit, 32771);

  const struct al_block_io *b = r->block_io;
  cr_assert_not_null (b);
  cr_assert (b->has_weight && b->has_leaf_weight);
  cr_assert_eq (b->weight, 10);
  cr_assert_eq (b->leaf_weight, 20);
  cr_assert_eq (b->n_weight_devices, 2);
  cr_assert_eq (b->weight_devices[0].major, 8);
  cr_assert_eq (b->weight_devices[0].minor, 0);
  cr_assert_eq (b->weight_devices[0].weight, 500);
  cr_assert_eq (b->weight_devices[0].leaf_weight, 300);
  cr_assert (b->weight_devices[0].has_leaf_weight);
  cr_assert_eq (b->weight_devices[1].minor, 16);
  cr_assert_eq (b->weight_devices[1].weight, 400);
  cr_assert_not (b->weight_devices[1].has_leaf_weight);
  cr_assert_eq (b->throttle_read_bps.n, 1);
  cr_assert_eq (b->throttle_read_bps.devices[0].rate, 600);
  cr_assert_eq (b->throttle_write_bps.devices[0].minor, 16);
  cr_assert_eq (b->throttle_write_bps.devices[0].rate, 300);
  cr_assert_eq (b->throttle_read_iops.devices[0].minor, 32);
  cr_assert_eq (b->throttle_read_iops.devices[0].rate, 60);
  cr_assert_eq (b->throttle_write_iops.devices[0].minor, 48);
  cr_assert_eq (b->throttle_write_iops.devices[0].rate, 30);

  cr_assert_eq (r->n_hugepage_limits, 2);
  cr_assert_str_eq (r->hugepage_limits[0].page_size, "2MB");
  cr_assert_eq (r->hugepage_limits[0].limit, 209715200);
  cr_assert_str_eq (r->hugepage_limits[1].page_size, "64KB");
  cr_assert_eq (r->hugepage_limits[1].limit, 1000000);

  cr_assert_not_null (r->network);
  cr_assert (r->network->has_class_id);
  cr_assert_eq (r->network->class_id, 1048577);
  cr_assert_eq (r->network->n_priorities, 2);
  cr_assert_str_eq (r->network->priorities[0].name, "eth0");
  cr_assert_eq (r->network->priorities[0].priority, 500);
  cr_assert_str_eq (r->network->priorities[1].name, "eth1");
  cr_assert_eq (r->network->priorities[1].priority, 1000);

  cr_assert_eq (r->n_rdma, 2);
  cr_assert_str_eq (r->rdma[0].device, "mlx5_1");
  cr_assert (r->rdma[0].has_hca_handles && r->rdma[0].has_hca_objects);
  cr_assert_eq (r->rdma[0].hca_handles, 3);
  cr_assert_eq (r->rdma[0].hca_objects, 10000);
  cr_assert_str_eq (r->rdma[1].device, "mlx4_0");
  cr_assert_not (r->rdma[1].has_hca_handles);
  cr_assert_eq (r->rdma[1].hca_objects, 1000);

  cr_assert_eq (r->unified.n, 2);
  cr_assert_str_eq (al_string_map_get (&r->unified, "io.max"), "8:0 rbps=1024");
  cr_assert_str_eq (al_string_map_get (&r->unified, "memory.high"), "1073741824");
}

static void
check_full_seccomp (const struct al_seccomp *s)
{
  cr_assert_not_null (s);
  cr_assert_eq (s->default_action, AL_SECCOMP_ACT_ERRNO);
  cr_assert (s->has_default_errno_ret);
  cr_assert_eq (s->default_errno_ret, 1);
  cr_assert_eq (s->n_architectures, 4);
  cr_assert_eq (s->architectures[0], AL_SECCOMP_ARCH_X86_64);
  cr_assert_eq (s->architectures[1], AL_SECCOMP_ARCH_X86);
  cr_assert_eq (s->architectures[2], AL_SECCOMP_ARCH_X32);
  cr_assert_eq (s->architectures[3], AL_SECCOMP_ARCH_AARCH64);
  cr_assert_str_eq (al_seccomp_arch_libseccomp_name (s->architectures[0]), "x86_64");
  cr_assert_eq (s->flags, AL_SECCOMP_FLAG_LOG | AL_SECCOMP_FLAG_SPEC_ALLOW);
  cr_assert_str_eq (s->listener_path, "/run/seccomp-agent.socket");
  cr_assert_str_eq (s->listener_metadata, "meta");
  cr_assert_eq (s->n_syscalls, 4);
  ASSERT_STRV (s->syscalls[0].names, s->syscalls[0].n_names, "getcwd", "chmod");
  cr_assert_eq (s->syscalls[0].action, AL_SECCOMP_ACT_ALLOW);
  cr_assert_eq (s->syscalls[0].n_args, 0);
  const struct al_seccomp_syscall *sc = &s->syscalls[1];
  cr_assert_eq (sc->n_args, 2);
  cr_assert_eq (sc->args[0].index, 0);
  cr_assert_eq (sc->args[0].value, 131072);
  cr_assert_not (sc->args[0].has_value_two);
  cr_assert_eq (sc->args[0].op, AL_SECCOMP_OP_EQ);
  cr_assert_eq (sc->args[1].index, 5);
  cr_assert_eq (sc->args[1].value, UINT64_MAX);
  cr_assert (sc->args[1].has_value_two);
  cr_assert_eq (sc->args[1].value_two, 8);
  cr_assert_eq (sc->args[1].op, AL_SECCOMP_OP_MASKED_EQ);
  cr_assert_eq (s->syscalls[2].action, AL_SECCOMP_ACT_NOTIFY);
  cr_assert_eq (s->syscalls[3].action, AL_SECCOMP_ACT_ERRNO);
  cr_assert (s->syscalls[3].has_errno_ret);
  cr_assert_eq (s->syscalls[3].errno_ret, 38);
  cr_assert_not (s->syscalls[0].has_errno_ret);
}

Test (config, full_config_lands_in_every_field)
{
  struct al_config *c = parse_ok (full_config);

  cr_assert_str_eq (c->oci_version, "1.2.0");
  cr_assert_eq (c->version_minor, 2);
  cr_assert_eq (c->version_patch, 0);
  cr_assert_str_eq (c->root_path, "rootfs");
  cr_assert (c->root_readonly);
  cr_assert_str_eq (c->hostname, "box");
  cr_assert_str_eq (c->domainname, "example.org");
  cr_assert_not_null (c->process);
  check_full_process (c->process);

  cr_assert_eq (c->n_mounts, 3);
  cr_assert_str_eq (c->mounts[0].destination, "/proc");
  cr_assert_str_eq (c->mounts[0].type, "proc");
  cr_assert_str_eq (c->mounts[0].source, "proc");
  cr_assert_null (c->mounts[0].options);
  cr_assert_eq (c->mounts[0].n_options, 0);
  ASSERT_STRV (c->mounts[1].options, c->mounts[1].n_options, "nosuid", "strictatime", "mode=755",
               "size=65536k");
  cr_assert_str_eq (c->mounts[2].source, "/srv/data");
  cr_assert_eq (c->mounts[2].n_uid_mappings, 1);
  cr_assert_eq (c->mounts[2].uid_mappings[0].container_id, 0);
  cr_assert_eq (c->mounts[2].uid_mappings[0].host_id, 100000);
  cr_assert_eq (c->mounts[2].uid_mappings[0].size, 65536);
  cr_assert_eq (c->mounts[2].n_gid_mappings, 1);
  cr_assert_eq (c->mounts[2].gid_mappings[0].container_id, 1);
  cr_assert_eq (c->mounts[2].gid_mappings[0].host_id, 200000);
  cr_assert_eq (c->mounts[2].gid_mappings[0].size, 1000);

  const struct al_hook_list *h = c->hooks;
  cr_assert_eq (h[AL_HOOK_PRESTART].n, 1);
  cr_assert_str_eq (h[AL_HOOK_PRESTART].hooks[0].path, "/usr/bin/fix-mounts");
  ASSERT_STRV (h[AL_HOOK_PRESTART].hooks[0].args, h[AL_HOOK_PRESTART].hooks[0].n_args,
               "fix-mounts", "arg1");
  ASSERT_STRV (h[AL_HOOK_PRESTART].hooks[0].env, h[AL_HOOK_PRESTART].hooks[0].n_env,
               "key1=value1");
  cr_assert_not (h[AL_HOOK_PRESTART].hooks[0].has_timeout);
  cr_assert_str_eq (h[AL_HOOK_CREATE_RUNTIME].hooks[0].path, "/usr/bin/cr");
  cr_assert (h[AL_HOOK_CREATE_RUNTIME].hooks[0].has_timeout);
  cr_assert_eq (h[AL_HOOK_CREATE_RUNTIME].hooks[0].timeout, 5);
  cr_assert_str_eq (h[AL_HOOK_CREATE_CONTAINER].hooks[0].path, "/usr/bin/cc");
  cr_assert_str_eq (h[AL_HOOK_START_CONTAINER].hooks[0].path, "/usr/bin/sc");
  cr_assert_eq (h[AL_HOOK_POSTSTART].hooks[0].timeout, 7);
  cr_assert_eq (h[AL_HOOK_POSTSTOP].n, 2);
  cr_assert_str_eq (h[AL_HOOK_POSTSTOP].hooks[1].path, "/bin/true");
  cr_assert_null (h[AL_HOOK_POSTSTOP].hooks[1].args);

  cr_assert_eq (c->annotations.n, 2);
  cr_assert_str_eq (c->annotations.keys[0], "com.example.key1");
  cr_assert_str_eq (c->annotations.values[0], "value1");
  cr_assert_str_eq (al_string_map_get (&c->annotations, "com.example.key2"), "value2");
  cr_assert_null (al_string_map_get (&c->annotations, "nope"));
  cr_assert (json_is_object (c->annotations_json));
  cr_assert_eq (json_object_size (c->annotations_json), 2);
  cr_assert_str_eq (json_string_value (json_object_get (c->annotations_json, "com.example.key1")),
                    "value1");

  const struct al_linux *l = c->linux_spec;
  cr_assert_not_null (l);
  cr_assert_eq (l->n_namespaces, 8);
  cr_assert_eq (l->namespaces[0].type, AL_NS_PID);
  cr_assert_null (l->namespaces[0].path);
  cr_assert_eq (l->namespaces[1].type, AL_NS_NETWORK);
  cr_assert_str_eq (l->namespaces[1].path, "/var/run/netns/x");
  cr_assert_eq (l->namespaces[2].type, AL_NS_IPC);
  cr_assert_eq (l->namespaces[3].type, AL_NS_UTS);
  cr_assert_eq (l->namespaces[4].type, AL_NS_MOUNT);
  cr_assert_eq (l->namespaces[5].type, AL_NS_USER);
  cr_assert_eq (l->namespaces[6].type, AL_NS_CGROUP);
  cr_assert_eq (l->namespaces[7].type, AL_NS_TIME);
  cr_assert_eq (al_config_find_namespace (c, AL_NS_NETWORK), &l->namespaces[1]);

  cr_assert_eq (l->n_uid_mappings, 1);
  cr_assert_eq (l->uid_mappings[0].host_id, 1000);
  cr_assert_eq (l->uid_mappings[0].size, 32000);
  cr_assert_eq (l->n_gid_mappings, 2);
  cr_assert_eq (l->gid_mappings[0].host_id, 2000);
  cr_assert_eq (l->gid_mappings[1].container_id, 16000);
  cr_assert_eq (l->gid_mappings[1].host_id, 40000);
  cr_assert_eq (l->gid_mappings[1].size, 1);

  cr_assert (l->time_offset_monotonic.present);
  cr_assert_eq (l->time_offset_monotonic.secs, 172800);
  cr_assert_eq (l->time_offset_monotonic.nanosecs, 0);
  cr_assert (l->time_offset_boottime.present);
  cr_assert_eq (l->time_offset_boottime.secs, -3600);
  cr_assert_eq (l->time_offset_boottime.nanosecs, 500);

  cr_assert_eq (l->n_devices, 3);
  cr_assert_eq (l->devices[0].type, AL_DEVICE_CHAR);
  cr_assert_str_eq (l->devices[0].path, "/dev/fuse");
  cr_assert_eq (l->devices[0].major, 10);
  cr_assert_eq (l->devices[0].minor, 229);
  cr_assert (l->devices[0].has_file_mode && l->devices[0].has_uid && l->devices[0].has_gid);
  cr_assert_eq (l->devices[0].file_mode, 0666);
  cr_assert_eq (l->devices[0].uid, 0);
  cr_assert_eq (l->devices[0].gid, 5);
  cr_assert_eq (l->devices[1].type, AL_DEVICE_BLOCK);
  cr_assert_eq (l->devices[1].major, 8);
  cr_assert_not (l->devices[1].has_file_mode);
  cr_assert_eq (l->devices[2].type, AL_DEVICE_FIFO);

  cr_assert_str_eq (l->cgroups_path, "/myRuntime/myContainer");
  cr_assert_not_null (l->resources);
  check_full_resources (l->resources);

  cr_assert_eq (l->sysctl.n, 2);
  cr_assert_str_eq (al_string_map_get (&l->sysctl, "net.ipv4.ip_forward"), "1");
  cr_assert_str_eq (al_string_map_get (&l->sysctl, "net.core.somaxconn"), "256");

  check_full_seccomp (l->seccomp);

  cr_assert_eq (l->rootfs_propagation, AL_PROPAGATION_RSLAVE);
  ASSERT_STRV (l->masked_paths, l->n_masked_paths, "/proc/kcore", "/proc/keys");
  ASSERT_STRV (l->readonly_paths, l->n_readonly_paths, "/proc/bus", "/proc/sys",
               "/proc/sysrq-trigger");
  cr_assert_str_eq (l->mount_label, "system_u:object_r:container_file_t:s0:c1,c2");

  cr_assert_not_null (l->intel_rdt);
  cr_assert_str_eq (l->intel_rdt->clos_id, "guaranteed_group");
  cr_assert_str_eq (l->intel_rdt->l3_cache_schema, "L3:0=7f0;1=1f");
  cr_assert_str_eq (l->intel_rdt->mem_bw_schema, "MB:0=20;1=70");
  ASSERT_STRV (l->intel_rdt->schemata, l->intel_rdt->n_schemata, "L2:0=ff");
  cr_assert (l->intel_rdt->enable_monitoring);
  cr_assert (l->intel_rdt->enable_cmt);
  cr_assert_not (l->intel_rdt->enable_mbm);

  cr_assert_not_null (l->personality);
  cr_assert_eq (l->personality->domain, AL_PERSONALITY_LINUX32);
  cr_assert_eq (l->personality->n_flags, 0);
  cr_assert_not_null (l->personality->flags, "an empty list is present, not absent");

  al_config_free (c);
}

/* What `runc spec` writes (runc 1.1), verbatim apart from quoting. */
static const char runc_spec[] =
  "{\n"
  "\t'ociVersion': '1.0.2-dev',\n"
  "\t'process': {\n"
  "\t\t'terminal': true,\n"
  "\t\t'user': {\n"
  "\t\t\t'uid': 0,\n"
  "\t\t\t'gid': 0\n"
  "\t\t},\n"
  "\t\t'args': [\n"
  "\t\t\t'sh'\n"
  "\t\t],\n"
  "\t\t'env': [\n"
  "\t\t\t'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',\n"
  "\t\t\t'TERM=xterm'\n"
  "\t\t],\n"
  "\t\t'cwd': '/',\n"
  "\t\t'capabilities': {\n"
  "\t\t\t'bounding': [\n"
  "\t\t\t\t'CAP_AUDIT_WRITE',\n"
  "\t\t\t\t'CAP_KILL',\n"
  "\t\t\t\t'CAP_NET_BIND_SERVICE'\n"
  "\t\t\t],\n"
  "\t\t\t'effective': [\n"
  "\t\t\t\t'CAP_AUDIT_WRITE',\n"
  "\t\t\t\t'CAP_KILL',\n"
  "\t\t\t\t'CAP_NET_BIND_SERVICE'\n"
  "\t\t\t],\n"
  "\t\t\t'permitted': [\n"
  "\t\t\t\t'CAP_AUDIT_WRITE',\n"
  "\t\t\t\t'CAP_KILL',\n"
  "\t\t\t\t'CAP_NET_BIND_SERVICE'\n"
  "\t\t\t],\n"
  "\t\t\t'ambient': [\n"
  "\t\t\t\t'CAP_AUDIT_WRITE',\n"
  "\t\t\t\t'CAP_KILL',\n"
  "\t\t\t\t'CAP_NET_BIND_SERVICE'\n"
  "\t\t\t]\n"
  "\t\t},\n"
  "\t\t'rlimits': [\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'RLIMIT_NOFILE',\n"
  "\t\t\t\t'hard': 1024,\n"
  "\t\t\t\t'soft': 1024\n"
  "\t\t\t}\n"
  "\t\t],\n"
  "\t\t'noNewPrivileges': true\n"
  "\t},\n"
  "\t'root': {\n"
  "\t\t'path': 'rootfs',\n"
  "\t\t'readonly': true\n"
  "\t},\n"
  "\t'hostname': 'runc',\n"
  "\t'mounts': [\n"
  "\t\t{\n"
  "\t\t\t'destination': '/proc',\n"
  "\t\t\t'type': 'proc',\n"
  "\t\t\t'source': 'proc'\n"
  "\t\t},\n"
  "\t\t{\n"
  "\t\t\t'destination': '/dev',\n"
  "\t\t\t'type': 'tmpfs',\n"
  "\t\t\t'source': 'tmpfs',\n"
  "\t\t\t'options': [\n"
  "\t\t\t\t'nosuid',\n"
  "\t\t\t\t'strictatime',\n"
  "\t\t\t\t'mode=755',\n"
  "\t\t\t\t'size=65536k'\n"
  "\t\t\t]\n"
  "\t\t},\n"
  "\t\t{\n"
  "\t\t\t'destination': '/sys/fs/cgroup',\n"
  "\t\t\t'type': 'cgroup',\n"
  "\t\t\t'source': 'cgroup',\n"
  "\t\t\t'options': [\n"
  "\t\t\t\t'nosuid',\n"
  "\t\t\t\t'noexec',\n"
  "\t\t\t\t'nodev',\n"
  "\t\t\t\t'relatime',\n"
  "\t\t\t\t'ro'\n"
  "\t\t\t]\n"
  "\t\t}\n"
  "\t],\n"
  "\t'linux': {\n"
  "\t\t'resources': {\n"
  "\t\t\t'devices': [\n"
  "\t\t\t\t{\n"
  "\t\t\t\t\t'allow': false,\n"
  "\t\t\t\t\t'access': 'rwm'\n"
  "\t\t\t\t}\n"
  "\t\t\t]\n"
  "\t\t},\n"
  "\t\t'namespaces': [\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'pid'\n"
  "\t\t\t},\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'network'\n"
  "\t\t\t},\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'ipc'\n"
  "\t\t\t},\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'uts'\n"
  "\t\t\t},\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'mount'\n"
  "\t\t\t},\n"
  "\t\t\t{\n"
  "\t\t\t\t'type': 'cgroup'\n"
  "\t\t\t}\n"
  "\t\t],\n"
  "\t\t'maskedPaths': [\n"
  "\t\t\t'/proc/acpi',\n"
  "\t\t\t'/proc/asound',\n"
  "\t\t\t'/proc/kcore',\n"
  "\t\t\t'/proc/keys',\n"
  "\t\t\t'/proc/latency_stats',\n"
  "\t\t\t'/proc/timer_list',\n"
  "\t\t\t'/proc/timer_stats',\n"
  "\t\t\t'/proc/sched_debug',\n"
  "\t\t\t'/sys/firmware',\n"
  "\t\t\t'/proc/scsi'\n"
  "\t\t],\n"
  "\t\t'readonlyPaths': [\n"
  "\t\t\t'/proc/bus',\n"
  "\t\t\t'/proc/fs',\n"
  "\t\t\t'/proc/irq',\n"
  "\t\t\t'/proc/sys',\n"
  "\t\t\t'/proc/sysrq-trigger'\n"
  "\t\t]\n"
  "\t}\n"
  "}";

Test (config, runc_spec_output_parses)
{
  struct al_config *c = parse_ok (runc_spec);
  cr_assert_str_eq (c->oci_version, "1.0.2-dev");
  cr_assert_eq (c->version_minor, 0);
  cr_assert_eq (c->version_patch, 2);
  cr_assert_str_eq (c->hostname, "runc");
  cr_assert_eq (c->n_mounts, 3);
  cr_assert_str_eq (c->mounts[2].destination, "/sys/fs/cgroup");
  cr_assert_eq (c->linux_spec->n_namespaces, 6);
  cr_assert_null (al_config_find_namespace (c, AL_NS_USER));
  cr_assert_eq (c->linux_spec->n_masked_paths, 10);
  cr_assert_str_eq (c->linux_spec->masked_paths[9], "/proc/scsi");
  cr_assert_eq (c->process->capabilities.ambient.n, 3);
  cr_assert_eq (c->process->capabilities.inheritable.n, 0);
  cr_assert_null (c->linux_spec->resources->memory);
  cr_assert_null (c->linux_spec->seccomp);
  cr_assert_eq (c->linux_spec->rootfs_propagation, AL_PROPAGATION_UNSET);
  al_config_free (c);
}

Test (config, minimal_config_has_everything_absent)
{
  struct al_config *c = parse_ok ("{'ociVersion': '1.0.0', 'root': {'path': 'r'}}");
  cr_assert_str_eq (c->oci_version, "1.0.0");
  cr_assert_str_eq (c->root_path, "r");
  cr_assert_not (c->root_readonly);
  cr_assert_null (c->process);
  cr_assert_null (c->hostname);
  cr_assert_null (c->domainname);
  cr_assert_null (c->mounts);
  cr_assert_eq (c->n_mounts, 0);
  for (int k = 0; k < AL_HOOK__COUNT; k++)
    cr_assert_eq (c->hooks[k].n, 0);
  cr_assert_eq (c->annotations.n, 0);
  cr_assert_null (c->annotations_json);
  cr_assert_null (c->linux_spec);
  cr_assert_null (al_config_find_namespace (c, AL_NS_PID));
  al_config_free (c);
  al_config_free (NULL);
}

Test (config, unknown_fields_are_ignored_at_every_level)
{
  struct al_config *c
    = doc_ok (",'future': {'x': [1, 2, {'y': null}]}, 'windows': {'layerFolders': 5},"
              "'process': {'args': ['a'], 'cwd': '/', 'newThing': true, 'user': {'uid': 1, "
              "'gid': 2, 'sid': 'S-1'}},"
              "'linux': {'netDevices': {'eth0': {'name': 'x'}}, 'memoryPolicy': {},"
              "'resources': {'memory': {'limit': 5, 'extra': 'x'}, 'freezer': 1}},"
              "'vm': {'hypervisor': {'path': 'rel'}}, 'big': 99999999999999999999999");
  cr_assert_eq (c->process->user.uid, 1);
  cr_assert_eq (c->linux_spec->resources->memory->limit, 5);
  al_config_free (c);
}

Test (config, null_counts_as_absent)
{
  struct al_config *c = doc_ok (",'process': null, 'hostname': null, 'mounts': null,"
                                "'annotations': {'a': null, 'b': 'x'},"
                                "'linux': {'resources': {'memory': {'limit': null, 'swap': 7},"
                                "'cpu': null}, 'seccomp': null, 'rootfsPropagation': null}");
  cr_assert_null (c->process);
  cr_assert_null (c->hostname);
  cr_assert_eq (c->n_mounts, 0);
  cr_assert_eq (c->annotations.n, 1);
  cr_assert_str_eq (c->annotations.keys[0], "b");
  cr_assert_eq (json_object_size (c->annotations_json), 1);
  cr_assert_not (c->linux_spec->resources->memory->has_limit);
  cr_assert (c->linux_spec->resources->memory->has_swap);
  cr_assert_null (c->linux_spec->resources->cpu);
  cr_assert_null (c->linux_spec->seccomp);
  cr_assert_eq (c->linux_spec->rootfs_propagation, AL_PROPAGATION_UNSET);
  al_config_free (c);

  /* a required field that is null is missing, and the error points at the null */
  doc_error (",'process': {'args': ['a'], 'cwd': null}",
             "config.json:4:36: process.cwd: required field missing");
}

Test (config, zero_differs_from_absent)
{
  struct al_config *c = doc_ok (",'linux': {'resources': {'memory': {'limit': 0},"
                                "'cpu': {'shares': 0}, 'pids': {'limit': 0}}}");
  const struct al_resources *r = c->linux_spec->resources;
  cr_assert (r->memory->has_limit);
  cr_assert_eq (r->memory->limit, 0);
  cr_assert_not (r->memory->has_swap);
  cr_assert (r->cpu->has_shares);
  cr_assert_not (r->cpu->has_quota);
  cr_assert (r->pids->has_limit);
  cr_assert_null (r->block_io);
  al_config_free (c);
}

/* ------------------------------------------------------------ syntax errors */

Test (config_syntax, truncated_json)
{
  expect_error ("{\n  'ociVersion': '1.0.0',\n",
                "config.json:3:1: invalid JSON: string or '}' expected near end of file");
  expect_error ("{'ociVersion': '1.0",
                "config.json:1:19: invalid JSON: premature end of input near '\"1.0'");
  expect_error ("{'root': {'path': 'r'}",
                "config.json:1:22: invalid JSON: '}' expected near end of file");
}

Test (config_syntax, trailing_garbage)
{
  expect_error ("{'ociVersion': '1.0.0', 'root': {'path': 'r'}}\n}",
                "config.json:2:1: invalid JSON: end of file expected near '}'");
  expect_error ("{'ociVersion': '1.0.0', 'root': {'path': 'r'}} {}",
                "config.json:1:48: invalid JSON: end of file expected near '{'");
}

Test (config_syntax, empty_input)
{
  expect_raw_error ("", 0, "config.json:1:1: invalid JSON: empty input");
  expect_raw_error (" \n\t\r\n", 5, "config.json:1:1: invalid JSON: empty input");
  expect_raw_error (NULL, 0, "config.json:1:1: invalid JSON: empty input");
}

Test (config_syntax, top_level_must_be_an_object)
{
  expect_error ("\n  ['ociVersion']", "config.json:2:3: expected a JSON object at the top level");
  expect_error ("42", "config.json:1:1: expected a JSON object at the top level");
  expect_error ("'1.0.0'", "config.json:1:1: expected a JSON object at the top level");
  expect_error ("null", "config.json:1:1: expected a JSON object at the top level");
}

Test (config_syntax, nul_bytes)
{
  static const char raw[] = "{\"ociVersion\": \"1.0.0\",\0 \"root\": {\"path\": \"r\"}}";
  expect_raw_error (raw, sizeof raw - 1, "config.json:1:24: invalid JSON: NUL byte");

  /* jansson alone would stop at the NUL and accept the document */
  static const char after[] = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}\0{";
  expect_raw_error (after, sizeof after - 1, "config.json:1:47: invalid JSON: NUL byte");

  /* an escaped NUL decodes, but no C string can hold it */
  expect_error ("{'ociVersion': '1.0.0', 'root': {'path': 'r\\u0000oot'}}",
                "config.json:1:42: root.path: must not contain NUL characters");
  /* the length is honoured: a NUL after the document is not read */
  static const char tail[] = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}\0garbage";
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  cr_assert_eq (al_config_parse (tail, strlen (tail), NULL, &c, &err), 0, "%s", err.msg);
  al_config_free (c);
}

Test (config_syntax, invalid_utf8_and_control_characters)
{
  expect_error ("{'ociVersion': '1.0.\xff'}",
                "config.json:1:20: invalid JSON: unable to decode byte 0xff near '\"1.0.'");
  expect_error ("{'ociVersion': '1.0\n.0'}",
                "config.json:1:19: invalid JSON: unexpected newline near '\"1.0'");
}

Test (config_syntax, source_name_appears_in_messages)
{
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  cr_assert_eq (al_config_parse ("[", 1, "bundle.json", &c, &err), -EINVAL);
  cr_assert_str_eq (err.msg, "bundle.json:1:1: invalid JSON: ']' expected near end of file");
  cr_assert_eq (al_config_parse ("[", 1, NULL, &c, &err), -EINVAL);
  cr_assert_str_eq (err.msg, "config.json:1:1: invalid JSON: ']' expected near end of file");
}

/* -------------------------------------------------------------- type errors */

Test (config_types, process_args_as_string)
{
  doc_error (",'process': {'args': 'sh', 'cwd': '/'}",
             "config.json:4:22: process.args: expected an array of strings");
}

Test (config_types, process_args_element_as_number)
{
  doc_error (",'process': {'args': ['sh', 42], 'cwd': '/'}",
             "config.json:4:29: process.args[1]: expected a string");
}

Test (config_types, memory_limit_as_string)
{
  cleanup_free char *json = J ("{\n"
                               "  'ociVersion': '1.2.0',\n"
                               "  'root': {'path': 'rootfs'},\n"
                               "  'linux': {\n"
                               "    'resources': {\n"
                               "      'memory': {\n"
                               "        'limit': '512M'\n"
                               "      }\n"
                               "    }\n"
                               "  }\n"
                               "}\n");
  expect_raw_error (json, strlen (json),
                    "config.json:7:18: linux.resources.memory.limit: expected an integer");
}

Test (config_types, mount_options_as_object)
{
  doc_error (",'mounts': [{'destination': '/a'}, {'destination': '/b'},\n"
             "  {'destination': '/c', 'options': {'ro': true}}]",
             "config.json:5:36: mounts[2].options: expected an array of strings");
}

Test (config_types, hook_timeout_negative)
{
  doc_error (",'hooks': {'prestart': [{'path': '/bin/true', 'timeout': -5}]}",
             "config.json:4:58: hooks.prestart[0].timeout: must be greater than 0, got -5");
  doc_error (",'hooks': {'poststop': [{'path': '/bin/true', 'timeout': 0}]}",
             "config.json:4:58: hooks.poststop[0].timeout: must be greater than 0, got 0");
  doc_error (",'hooks': {'poststop': [{'path': '/bin/true', 'timeout': 1.5}]}",
             "config.json:4:58: hooks.poststop[0].timeout: expected an integer");
  doc_error (",'hooks': {'poststop': [{'path': '/bin/true', 'timeout': 2147483648}]}",
             "config.json:4:58: hooks.poststop[0].timeout: expected an integer from "
             "-2147483648 to 2147483647, got 2147483648");
}

Test (config_types, wrong_types_everywhere)
{
  doc_error (",'process': 'x'", "config.json:4:13: process: expected an object");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'terminal': 'yes'}",
             "config.json:4:53: process.terminal: expected a boolean");
  doc_error (",'mounts': {}", "config.json:4:12: mounts: expected an array of objects");
  doc_error (",'mounts': [[]]", "config.json:4:13: mounts[0]: expected an object");
  doc_error (",'hostname': 7", "config.json:4:14: hostname: expected a string");
  doc_error (",'annotations': ['a']",
             "config.json:4:17: annotations: expected an object of strings");
  doc_error (",'annotations': {'io.k8s/x': 1}",
             "config.json:4:30: annotations[\"io.k8s/x\"]: expected a string");
  doc_error (",'linux': {'sysctl': {'net.ipv4.ip_forward': true}}",
             "config.json:4:46: linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string");
  doc_error (",'linux': {'uidMappings': [{'containerID': 0, 'hostID': '1', 'size': 1}]}",
             "config.json:4:57: linux.uidMappings[0].hostID: expected an integer");
  doc_error (",'linux': {'resources': {'blockIO': {'weightDevice': [{'major': 8, 'minor': 0, "
             "'weight': 70000}]}}}",
             "config.json:4:90: linux.resources.blockIO.weightDevice[0].weight: expected an "
             "integer from 0 to 65535, got 70000");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
             "'read', 'action': 'SCMP_ACT_ALLOW'}]}}",
             "config.json:4:82: linux.seccomp.syscalls[0].names: expected an array of strings");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'user': {'uid': 0, 'gid': 0, "
             "'additionalGids': [1, 'x']}}",
             "config.json:4:92: process.user.additionalGids[1]: expected an integer");
  doc_error (",'linux': {'resources': {'memory': {'disableOOMKiller': 1}}}",
             "config.json:4:57: linux.resources.memory.disableOOMKiller: expected a boolean");
  doc_error (",'linux': {'resources': {'memory': {'swappiness': 101}}}",
             "config.json:4:51: linux.resources.memory.swappiness: expected an integer from 0 to "
             "100, got 101");
  doc_error (",'linux': {'timeOffsets': {'boottime': {'secs': 1, 'nanosecs': 1000000000}}}",
             "config.json:4:64: linux.timeOffsets.boottime.nanosecs: expected an integer from 0 "
             "to 999999999, got 1000000000");
}

Test (config_types, integer_ranges)
{
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'user': {'uid': -1, 'gid': 0}}",
             "config.json:4:57: process.user.uid: expected an integer from 0 to 4294967295, "
             "got -1");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'user': {'uid': 4294967296, 'gid': 0}}",
             "config.json:4:57: process.user.uid: expected an integer from 0 to 4294967295, got "
             "4294967296");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'user': {'uid': 1.0, 'gid': 0}}",
             "config.json:4:57: process.user.uid: expected an integer");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'user': {'uid': '0', 'gid': 0}}",
             "config.json:4:57: process.user.uid: expected an integer");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'oomScoreAdj': -1001}",
             "config.json:4:56: process.oomScoreAdj: expected an integer from -1000 to 1000, got "
             "-1001");
  doc_error (",'process': {'args': ['a'], 'cwd': '/', 'consoleSize': {'height': 70000, "
             "'width': 1}}",
             "config.json:4:67: process.consoleSize.height: expected an integer from 0 to 65535, "
             "got 70000");
  doc_error (",'linux': {'resources': {'cpu': {'shares': -2}}}",
             "config.json:4:44: linux.resources.cpu.shares: expected an integer from 0 to "
             "18446744073709551615, got -2");
}

Test (config_types, integers_beyond_int64)
{
  /* jansson stops at INT64_MAX; uint64 fields still take the full range */
  struct al_config *c = doc_ok (",'linux': {'resources': {'cpu': {'shares': 18446744073709551615,"
                                " 'period': 9223372036854775808}}}");
  cr_assert_eq (c->linux_spec->resources->cpu->shares, UINT64_MAX);
  cr_assert_eq (c->linux_spec->resources->cpu->period, (uint64_t) INT64_MAX + 1);
  al_config_free (c);

  doc_error (",'linux': {'resources': {'cpu': {'shares': 18446744073709551616}}}",
             "config.json:4:44: linux.resources.cpu.shares: expected an integer from 0 to "
             "18446744073709551615, got 18446744073709551616");
  doc_error (",'linux': {'resources': {'memory': {'limit': 9223372036854775808}}}",
             "config.json:4:46: linux.resources.memory.limit: expected an integer from "
             "-9223372036854775808 to 9223372036854775807, got 9223372036854775808");
  doc_error (",'linux': {'resources': {'memory': {'limit': -9223372036854775809}}}",
             "config.json:4:46: linux.resources.memory.limit: expected an integer from "
             "-9223372036854775808 to 9223372036854775807, got -9223372036854775809");
  doc_error (",'linux': {'resources': {'cpu': {'shares': -18446744073709551616}}}",
             "config.json:4:44: linux.resources.cpu.shares: expected an integer from 0 to "
             "18446744073709551615, got -18446744073709551616");
  /* a big integer where a string belongs is still not a string */
  doc_error (",'hostname': 99999999999999999999",
             "config.json:4:14: hostname: expected a string");

  c = doc_ok (",'linux': {'resources': {'memory': {'limit': -9223372036854775808}}}");
  cr_assert_eq (c->linux_spec->resources->memory->limit, INT64_MIN);
  al_config_free (c);

  /* a real string made of the mask character stays a string while masking */
  c = doc_ok (",'hostname': '\x7f\x7f\x7f', 'linux': {'resources': {'cpu': {'shares': "
              "18446744073709551615}}}");
  cr_assert_str_eq (c->hostname, "\x7f\x7f\x7f");
  al_config_free (c);

  /* masking never turns bad JSON into good JSON */
  doc_error (",'x': {99999999999999999999: 1}",
             "config.json:4:27: invalid JSON: too big integer near '99999999999999999999'");
  doc_error (",'x': {'a': 1, 99999999999999999999 : 1}",
             "config.json:4:35: invalid JSON: too big integer near '99999999999999999999'");
  doc_error (",'x': [12-99999999999999999999]",
             "config.json:4:30: invalid JSON: ']' expected near '-99999999999999999999'");
  doc_error (",'x': [1 99999999999999999999]",
             "config.json:4:29: invalid JSON: ']' expected near '99999999999999999999'");

  /* reals beyond double are fine where nothing reads them, and never integers */
  c = doc_ok (",'x': [1e999, -2.5E+400], 'y': {'z': 1E400}");
  al_config_free (c);
  doc_error (",'linux': {'resources': {'cpu': {'shares': 1e999}}}",
             "config.json:4:44: linux.resources.cpu.shares: expected an integer");
  doc_error (",'linux': {'resources': {'memory': {'limit': -12345678901234567890.5e999}}}",
             "config.json:4:46: linux.resources.memory.limit: expected an integer");
  doc_error (",'hostname': 1e999", "config.json:4:14: hostname: expected a string");
}

Test (config_types, too_many_big_integers_give_up_cleanly)
{
  char extra[8192] = ",'x': [";
  for (int i = 0; i < 70; i++)
    strcat (extra, i ? ",18446744073709551615" : "18446744073709551615");
  strcat (extra, "]");
  cleanup_free char *json = doc (extra);
  struct al_error err = { 0 };
  struct al_config *c = NULL;
  cr_assert_eq (al_config_parse (json, strlen (json), NULL, &c, &err), -EINVAL);
  cr_assert_null (c);
  /* the 65th: 7 + 64 * 21 + 20 */
  cr_assert_str_eq (err.msg, "config.json:4:1371: too many numbers beyond 64 bits (at most 64 "
                             "in a file of this size)");

  /* fewer in a big file (64 MiB / 8 MiB): the re-decoding stays bounded; the 9th number
   * ends at byte 53 + 8 * 21 + 20 */
  size_t size = 8u << 20;
  char *big = malloc (size + 1);
  static const char head[] = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"x\": [";
  memcpy (big, head, sizeof head - 1);
  size_t pos = sizeof head - 1;
  for (int i = 0; i < 10; i++)
    pos += (size_t) sprintf (big + pos, "%s18446744073709551615", i ? "," : "");
  memset (big + pos, ' ', size - pos - 2);
  memcpy (big + size - 2, "]}", 2);
  cr_assert_eq (al_config_parse (big, size, NULL, &c, &err), -EINVAL);
  free (big);
  cr_assert_str_eq (err.msg, "config.json:1:241: too many numbers beyond 64 bits (at most 8 in "
                             "a file of this size)");
}

/* --------------------------------------------------------- required fields */

Test (config_required, oci_version_missing)
{
  expect_error ("{'root': {'path': 'r'}}", "config.json:1:1: ociVersion: required field missing");
}

Test (config_required, root_and_root_path)
{
  expect_error ("{\n  'ociVersion': '1.0.0'\n}", "config.json:1:1: root: required field missing");
  expect_error ("{'ociVersion': '1.0.0', 'root': {'readonly': true}}",
                "config.json:1:33: root.path: required field missing");
  expect_error ("{'ociVersion': '1.0.0', 'root': {'path': ''}}",
                "config.json:1:42: root.path: must not be empty");
  expect_error ("{'ociVersion': '1.0.0', 'root': 'rootfs'}",
                "config.json:1:33: root: expected an object");
}

Test (config_required, process_fields)
{
  doc_error (",'process': {'cwd': '/'}", "config.json:4:13: process.args: required field missing");
  doc_error (",'process': {'args': [], 'cwd': '/'}",
             "config.json:4:22: process.args: must contain at least one entry");
  doc_error (",'process': {'args': ['sh']}",
             "config.json:4:13: process.cwd: required field missing");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'user': {'gid': 0}}",
             "config.json:4:50: process.user.uid: required field missing");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'user': {'uid': 0}}",
             "config.json:4:50: process.user.gid: required field missing");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'rlimits': [{'type': 'RLIMIT_CPU', "
             "'soft': 1}]}",
             "config.json:4:54: process.rlimits[0].hard: required field missing");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'ioPriority': {'class': "
             "'IOPRIO_CLASS_RT'}}",
             "config.json:4:56: process.ioPriority.priority: required field missing");
}

Test (config_required, nested_required_fields)
{
  doc_error (",'mounts': [{'source': 'x'}]",
             "config.json:4:13: mounts[0].destination: required field missing");
  doc_error (",'hooks': {'poststop': [{'args': []}]}",
             "config.json:4:25: hooks.poststop[0].path: required field missing");
  doc_error (",'linux': {'namespaces': [{'path': '/x'}]}",
             "config.json:4:27: linux.namespaces[0].type: required field missing");
  doc_error (",'linux': {'seccomp': {'syscalls': []}}",
             "config.json:4:23: linux.seccomp.defaultAction: required field missing");
  doc_error (",'linux': {'devices': [{'type': 'c', 'path': '/dev/x', 'major': 1}]}",
             "config.json:4:24: linux.devices[0].minor: required field missing");
  doc_error (",'linux': {'resources': {'devices': [{'access': 'r'}]}}",
             "config.json:4:38: linux.resources.devices[0].allow: required field missing");
  doc_error (",'linux': {'personality': {'flags': []}}",
             "config.json:4:27: linux.personality.domain: required field missing");
}

/* ---------------------------------------------------------------- versions */

static void
version_error (const char *version, const char *msg)
{
  char *s = NULL;
  cr_assert_geq (asprintf (&s, "{\n  'ociVersion': %s,\n  'root': {'path': 'r'}\n}", version), 0);
  expect_error (s, msg);
  free (s);
}

Test (config_version, unsupported_versions)
{
  version_error ("'2.0.0'", "config.json:2:17: ociVersion: unsupported version \"2.0.0\" "
                            "(airlock supports 1.0.0 to 1.3.x)");
  version_error ("'1.4.0'", "config.json:2:17: ociVersion: unsupported version \"1.4.0\" "
                            "(airlock supports 1.0.0 to 1.3.x)");
  version_error ("'1.4.0-dev'", "config.json:2:17: ociVersion: unsupported version "
                                "\"1.4.0-dev\" (airlock supports 1.0.0 to 1.3.x)");
  version_error ("'0.6.0'", "config.json:2:17: ociVersion: unsupported version \"0.6.0\" "
                            "(airlock supports 1.0.0 to 1.3.x)");
}

Test (config_version, malformed_versions)
{
  const char *bad[] = { "1.0", "1", "", "v1.0.0", "1.0.0.0", "1.01.0", "1.0.0-", "1.0.0+",
                        "1.0.0-rc..1", "1.0.x", " 1.0.0", "1.0.0 ", "1.0.0-r\xc3\xa9", "1.0.0_1",
                        "1.0000000000.0" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char version[64], msg[256];
      snprintf (version, sizeof version, "'%s'", bad[i]);
      snprintf (msg, sizeof msg,
                "config.json:2:17: ociVersion: malformed version \"%s\" (expected 1.MINOR.PATCH)",
                bad[i]);
      version_error (version, msg);
    }
  version_error ("1.0", "config.json:2:17: ociVersion: expected a string");
  version_error ("null", "config.json:2:17: ociVersion: required field missing");
}

Test (config_version, accepted_versions)
{
  const char *good[] = { "1.0.0", "1.0.2-dev", "1.1.0-rc.1", "1.2.0", "1.2.1+build.5",
                         "1.3.0",  "1.3.99",    "1.0.0-rc5+git-abc.1", "1.0.0-0A-b" };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    {
      char *s = NULL;
      cr_assert_geq (asprintf (&s, "{'ociVersion': '%s', 'root': {'path': 'r'}}", good[i]), 0);
      struct al_config *c = parse_ok (s);
      cr_assert_str_eq (c->oci_version, good[i]);
      al_config_free (c);
      free (s);
    }
  struct al_config *c = parse_ok ("{'ociVersion': '1.3.99', 'root': {'path': 'r'}}");
  cr_assert_eq (c->version_minor, 3);
  cr_assert_eq (c->version_patch, 99);
  al_config_free (c);
}

/* ---------------------------------------------------------- semantic checks */

Test (config_semantic, duplicate_namespaces)
{
  cleanup_free char *json = J ("{\n"
                               "  'ociVersion': '1.2.0',\n"
                               "  'root': {'path': 'rootfs'},\n"
                               "  'linux': {\n"
                               "    'namespaces': [\n"
                               "      {'type': 'pid'},\n"
                               "      {'type': 'mount'},\n"
                               "      {'type': 'ipc'},\n"
                               "      {'type': 'pid', 'path': '/proc/1/ns/pid'}\n"
                               "    ]\n"
                               "  }\n"
                               "}\n");
  expect_raw_error (json, strlen (json),
                    "config.json:9:16: linux.namespaces[3].type: duplicate namespace \"pid\"");
}

Test (config_semantic, unknown_namespace_type)
{
  doc_error (",'linux': {'namespaces': [{'type': 'net'}]}",
             "config.json:4:36: linux.namespaces[0].type: unknown namespace type \"net\" "
             "(expected one of pid, network, mount, ipc, uts, user, cgroup, time)");
}

Test (config_semantic, relative_paths_where_absolute_are_required)
{
  doc_error (",'process': {'args': ['sh'], 'cwd': 'tmp'}",
             "config.json:4:37: process.cwd: must be an absolute path, got \"tmp\"");
  doc_error (",'mounts': [{'destination': 'proc'}]",
             "config.json:4:29: mounts[0].destination: must be an absolute path, got \"proc\"");
  doc_error (",'linux': {'devices': [{'type': 'c', 'path': 'dev/null', 'major': 1, 'minor': 3}]}",
             "config.json:4:46: linux.devices[0].path: must be an absolute path, got \"dev/null\"");
  doc_error (",'hooks': {'createRuntime': [{'path': 'hook.sh'}]}",
             "config.json:4:39: hooks.createRuntime[0].path: must be an absolute path, got "
             "\"hook.sh\"");
  doc_error (",'linux': {'namespaces': [{'type': 'net' , 'path': 'x'}]}",
             "config.json:4:36: linux.namespaces[0].type: unknown namespace type \"net\" "
             "(expected one of pid, network, mount, ipc, uts, user, cgroup, time)");
  doc_error (",'linux': {'namespaces': [{'type': 'network', 'path': 'run/netns/a'}]}",
             "config.json:4:55: linux.namespaces[0].path: must be an absolute path, got "
             "\"run/netns/a\"");
  doc_error (",'linux': {'maskedPaths': ['/proc/kcore', 'proc/keys']}",
             "config.json:4:43: linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\"");
  doc_error (",'linux': {'readonlyPaths': ['']}",
             "config.json:4:30: linux.readonlyPaths[0]: must be an absolute path, got \"\"");
  /* the value in the message is escaped and bounded */
  doc_error (",'process': {'args': ['sh'], 'cwd': 'a\\nb\\\\c\\'d'}",
             "config.json:4:37: process.cwd: must be an absolute path, got \"a\\x0ab\\\\c\\\"d\"");
}

Test (config_semantic, long_values_are_cut_in_messages)
{
  char extra[512];
  snprintf (extra, sizeof extra, ",'process': {'args': ['sh'], 'cwd': '%0100d'}", 0);
  char msg[512];
  snprintf (msg, sizeof msg,
            "config.json:4:37: process.cwd: must be an absolute path, got \"%064d...\"", 0);
  doc_error (extra, msg);
}

Test (config_semantic, unknown_capability)
{
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'capabilities': {'bounding': "
             "['CAP_KILL', 'CAP_FOO']}}",
             "config.json:4:84: process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"");
  /* names libcap would half-accept are refused too */
  const char *bad[] = { "cap_kill", "CAP_KILL ", "CAP_CHOWN,CAP_KILL", "5", "CAP_", "KILL",
                        "cap_chown+ep", "CAP_Kill" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      char extra[256], msg[256];
      snprintf (extra, sizeof extra,
                ",'process': {'args': ['sh'], 'cwd': '/', 'capabilities': {'ambient': ['%s']}}",
                bad[i]);
      snprintf (msg, sizeof msg,
                "config.json:4:71: process.capabilities.ambient[0]: unknown capability \"%s\"",
                bad[i]);
      doc_error (extra, msg);
    }
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'capabilities': {'effective': 'CAP_KILL'}}",
             "config.json:4:72: process.capabilities.effective: expected an array of strings");
}

Test (config_semantic, every_capability_libcap_knows)
{
  struct al_config *c
    = doc_ok (",'process': {'args': ['sh'], 'cwd': '/', 'capabilities': {'permitted': "
              "['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_PERFMON', "
              "'CAP_CHECKPOINT_RESTORE']}}");
  const struct al_cap_list *p = &c->process->capabilities.permitted;
  cr_assert_eq (p->n, 5);
  cr_assert_eq (p->caps[0], CAP_CHOWN);
  cr_assert_eq (p->caps[1], CAP_SYS_ADMIN);
  cr_assert_eq (p->caps[2], 39 /* CAP_BPF */);
  cr_assert_eq (p->caps[3], 38 /* CAP_PERFMON */);
  cr_assert_eq (p->caps[4], 40 /* CAP_CHECKPOINT_RESTORE */);
  al_config_free (c);
}

Test (config_semantic, rlimits)
{
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'rlimits': [{'type': 'RLIMIT_FOO', "
             "'soft': 1, 'hard': 1}]}",
             "config.json:4:63: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'rlimits': [\n"
             "{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1},\n"
             "{'type': 'RLIMIT_NOFILE', 'soft': 2, 'hard': 2}]}",
             "config.json:6:10: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'rlimits': [{'type': 'RLIMIT_NPROC', "
             "'soft': 10, 'hard': 5}]}",
             "config.json:4:87: process.rlimits[0].soft: soft limit 10 is above the hard limit 5");

  const char *names[] = { "RLIMIT_AS",      "RLIMIT_CORE",    "RLIMIT_CPU",    "RLIMIT_DATA",
                          "RLIMIT_FSIZE",   "RLIMIT_LOCKS",   "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE",
                          "RLIMIT_NICE",    "RLIMIT_NOFILE",  "RLIMIT_NPROC",  "RLIMIT_RSS",
                          "RLIMIT_RTPRIO",  "RLIMIT_RTTIME",  "RLIMIT_SIGPENDING", "RLIMIT_STACK" };
  const int values[] = { RLIMIT_AS,     RLIMIT_CORE,    RLIMIT_CPU,    RLIMIT_DATA,
                         RLIMIT_FSIZE,  RLIMIT_LOCKS,   RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE,
                         RLIMIT_NICE,   RLIMIT_NOFILE,  RLIMIT_NPROC,  RLIMIT_RSS,
                         RLIMIT_RTPRIO, RLIMIT_RTTIME,  RLIMIT_SIGPENDING, RLIMIT_STACK };
  char extra[4096] = ",'process': {'args': ['sh'], 'cwd': '/', 'rlimits': [";
  for (size_t i = 0; i < 16; i++)
    {
      char one[128];
      snprintf (one, sizeof one, "%s{'type': '%s', 'soft': %zu, 'hard': 18446744073709551615}",
                i ? "," : "", names[i], i);
      strcat (extra, one);
    }
  strcat (extra, "]}");
  struct al_config *c = doc_ok (extra);
  cr_assert_eq (c->process->n_rlimits, 16);
  for (size_t i = 0; i < 16; i++)
    {
      cr_assert_eq (c->process->rlimits[i].resource, values[i]);
      cr_assert_eq (c->process->rlimits[i].soft, i);
      cr_assert_eq (c->process->rlimits[i].hard, UINT64_MAX);
      cr_assert_str_eq (al_rlimit_name (values[i]), names[i]);
    }
  al_config_free (c);
  cr_assert_null (al_rlimit_name (-1));
}

Test (config_semantic, env_entries)
{
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'env': ['A=1', 'NOVALUE']}",
             "config.json:4:57: process.env[1]: expected NAME=VALUE, got \"NOVALUE\"");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'env': ['=x']}",
             "config.json:4:50: process.env[0]: expected NAME=VALUE, got \"=x\"");
}

Test (config_semantic, seccomp_names)
{
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_FOO'}}",
             "config.json:4:41: linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\" "
             "(expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, "
             "SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, "
             "SCMP_ACT_NOTIFY)");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
             "['read'], 'action': 'allow'}]}}",
             "config.json:4:102: linux.seccomp.syscalls[0].action: unknown action \"allow\" "
             "(expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, "
             "SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, "
             "SCMP_ACT_NOTIFY)");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': "
             "['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX']}}",
             "config.json:4:97: linux.seccomp.architectures[1]: unknown architecture "
             "\"SCMP_ARCH_VAX\"");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
             "['SECCOMP_FILTER_FLAG_NOPE']}}",
             "config.json:4:69: linux.seccomp.flags[0]: unknown seccomp flag "
             "\"SECCOMP_FILTER_FLAG_NOPE\" (expected one of SECCOMP_FILTER_FLAG_TSYNC, "
             "SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, "
             "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
             "['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'op': "
             "'SCMP_CMP_XX'}]}]}}",
             "config.json:4:160: linux.seccomp.syscalls[0].args[0].op: unknown operator "
             "\"SCMP_CMP_XX\" (expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
             "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
             "['read'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 1, 'op': "
             "'SCMP_CMP_EQ'}]}]}}",
             "config.json:4:139: linux.seccomp.syscalls[0].args[0].index: expected an integer "
             "from 0 to 5, got 6");
  doc_error (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
             "['mount'], 'action': 'SCMP_ACT_NOTIFY'}]}}",
             "config.json:4:23: linux.seccomp.listenerPath: required when an action is "
             "SCMP_ACT_NOTIFY");
}

Test (config_semantic, every_seccomp_name)
{
  struct al_config *c
    = doc_ok (",'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_KILL_PROCESS',"
              "'flags': ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],"
              "'architectures': ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', "
              "'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', "
              "'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', "
              "'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', "
              "'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', "
              "'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', "
              "'SCMP_ARCH_SHEB'],"
              "'syscalls': [{'names': ['a'], 'action': 'SCMP_ACT_KILL'},"
              "{'names': ['a'], 'action': 'SCMP_ACT_KILL_THREAD'},"
              "{'names': ['a'], 'action': 'SCMP_ACT_TRAP'},"
              "{'names': ['a'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 1},"
              "{'names': ['a'], 'action': 'SCMP_ACT_LOG', 'args': ["
              "{'index': 0, 'value': 0, 'op': 'SCMP_CMP_NE'},"
              "{'index': 1, 'value': 0, 'op': 'SCMP_CMP_LT'},"
              "{'index': 2, 'value': 0, 'op': 'SCMP_CMP_LE'},"
              "{'index': 3, 'value': 0, 'op': 'SCMP_CMP_GE'},"
              "{'index': 4, 'value': 0, 'op': 'SCMP_CMP_GT'}]}]}}");
  const struct al_seccomp *s = c->linux_spec->seccomp;
  cr_assert_eq (s->default_action, AL_SECCOMP_ACT_KILL_PROCESS);
  cr_assert_eq (s->flags, AL_SECCOMP_FLAG_TSYNC | AL_SECCOMP_FLAG_WAIT_KILLABLE_RECV);
  cr_assert_eq (s->n_architectures, 23);
  for (size_t i = 0; i < s->n_architectures; i++)
    cr_assert_eq (s->architectures[i], (enum al_seccomp_arch) i);
  cr_assert_str_eq (al_seccomp_arch_libseccomp_name (AL_SECCOMP_ARCH_MIPSEL64N32), "mipsel64n32");
  cr_assert_str_eq (al_seccomp_arch_libseccomp_name (AL_SECCOMP_ARCH_PPC64LE), "ppc64le");
  cr_assert_null (al_seccomp_arch_libseccomp_name ((enum al_seccomp_arch) 99));
  cr_assert_eq (s->syscalls[0].action, AL_SECCOMP_ACT_KILL);
  cr_assert_eq (s->syscalls[1].action, AL_SECCOMP_ACT_KILL_THREAD);
  cr_assert_eq (s->syscalls[2].action, AL_SECCOMP_ACT_TRAP);
  cr_assert_eq (s->syscalls[3].action, AL_SECCOMP_ACT_TRACE);
  cr_assert_eq (s->syscalls[4].action, AL_SECCOMP_ACT_LOG);
  cr_assert_eq (s->syscalls[4].args[0].op, AL_SECCOMP_OP_NE);
  cr_assert_eq (s->syscalls[4].args[1].op, AL_SECCOMP_OP_LT);
  cr_assert_eq (s->syscalls[4].args[2].op, AL_SECCOMP_OP_LE);
  cr_assert_eq (s->syscalls[4].args[3].op, AL_SECCOMP_OP_GE);
  cr_assert_eq (s->syscalls[4].args[4].op, AL_SECCOMP_OP_GT);
  cr_assert_str_eq (al_seccomp_action_name (AL_SECCOMP_ACT_NOTIFY), "SCMP_ACT_NOTIFY");
  al_config_free (c);
}

Test (config_semantic, enumerated_strings)
{
  doc_error (",'linux': {'rootfsPropagation': 'recursive'}",
             "config.json:4:33: linux.rootfsPropagation: unknown propagation \"recursive\" "
             "(expected one of private, rprivate, slave, rslave, shared, rshared, unbindable, "
             "runbindable)");
  doc_error (",'linux': {'devices': [{'type': 'x', 'path': '/dev/x'}]}",
             "config.json:4:33: linux.devices[0].type: unknown device type \"x\" "
             "(expected one of c, b, u, p)");
  doc_error (",'linux': {'resources': {'devices': [{'allow': true, 'type': 'p'}]}}",
             "config.json:4:62: linux.resources.devices[0].type: unknown device type \"p\" "
             "(expected one of a, c, b)");
  doc_error (",'linux': {'resources': {'devices': [{'allow': true, 'access': 'rwx'}]}}",
             "config.json:4:64: linux.resources.devices[0].access: expected a combination of r, "
             "w and m, got \"rwx\"");
  doc_error (",'linux': {'resources': {'devices': [{'allow': true, 'access': 'rr'}]}}",
             "config.json:4:64: linux.resources.devices[0].access: expected a combination of r, "
             "w and m, got \"rr\"");
  doc_error (",'linux': {'timeOffsets': {'realtime': {'secs': 1}}}",
             "config.json:4:40: linux.timeOffsets.realtime: unknown clock (expected monotonic or "
             "boottime)");
  doc_error (",'linux': {'personality': {'domain': 'LINUX64'}}",
             "config.json:4:38: linux.personality.domain: unknown personality domain \"LINUX64\" "
             "(expected one of LINUX, LINUX32)");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'scheduler': {'policy': 'SCHED_FAST'}}",
             "config.json:4:66: process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\" "
             "(expected one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, "
             "SCHED_IDLE, SCHED_DEADLINE)");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'ioPriority': {'class': 'RT', "
             "'priority': 1}}",
             "config.json:4:66: process.ioPriority.class: unknown I/O priority class \"RT\" "
             "(expected one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)");
  doc_error (",'process': {'args': ['sh'], 'cwd': '/', 'ioPriority': {'class': 'IOPRIO_CLASS_RT',"
             " 'priority': 8}}",
             "config.json:4:97: process.ioPriority.priority: expected an integer from 0 to 7, "
             "got 8");

  const char *props[] = { "private", "rprivate", "slave",      "rslave",
                          "shared",  "rshared",  "unbindable", "runbindable" };
  for (size_t i = 0; i < 8; i++)
    {
      char extra[128];
      snprintf (extra, sizeof extra, ",'linux': {'rootfsPropagation': '%s'}", props[i]);
      struct al_config *c = doc_ok (extra);
      cr_assert_eq (c->linux_spec->rootfs_propagation, (enum al_propagation) (i + 1));
      al_config_free (c);
    }
}

Test (config_semantic, devices)
{
  struct al_config *c = doc_ok (",'linux': {'devices': [{'type': 'u', 'path': '/dev/u', "
                                "'major': 1, 'minor': 2}, {'type': 'p', 'path': '/dev/fifo'}]}");
  cr_assert_eq (c->linux_spec->devices[0].type, AL_DEVICE_UNBUFFERED);
  cr_assert_eq (c->linux_spec->devices[1].type, AL_DEVICE_FIFO);
  cr_assert_eq (c->linux_spec->devices[1].major, 0);
  al_config_free (c);
}

Test (config_semantic, hostname_length)
{
  char extra[256], msg[256];
  snprintf (extra, sizeof extra, ",'hostname': '%064d'", 0);
  struct al_config *c = doc_ok (extra);
  cr_assert_eq (strlen (c->hostname), 64);
  al_config_free (c);
  snprintf (extra, sizeof extra, ",'domainname': '%065d'", 0);
  snprintf (msg, sizeof msg, "config.json:4:16: domainname: longer than 64 bytes");
  doc_error (extra, msg);
}

Test (config_semantic, id_mapping_count_is_bounded)
{
  char *extra = malloc (400 * 64 + 64);
  strcpy (extra, ",'linux': {'uidMappings': [");
  for (int i = 0; i < 341; i++)
    {
      char one[96];
      snprintf (one, sizeof one, "%s{'containerID': %d, 'hostID': %d, 'size': 1}", i ? "," : "",
                i, 100000 + i);
      strcat (extra, one);
    }
  strcat (extra, "]}");
  doc_error (extra, "config.json:4:27: linux.uidMappings: more than 340 entries");
  free (extra);
}

Test (config_semantic, empty_annotation_key)
{
  doc_error (",'annotations': {'': 'x'}", "config.json:4:22: annotations[\"\"]: empty key");
}

/* ------------------------------------------------------------------ limits */

/* The size is checked before anything is decoded: 100 MB that are not even
 * JSON still fail with EFBIG, not a syntax error (no timing involved). */
Test (config_limits, hundred_megabytes_are_refused_before_decoding)
{
  const size_t size = 100u << 20;
  char *big = malloc (size);
  cr_assert_not_null (big);
  memset (big, '\x01', size);

  struct al_error err = { 0 };
  struct al_config *c = NULL;
  int r = al_config_parse (big, size, "config.json", &c, &err);
  free (big);

  cr_assert_eq (r, -EFBIG, "got %d: %s", r, err.msg);
  cr_assert_eq (err.errnum, EFBIG);
  cr_assert_null (c);
  char msg[128];
  snprintf (msg, sizeof msg, "config.json: larger than 16 MiB (%zu bytes)", size);
  cr_assert_str_eq (err.msg, msg);
}

Test (config_limits, exactly_the_limit_is_accepted)
{
  const size_t size = AL_CONFIG_MAX_BYTES;
  char *buf = malloc (size + 1);
  static const char body[] = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}";
  memset (buf, ' ', size + 1);
  memcpy (buf, body, sizeof body - 1);

  struct al_error err = { 0 };
  struct al_config *c = NULL;
  cr_assert_eq (al_config_parse (buf, size, NULL, &c, &err), 0, "%s", err.msg);
  al_config_free (c);
  c = NULL;
  cr_assert_eq (al_config_parse (buf, size + 1, NULL, &c, &err), -EFBIG);
  cr_assert_null (c);
  free (buf);
}

Test (config_limits, list_entries_are_bounded)
{
  size_t n = AL_CONFIG_MAX_ITEMS + 1;
  char *extra = malloc (n * 4 + 64);
  size_t pos = (size_t) sprintf (extra, ",'process': {'cwd': '/', 'args': [");
  for (size_t i = 0; i < n; i++)
    pos += (size_t) sprintf (extra + pos, "%s'a'", i ? "," : "");
  strcpy (extra + pos, "]}");
  doc_error (extra, "config.json:4:34: process.args: more than 65536 entries");
  free (extra);
}

/* ------------------------------------------------------------ load, process */

Test (config_load, reads_a_file_and_names_its_basename)
{
  char dir[] = "/tmp/al-test-config-XXXXXX";
  cr_assert_not_null (mkdtemp (dir));
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (dfd, 0);
  cr_assert_eq (mkdirat (dfd, "b", 0755), 0);

  const char *good = "{\"ociVersion\": \"1.1.0\", \"root\": {\"path\": \"rootfs\"}}";
  struct al_error err = { 0 };
  cr_assert_eq (al_write_file_atomic (dfd, "b/config.json", good, strlen (good), 0644, &err), 0);
  struct al_config *c = NULL;
  cr_assert_eq (al_config_load (dfd, "b/config.json", &c, &err), 0, "%s", err.msg);
  cr_assert_str_eq (c->root_path, "rootfs");
  al_config_free (c);

  const char *bad = "{\"ociVersion\": \"1.1.0\"}";
  cr_assert_eq (al_write_file_atomic (dfd, "b/config.json", bad, strlen (bad), 0644, &err), 0);
  c = NULL;
  cr_assert_eq (al_config_load (dfd, "b/config.json", &c, &err), -EINVAL);
  cr_assert_null (c);
  cr_assert_str_eq (err.msg, "config.json:1:1: root: required field missing");

  cr_assert_eq (al_config_load (dfd, "b/missing.json", &c, &err), -ENOENT);
  cr_assert_str_eq (err.msg, "open `b/missing.json`: No such file or directory");

  int fd = openat (dfd, "b/huge.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  cr_assert_geq (fd, 0);
  cr_assert_eq (ftruncate (fd, (off_t) AL_CONFIG_MAX_BYTES + 1), 0);
  close (fd);
  cr_assert_eq (al_config_load (dfd, "b/huge.json", &c, &err), -EFBIG);
  cr_assert_str_eq (err.msg, "huge.json: larger than 16 MiB");

  unlinkat (dfd, "b/config.json", 0);
  unlinkat (dfd, "b/huge.json", 0);
  unlinkat (dfd, "b", AT_REMOVEDIR);
  close (dfd);
  rmdir (dir);
}

Test (config_process, parses_a_bare_process)
{
  cleanup_free char *json
    = J ("{'args': ['/bin/ls', '-l'], 'cwd': '/srv', 'env': ['A=b'], 'terminal': false,\n"
         " 'user': {'uid': 7, 'gid': 8}, 'capabilities': {'effective': ['CAP_CHOWN']},\n"
         " 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 10, 'hard': 20}]}");
  struct al_error err = { 0 };
  struct al_process *p = NULL;
  cr_assert_eq (al_config_parse_process (json, strlen (json), "process.json", &p, &err), 0, "%s",
                err.msg);
  ASSERT_STRV (p->args, p->n_args, "/bin/ls", "-l");
  cr_assert_str_eq (p->cwd, "/srv");
  cr_assert_eq (p->user.uid, 7);
  cr_assert_eq (p->user.gid, 8);
  cr_assert_eq (p->capabilities.effective.caps[0], CAP_CHOWN);
  cr_assert_eq (p->rlimits[0].hard, 20);
  al_process_free (p);
  al_process_free (NULL);
}

Test (config_process, errors_name_paths_from_the_process_object)
{
  cleanup_free char *json = J ("{\n  'args': ['ls'],\n  'cwd': 'rel'\n}");
  struct al_error err = { 0 };
  struct al_process *p = NULL;
  cr_assert_eq (al_config_parse_process (json, strlen (json), "process.json", &p, &err), -EINVAL);
  cr_assert_null (p);
  cr_assert_str_eq (err.msg, "process.json:3:10: cwd: must be an absolute path, got \"rel\"");

  cleanup_free char *json2 = J ("{'args': 'ls', 'cwd': '/'}");
  cr_assert_eq (al_config_parse_process (json2, strlen (json2), "process.json", &p, &err), -EINVAL);
  cr_assert_str_eq (err.msg, "process.json:1:10: args: expected an array of strings");

  cr_assert_eq (al_config_parse_process ("[]", 2, "process.json", &p, &err), -EINVAL);
  cr_assert_str_eq (err.msg, "process.json:1:1: expected a JSON object at the top level");
}

Test (config_resources, parses_bare_resources)
{
  cleanup_free char *json
    = J ("{'memory': {'limit': 1073741824, 'swap': -1}, 'cpu': {'quota': 50000, 'period': "
         "100000}, 'pids': {'limit': 100}, 'unified': {'memory.oom.group': '1'}}");
  struct al_error err = { 0 };
  struct al_resources *r = NULL;
  cr_assert_eq (al_config_parse_resources (json, strlen (json), "resources.json", &r, &err), 0,
                "%s", err.msg);
  cr_assert (r->memory->has_limit);
  cr_assert_eq (r->memory->limit, 1073741824);
  cr_assert_eq (r->memory->swap, -1);
  cr_assert_not (r->memory->has_reservation);
  cr_assert_eq (r->cpu->quota, 50000);
  cr_assert_eq (r->cpu->period, 100000);
  cr_assert_not (r->cpu->has_shares);
  cr_assert_eq (r->pids->limit, 100);
  cr_assert_null (r->block_io);
  cr_assert_str_eq (al_string_map_get (&r->unified, "memory.oom.group"), "1");
  al_resources_free (r);
  al_resources_free (NULL);
}

Test (config_resources, errors_name_paths_from_the_resources_object)
{
  cleanup_free char *json = J ("{\n  'memory': {'limit': '1G'}\n}");
  struct al_error err = { 0 };
  struct al_resources *r = NULL;
  cr_assert_eq (al_config_parse_resources (json, strlen (json), "resources.json", &r, &err),
                -EINVAL);
  cr_assert_null (r);
  cr_assert_str_eq (err.msg, "resources.json:2:23: memory.limit: expected an integer");

  cr_assert_eq (al_config_parse_resources ("{", 1, "resources.json", &r, &err), -EINVAL);
  cr_assert_str_eq (err.msg,
                    "resources.json:1:1: invalid JSON: string or '}' expected near end of file");
}

Test (config_names, helpers)
{
  cr_assert_str_eq (al_namespace_type_name (AL_NS_NETWORK), "network");
  cr_assert_str_eq (al_namespace_type_name (AL_NS_TIME), "time");
  cr_assert_null (al_namespace_type_name (AL_NS__COUNT));
  cr_assert_str_eq (al_hook_kind_name (AL_HOOK_CREATE_RUNTIME), "createRuntime");
  cr_assert_null (al_hook_kind_name (AL_HOOK__COUNT));
  cr_assert_null (al_seccomp_action_name ((enum al_seccomp_action) 42));
}

/* A config built in memory (sandbox run's) gets the same checks; its
 * messages name the field, with no line and column to point at. */
Test (config_from_json, same_checks_without_text)
{
  json_t *root = json_pack ("{s:s, s:{s:s}, s:{s:[s], s:s}}", "ociVersion", "1.0.2", "root",
                            "path", "rootfs", "process", "args", "sh", "cwd", "relative");
  cr_assert_not_null (root);
  struct al_config *c = NULL;
  struct al_error err = { 0 };
  int r = al_config_from_json (root, "sandbox config", &c, &err);
  cr_assert_lt (r, 0);
  cr_assert_null (c);
  cr_assert_str_eq (err.msg, "sandbox config: process.cwd: must be an absolute path, got \"relative\"");

  json_object_set_new (json_object_get (root, "process"), "cwd", json_string ("/work"));
  r = al_config_from_json (root, "sandbox config", &c, &err);
  cr_assert_eq (r, 0, "%s", err.msg);
  cr_assert_str_eq (c->root_path, "rootfs");
  cr_assert_str_eq (c->process->cwd, "/work");
  cr_assert_str_eq (c->process->args[0], "sh");
  al_config_free (c);
  json_decref (root);
}
