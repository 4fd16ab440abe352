#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <grp.h>
#include <unistd.h>
#include <linux/sched.h>
#include <linux/openat2.h>
#include <linux/bpf.h>
#include <sys/signalfd.h>
#include <termios.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

pid_t sk_clone3(uint64_t flags, int cgroup_fd) {
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = syscall(SYS_clone3, &args, sizeof(args));
    if (pid < 0 && errno == ENOSYS && cgroup_fd < 0) {
        // Older kernels: the classic clone() with the same fork-like semantics.
        pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    }
    return (pid_t)pid;
}

int sk_unshare(int flags) { return unshare(flags); }
int sk_setns(int fd, int nstype) { return setns(fd, nstype); }
int sk_pivot_root(const char *n, const char *o) { return (int)syscall(SYS_pivot_root, n, o); }
int sk_mount(const char *s, const char *t, const char *f, unsigned long fl, const char *d) {
    return mount(s, t, f, fl, d);
}
int sk_umount2(const char *t, int f) { return umount2(t, f); }
int sk_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}
int sk_mknodat(int dirfd, const char *name, mode_t mode, uint32_t major, uint32_t minor) {
    return mknodat(dirfd, name, mode, makedev(major, minor));
}
int sk_join_session_keyring(const char *name) {
    return (int)syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name, 0, 0, 0);
}
int sk_sethostname(const char *n, size_t l) { return sethostname(n, l); }
int sk_setdomainname(const char *n, size_t l) { return setdomainname(n, l); }
int sk_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int sk_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }
int sk_close_range_cloexec(unsigned int first) {
    return (int)syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
}
int sk_setgroups(size_t n, const gid_t *g) { return setgroups(n, g); }
int sk_setresuid(uid_t r, uid_t e, uid_t s) { return setresuid(r, e, s); }
int sk_setresgid(gid_t r, gid_t e, gid_t s) { return setresgid(r, e, s); }

int sk_set_child_subreaper(int on) { return prctl(PR_SET_CHILD_SUBREAPER, on, 0, 0, 0); }
int sk_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int sk_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int sk_set_keepcaps(int on) { return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0); }
int sk_set_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
int sk_clear_ambient(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }

int sk_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int sk_send_fd(int sock, int fd, const void *msg, size_t len) {
    char dummy = 0;
    struct iovec iov = { .iov_base = (void *)(len ? msg : &dummy), .iov_len = len ? len : 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } u;
    memset(&u, 0, sizeof(u));
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof(u.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int sk_recv_fd(int sock, void *msg, size_t cap, ssize_t *msg_len) {
    char dummy;
    struct iovec iov = { .iov_base = cap ? msg : &dummy, .iov_len = cap ? cap : 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } u;
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof(u.buf);
    ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (msg_len) *msg_len = n;
    if (n < 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
            return fd;
        }
    }
    errno = EBADMSG;
    return -1;
}

long sk_fstatfs_type(int fd) {
    struct statfs st;
    if (fstatfs(fd, &st) < 0) return -1;
    return (long)st.f_type;
}

int sk_sigmask_all(int how) {
    sigset_t set;
    sigfillset(&set);
    return sigprocmask(how == 0 ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

int sk_sigwait_any(int timeout_ms) {
    sigset_t set;
    sigfillset(&set);
    siginfo_t info;
    int sig;
    if (timeout_ms < 0) {
        do { sig = sigwaitinfo(&set, &info); } while (sig < 0 && errno == EINTR);
    } else {
        struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L };
        do { sig = sigtimedwait(&set, &info, &ts); } while (sig < 0 && errno == EINTR);
        if (sig < 0 && errno == EAGAIN) return 0;
    }
    return sig;
}

void sk_reset_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &sa, NULL);
    }
}

