// CShim: the few kernel interfaces Glibc's Swift module does not show
// (flags behind _GNU_SOURCE, raw syscalls without libc wrappers, variadic calls,
// and the cmsg macros needed to pass file descriptors over unix sockets).
#ifndef SKIFF_CSHIM_H
#define SKIFF_CSHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/xattr.h> // setxattr/getxattr for overlay's trusted.overlay.opaque (image layers)

// Namespace flags for clone3/unshare/setns (linux/sched.h).
static const uint64_t SK_CLONE_NEWNS     = 0x00020000;
static const uint64_t SK_CLONE_NEWCGROUP = 0x02000000;
static const uint64_t SK_CLONE_NEWUTS    = 0x04000000;
static const uint64_t SK_CLONE_NEWIPC    = 0x08000000;
static const uint64_t SK_CLONE_NEWUSER   = 0x10000000;
static const uint64_t SK_CLONE_NEWPID    = 0x20000000;
static const uint64_t SK_CLONE_NEWNET    = 0x40000000;
static const uint64_t SK_CLONE_NEWTIME   = 0x00000080;
static const uint64_t SK_CLONE_INTO_CGROUP = 0x200000000ULL;

// mount(2) flags (sys/mount.h).
static const unsigned long SK_MS_RDONLY      = 1;
static const unsigned long SK_MS_NOSUID      = 2;
static const unsigned long SK_MS_NODEV       = 4;
static const unsigned long SK_MS_NOEXEC      = 8;
static const unsigned long SK_MS_SYNCHRONOUS = 16;
static const unsigned long SK_MS_REMOUNT     = 32;
static const unsigned long SK_MS_MANDLOCK    = 64;
static const unsigned long SK_MS_DIRSYNC     = 128;
static const unsigned long SK_MS_NOSYMFOLLOW = 256;
static const unsigned long SK_MS_NOATIME     = 1024;
static const unsigned long SK_MS_NODIRATIME  = 2048;
static const unsigned long SK_MS_BIND        = 4096;
static const unsigned long SK_MS_MOVE        = 8192;
static const unsigned long SK_MS_REC         = 16384;
static const unsigned long SK_MS_SILENT      = 32768;
static const unsigned long SK_MS_UNBINDABLE  = 1 << 17;
static const unsigned long SK_MS_PRIVATE     = 1 << 18;
static const unsigned long SK_MS_SLAVE       = 1 << 19;
static const unsigned long SK_MS_SHARED      = 1 << 20;
static const unsigned long SK_MS_RELATIME    = 1 << 21;
static const unsigned long SK_MS_STRICTATIME = 1 << 24;
static const unsigned long SK_MS_LAZYTIME    = 1 << 25;
static const int SK_MNT_DETACH = 2;

// O_PATH: an fd that names a file without opening it for I/O (fcntl.h, _GNU_SOURCE).
static const int SK_O_PATH = 010000000;

// openat2(2) resolve flags (linux/openat2.h).
static const uint64_t SK_RESOLVE_NO_XDEV       = 0x01;
static const uint64_t SK_RESOLVE_NO_MAGICLINKS = 0x02;
static const uint64_t SK_RESOLVE_NO_SYMLINKS   = 0x04;
static const uint64_t SK_RESOLVE_BENEATH       = 0x08;
static const uint64_t SK_RESOLVE_IN_ROOT       = 0x10;

