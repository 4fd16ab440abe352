// A container's init that runs in skiff's own memory until it calls execve (CLONE_VM),
// and the socket calls that keep the two from ever running at the same time.
//
// Why: after a plain clone (fork semantics) every page init writes is a copy-on-write
// copy of one of skiff's pages, made in the container's cgroup and charged to its memory
// limit: the heap chunks malloc hands out, the Swift runtime's caches and locks in the
// binary's data, the stack, and the page tables copied at the clone. That is most of
// what separated skiff's lowest workable memory limit from crun's (docs/performance.md).
// With CLONE_VM there is no copy: init's user-space pages belong to skiff's memory, which
// the kernel charges to skiff's cgroup (the mm's owner), and execve gives init a memory of
// its own, charged to the container. This is what posix_spawn does (vfork); kernel
// objects (mounts, namespaces) are still charged to the container, as with any runtime.
//
// Why by hand: glibc has no clone3 wrapper that takes a stack and a function, and a
// CLONE_VM child needs both: it cannot return into the parent's stack frames. The few
// lines of assembly below are what glibc's own clone3.S does on x86_64. Elsewhere,
// sk_clone3_shared fails with ENOSYS and skiff uses its ordinary clone (sk_clone3).
//
// The rule that makes sharing safe: skiff and init share one heap, one set of globals and
// even glibc's thread-local data (errno, malloc's cache), so they must never run at the
// same time, like two coroutines. Each hands over to the other only by a message on the
// handshake socket sent by sk_sync_exchange, which blocks in recvmsg right after sendmsg,
// without returning to Swift in between; the child starts blocked (it peeks for "go"),
// and at the end either execve (the socket closes) or the parent's exit (create) hands
// the memory over for good. Process/Launcher.swift says which launches use this.
#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

// Read by the child when it starts. Static, not on skiff's stack: skiff returns from
// sk_clone3_shared at once and reuses its stack while the child may still be starting.
static struct {
    int sync_fd;
    void (*entry)(void *);
    void *context;
} child_start;

// The child's first function, on its own stack. It waits, without touching anything
// skiff uses, until skiff has sent "go" and is blocked in sk_sync_exchange.
static int child_main(void *unused) {
    (void)unused;
    prctl(PR_SET_PDEATHSIG, SIGKILL); // dies with skiff, as a forked init does (Init.swift)
    char byte;
    ssize_t n;
    do {
        n = recv(child_start.sync_fd, &byte, 1, MSG_PEEK); // the message stays for Swift to read
    } while (n < 0 && errno == EINTR);
    child_start.entry(child_start.context); // never returns
    return 127;
}

#if defined(__x86_64__)
// clone3 with a stack: the child starts on `args->stack` and calls fn(arg), then exits.
// r12 and r13 survive the system call in both processes (only rax, rcx, r11 change).
static long clone3_on_stack(struct clone_args *args, int (*fn)(void *), void *arg) {
    long ret;
    register long r12 __asm__("r12") = (long)fn;
    register long r13 __asm__("r13") = (long)arg;
    __asm__ volatile(
        "syscall\n\t"
        "testq %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xorl %%ebp, %%ebp\n\t"   // the child: a new stack, no caller frame
        "movq %%r13, %%rdi\n\t"
        "callq *%%r12\n\t"
        "movl %%eax, %%edi\n\t"
        "movl $60, %%eax\n\t"     // SYS_exit
        "syscall\n\t"
        "hlt\n\t"
        "1:\n\t"
        : "=a"(ret)
        : "a"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r12), "r"(r13)
        : "rcx", "r11", "memory");
    return ret;
}
#endif

pid_t sk_clone3_shared(uint64_t flags, int cgroup_fd, int sync_fd, void (*entry)(void *), void *context) {
#if defined(__x86_64__)
    // The child's stack: 8 MiB of address space like a main thread's; only the pages it
    // touches exist. Never unmapped: skiff cannot tell when init is done with it, and it
    // goes with skiff's exit.
    const size_t size = 8 << 20, guard = 4096;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE,
                       -1, 0);
    if (stack == MAP_FAILED) return -1;
    mprotect(stack, guard, PROT_NONE); // an overflow faults instead of writing skiff's memory
    stack[size - 1] = 0; // its page table now, in skiff: made by the child it would be charged to the container
    child_start.sync_fd = sync_fd;
    child_start.entry = entry;
    child_start.context = context;
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.flags = flags | CLONE_VM;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = size;
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long pid = clone3_on_stack(&args, child_main, NULL);
    if (pid < 0) {
        munmap(stack, size);
        errno = (int)-pid;
        return -1;
    }
    return (pid_t)pid;
#else
    (void)flags; (void)cgroup_fd; (void)sync_fd; (void)entry; (void)context;
    errno = ENOSYS;
    return -1;
#endif
}

int sk_sync_exchange(int sock, const void *msg, size_t len, int send_fd, void *buf, size_t cap, ssize_t *got,
                     int *passed) {
    *got = -1;
    *passed = -1;
    int sent = send_fd >= 0 ? sk_send_fd(sock, send_fd, msg, len) : (send(sock, msg, len, MSG_NOSIGNAL) < 0 ? -1 : 0);
    if (sent < 0) return -1;
    int fd;
    do {
        fd = sk_recv_fd(sock, buf, cap, got);
    } while (*got < 0 && errno == EINTR);
    *passed = fd;
    return 0;
}

int sk_send_and_exit(int sock, const void *msg, size_t len, int code) {
    if (send(sock, msg, len, MSG_NOSIGNAL) < 0) return -1;
    _exit(code);
}

void sk_close_and_await_exit(int close_fd, int pidfd) {
    close(close_fd);
    if (pidfd < 0) return;
    struct pollfd p = { .fd = pidfd, .events = POLLIN, .revents = 0 };
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    close(pidfd);
}