int sk_wifexited(int s) { return WIFEXITED(s); }
int sk_wexitstatus(int s) { return WEXITSTATUS(s); }
int sk_wifsignaled(int s) { return WIFSIGNALED(s); }
int sk_wtermsig(int s) { return WTERMSIG(s); }

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int sk_pty_open_peer(int master) {
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) return -1;
    return ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
}
int sk_pty_number(int master) {
    unsigned int n;
    if (ioctl(master, TIOCGPTN, &n) < 0) return -1;
    return (int)n;
}
int sk_set_ctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }
int sk_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws;
    memset(&ws, 0, sizeof(ws));
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}
int sk_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

int sk_signalfd_all(void) {
    sigset_t set;
    sigfillset(&set);
    return signalfd(-1, &set, SFD_CLOEXEC);
}
int sk_signalfd_read(int fd, int *pid) {
    struct signalfd_siginfo si;
    ssize_t n;
    do { n = read(fd, &si, sizeof(si)); } while (n < 0 && errno == EINTR);
    if (n != sizeof(si)) return -1;
    if (pid) *pid = (int)si.ssi_pid;
    return (int)si.ssi_signo;
}

int sk_bpf_load_device_filter(const void *insns, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache";
    if (log && log_size) {
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    if (fd < 0 && log && log_size && errno == ENOSPC) {
        // The log buffer was too small: load again without a log to get the real result.
        attr.log_buf = 0; attr.log_size = 0; attr.log_level = 0;
        fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    }
    return fd;
}

int sk_bpf_attach_device_filter(int cgroup_fd, int prog_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}

// ---- Security (issue 5)

#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/sendfile.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

extern char **environ;

static const int sk_all_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

int sk_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}
long sk_copy_fd(int out, int in) {
    long total = 0;
    for (;;) {
        ssize_t n = sendfile(out, in, NULL, 1 << 30);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return total;
        total += n;
    }
}
int sk_seal_all(int fd) { return fcntl(fd, F_ADD_SEALS, sk_all_seals); }
int sk_get_seals(int fd) { return fcntl(fd, F_GET_SEALS); }
int sk_fully_sealed(int seals) { return seals >= 0 && (seals & sk_all_seals) == sk_all_seals; }
int sk_execveat_fd(int fd, char *const argv[]) {
    return (int)syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}
int sk_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on, 0, 0, 0); }
int sk_personality(unsigned long persona) { return personality(persona); }
int sk_close_range_between(unsigned int first, unsigned int last) {
    if (first > last) return 0;
    if (syscall(SYS_close_range, first, last, 0) == 0) return 0;
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd <= (long)last && fd < max; fd++) close((int)fd);
    return 0;
}

// The new mount API (see cshim.h).
int sk_open_tree(int dirfd, const char *path, unsigned int flags) {
    return (int)syscall(SYS_open_tree, dirfd, path, flags | O_CLOEXEC);
}
struct sk_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };
int sk_mount_setattr(int fd, unsigned int extra_flags, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation) {
    struct sk_mount_attr attr = { attr_set, attr_clr, propagation, 0 };
    return (int)syscall(442 /* SYS_mount_setattr */, fd, "", AT_EMPTY_PATH | extra_flags, &attr, sizeof(attr));
}
int sk_move_mount_fds(int from_fd, int to_fd) {
    return (int)syscall(SYS_move_mount, from_fd, "", to_fd, "", 0x00000004 | 0x00000040);
}
long long sk_mount_id(int fd) {
    struct statx stx;
    memset(&stx, 0, sizeof(stx));
    if (statx(fd, "", AT_EMPTY_PATH, 0x00001000U /* STATX_MNT_ID */, &stx) != 0) return -1;
    return (long long)stx.stx_mnt_id;
}

// ---- seccomp without libseccomp: load a program compiled earlier (SeccompProgram.swift)

#include <linux/filter.h>
#include <linux/seccomp.h>

int sk_seccomp_set_filter(unsigned int flags, const void *insns, unsigned short count) {
    struct sock_fprog prog = { .len = count, .filter = (struct sock_filter *)insns };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}