// The new mount API (Linux 5.2+, mount_setattr 5.12+): a mount is made detached,
// changed while nothing can see it, then attached onto an fd. No path is resolved twice
// (CVE-2021-30465 class) and nothing is ever visible half-configured.
static const unsigned int SK_OPEN_TREE_CLONE = 1;
static const unsigned int SK_AT_RECURSIVE = 0x8000;
static const unsigned int SK_AT_EMPTY_PATH = 0x1000;
static const uint64_t SK_MOUNT_ATTR_RDONLY      = 0x00000001;
static const uint64_t SK_MOUNT_ATTR_NOSUID      = 0x00000002;
static const uint64_t SK_MOUNT_ATTR_NODEV       = 0x00000004;
static const uint64_t SK_MOUNT_ATTR_NOEXEC      = 0x00000008;
static const uint64_t SK_MOUNT_ATTR__ATIME      = 0x00000070;
static const uint64_t SK_MOUNT_ATTR_RELATIME    = 0x00000000;
static const uint64_t SK_MOUNT_ATTR_NOATIME     = 0x00000010;
static const uint64_t SK_MOUNT_ATTR_STRICTATIME = 0x00000020;
static const uint64_t SK_MOUNT_ATTR_NODIRATIME  = 0x00000080;
static const uint64_t SK_MOUNT_ATTR_NOSYMFOLLOW = 0x00200000;
/// open_tree(dirfd, path, flags | OPEN_TREE_CLOEXEC): with SK_OPEN_TREE_CLONE, a detached copy.
int sk_open_tree(int dirfd, const char *path, unsigned int flags);
/// mount_setattr(fd, "", AT_EMPTY_PATH | extra_flags, {attr_set, attr_clr, propagation}).
int sk_mount_setattr(int fd, unsigned int extra_flags, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation);
/// move_mount(from_fd, "", to_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH).
int sk_move_mount_fds(int from_fd, int to_fd);
/// The mount id of an fd (statx STATX_MNT_ID), or -1.
long long sk_mount_id(int fd);

/// clone3() with fork semantics (SIGCHLD on exit, no shared memory): both parent and
/// child return, like fork(). `flags` holds CLONE_NEW* bits; `cgroup_fd` >= 0 adds
/// CLONE_INTO_CGROUP. Falls back to clone() where clone3 is missing (and cgroup_fd < 0).
pid_t sk_clone3(uint64_t flags, int cgroup_fd);

// shared_clone.c: init in skiff's own memory until execve (why, and the rule that makes
// it safe, are there).
/// clone3(flags | CLONE_VM) onto a fresh stack: the child waits until a message is on
/// `sync_fd` (it peeks), then calls entry(context), which must never return. The parent
/// gets the pid (or -1 and errno; ENOSYS where this is not built, then use sk_clone3).
pid_t sk_clone3_shared(uint64_t flags, int cgroup_fd, int sync_fd, void (*entry)(void *), void *context);
/// Send `msg` (with `send_fd` when >= 0) and wait for the answer, never returning in
/// between: 0 when sent (then *got is the answer's length, 0 for EOF, -1 for an error in
/// errno, and *passed an fd that came with it, or -1); -1 when the send failed.
int sk_sync_exchange(int sock, const void *msg, size_t len, int send_fd, void *buf, size_t cap, ssize_t *got,
                     int *passed);
/// Send `msg` and _exit(code) at once; returns -1 only if the send failed.
int sk_send_and_exit(int sock, const void *msg, size_t len, int code);
/// close(close_fd), then wait until the process behind `pidfd` has exited (pidfd < 0:
/// do not wait), then close it.
void sk_close_and_await_exit(int close_fd, int pidfd);

int sk_unshare(int flags);
int sk_setns(int fd, int nstype);
int sk_pivot_root(const char *new_root, const char *put_old);
int sk_mount(const char *source, const char *target, const char *fstype,
             unsigned long flags, const char *data);
int sk_umount2(const char *target, int flags);
int sk_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int sk_mknodat(int dirfd, const char *name, mode_t mode, uint32_t major, uint32_t minor);
/// Join a fresh anonymous session keyring named `name` (what runc does unless --no-new-keyring).
int sk_join_session_keyring(const char *name);
int sk_sethostname(const char *name, size_t len);
int sk_setdomainname(const char *name, size_t len);
int sk_pidfd_open(pid_t pid);
int sk_pidfd_send_signal(int pidfd, int sig);
int sk_close_range_cloexec(unsigned int first);
int sk_setgroups(size_t n, const gid_t *groups);
int sk_setresuid(uid_t r, uid_t e, uid_t s);
int sk_setresgid(gid_t r, gid_t e, gid_t s);

// prctl(2) wrappers (prctl is variadic, so Swift cannot call it directly).
int sk_set_child_subreaper(int on);
int sk_set_pdeathsig(int sig);
int sk_set_no_new_privs(void);
int sk_set_keepcaps(int on);
int sk_set_name(const char *name);
/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL).
int sk_clear_ambient(void);

/// Bring the loopback interface up in the current network namespace.
int sk_loopback_up(void);

/// Send one file descriptor (plus a short message) over a unix socket (SCM_RIGHTS).
int sk_send_fd(int sock, int fd, const void *msg, size_t len);
/// Receive a file descriptor sent with sk_send_fd; returns the fd or -1. `msg` gets up to `cap` bytes.
int sk_recv_fd(int sock, void *msg, size_t cap, ssize_t *msg_len);

/// fstatfs(2) f_type of an open file (to check that /proc is really procfs, ...).
long sk_fstatfs_type(int fd);

/// Block (how=0) or unblock (how=1) every signal; returns 0 or -1.
int sk_sigmask_all(int how);
/// Wait for any signal with a timeout in milliseconds (-1 = forever). Returns the signal
/// number, 0 on timeout, -1 on error. Caller must have blocked signals.
int sk_sigwait_any(int timeout_ms);
/// Reset every signal's disposition to default (in a child before exec).
void sk_reset_signal_handlers(void);

/// W* macros for wait status.
int sk_wifexited(int status);
int sk_wexitstatus(int status);
int sk_wifsignaled(int status);
int sk_wtermsig(int status);

// Terminals (ioctl is variadic, so these wrap it).
/// Unlock a pty master and open its peer (the slave) without a path lookup (TIOCGPTPEER).
int sk_pty_open_peer(int master);
/// The pty number of a master (the N of /dev/pts/N).
int sk_pty_number(int master);
/// Make `fd` the controlling terminal of this (new session's) process.
int sk_set_ctty(int fd);
int sk_set_winsize(int fd, unsigned short rows, unsigned short cols);
int sk_get_winsize(int fd, unsigned short *rows, unsigned short *cols);

/// A signalfd for every signal (the caller must have blocked them). Returns the fd.
int sk_signalfd_all(void);
/// Read one signal from a signalfd: its number, with the sender's pid in *pid; -1 on error.
int sk_signalfd_read(int fd, int *pid);

// eBPF for the cgroup v2 device controller (BPF_PROG_TYPE_CGROUP_DEVICE).
/// Load a device-filter program: `insns` holds `count` 8-byte eBPF instructions. Returns
/// the program fd or -1 (errno set); the verifier's complaints go to `log` (may be NULL).
int sk_bpf_load_device_filter(const void *insns, unsigned int count, char *log, unsigned int log_size);
/// Attach a program to a cgroup directory fd as BPF_CGROUP_DEVICE with BPF_F_ALLOW_MULTI.
int sk_bpf_attach_device_filter(int cgroup_fd, int prog_fd);

// ---- Security (issue 5): the sealed copy of skiff's binary, dumpable, personality, fds.

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING).
int sk_memfd_create(const char *name);
/// Copy everything from `in` (at its current offset) to `out` with sendfile(2); bytes copied or -1.
long sk_copy_fd(int out, int in);
/// Seal a memfd for good: F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE.
int sk_seal_all(int fd);
/// The seals of a memfd (F_GET_SEALS), or -1 (e.g. EINVAL for an ordinary file).
int sk_get_seals(int fd);
/// 1 when `seals` holds every seal sk_seal_all sets.
int sk_fully_sealed(int seals);
/// execveat(fd, "", argv, environ, AT_EMPTY_PATH): run the program an fd refers to.
int sk_execveat_fd(int fd, char *const argv[]);
/// prctl(PR_SET_DUMPABLE, on).
int sk_set_dumpable(int on);
/// personality(2); returns the previous persona or -1.
int sk_personality(unsigned long persona);
/// close_range(first, last, 0): close every fd from `first` to `last`; on kernels
/// without close_range (before 5.9) the same with close(2) up to the fd limit.
int sk_close_range_between(unsigned int first, unsigned int last);

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, &{count, insns}): load a classic BPF program
/// (struct sock_filter, 8 bytes per instruction) as this thread's seccomp filter. Returns
/// 0, or the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER; -1 with errno.
int sk_seccomp_set_filter(unsigned int flags, const void *insns, unsigned short count);

#endif
