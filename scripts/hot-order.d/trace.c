// trace: run a program under ptrace and print, in the order they are first called, the
// functions of that program's executable that run, in every process and re-exec of it.
//
//   trace SYMBOLS OUT -- PROGRAM ARGS...
//   SYMBOLS: "ADDRESS NAME" lines (hex, as `nm` prints them) of the executable's functions
//   OUT:     appended with one NAME per line, each function the first time it runs
//
// Why by hand: the linker's symbol-ordering file (scripts/hot-order) wants the complete set
// of functions a `run` touches, including the Swift standard library, glibc and libstdc++
// linked into the static binary. Sampling profilers (perf) miss the many functions that run
// once, and this VM has no hardware tracing (no LBR, no PT), so the field's usual tools
// (perf + AutoFDO, Propeller) have nothing to read; instrumenting compilers
// (-finstrument-functions, SanitizerCoverage) cover only the code we compile ourselves.
// A one-shot breakpoint on the first byte of each function sees all of them, and costs one
// trap per function that runs.
//
// How: at each exec of PROGRAM (the first one, and skiff's exe-protection re-exec of a
// read-only copy, same inode), the text is read once from /proc/PID/mem, an int3 written at
// each function address, and the patched text written back in one go. A trap at one of
// those addresses records the function, puts the original byte back in that process and
// resumes it there. Forks and clones are followed (they inherit the remaining breakpoints);
// a process that execs any other program is detached. Exits with PROGRAM's exit status once
// every traced process has exited or exec'd another program. With TRACE_STATUS=FILE, it also
// writes PROGRAM's exit status to FILE as soon as PROGRAM itself exits: `create` leaves the
// container's init behind, traced until it execs, and the caller goes on when FILE appears.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct sym { uint64_t addr; char *name; int seen; };
static struct sym *syms;
static size_t nsyms;
static uint64_t lo, hi; // the range [lo, hi) that holds every function
static unsigned char *orig, *patched;
static struct stat target;
static FILE *out;

static int bycmp(const void *a, const void *b) {
    uint64_t x = ((const struct sym *)a)->addr, y = ((const struct sym *)b)->addr;
    return x < y ? -1 : x > y;
}

static struct sym *lookup(uint64_t addr) {
    size_t l = 0, r = nsyms;
    while (l < r) {
        size_t m = (l + r) / 2;
        if (syms[m].addr == addr) return &syms[m];
        if (syms[m].addr < addr) l = m + 1; else r = m;
    }
    return NULL;
}

static void load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1 << 16;
    syms = malloc(cap * sizeof *syms);
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        char *name = strchr(line, ' ');
        if (!name) continue;
        *name++ = 0;
        name[strcspn(name, "\n")] = 0;
        if (nsyms == cap) syms = realloc(syms, (cap *= 2) * sizeof *syms);
        syms[nsyms++] = (struct sym){strtoull(line, NULL, 16), strdup(name), 0};
    }
    fclose(f);
    qsort(syms, nsyms, sizeof *syms, bycmp);
    size_t k = 0; // one breakpoint per address (aliases share it; the first name stands)
    for (size_t i = 0; i < nsyms; i++)
        if (syms[i].addr && (k == 0 || syms[k - 1].addr != syms[i].addr)) syms[k++] = syms[i];
    nsyms = k;
    if (!nsyms) { fprintf(stderr, "trace: no symbols in %s\n", path); exit(2); }
    lo = syms[0].addr;
    hi = syms[nsyms - 1].addr + 1;
}

static int memfd(pid_t pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/mem", pid);
    return open(p, O_RDWR | O_CLOEXEC);
}

// After an exec: patch every function of a fresh image of PROGRAM (else detach).
static int patch(pid_t pid) {
    char p[64];
    struct stat st;
    snprintf(p, sizeof p, "/proc/%d/exe", pid);
    if (stat(p, &st) != 0 || st.st_ino != target.st_ino || st.st_dev != target.st_dev) return 0;
    int fd = memfd(pid);
    if (fd < 0) { perror("trace: /proc/PID/mem"); return 0; }
    size_t n = hi - lo;
    if (!orig) {
        orig = malloc(n);
        patched = malloc(n);
        if (pread(fd, orig, n, lo) != (ssize_t)n) { perror("trace: read text"); exit(2); }
    }
    memcpy(patched, orig, n);
    for (size_t i = 0; i < nsyms; i++) patched[syms[i].addr - lo] = 0xcc;
    if (pwrite(fd, patched, n, lo) != (ssize_t)n) { perror("trace: write text"); exit(2); }
    close(fd);
    return 1;
}

static void unpatch(pid_t pid, uint64_t addr) {
    int fd = memfd(pid);
    if (fd < 0 || pwrite(fd, &orig[addr - lo], 1, addr) != 1) perror("trace: restore");
    if (fd >= 0) close(fd);
}

int main(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--")) {
        fprintf(stderr, "usage: trace SYMBOLS OUT -- PROGRAM ARGS...\n");
        return 2;
    }
    load(argv[1]);
    out = fopen(argv[2], "a");
    if (!out) { perror(argv[2]); return 2; }
    setvbuf(out, NULL, _IOLBF, 0); // another trace may append to the same file
    if (stat(argv[4], &target) != 0) { perror(argv[4]); return 2; }
    fflush(stdout);
    fflush(stderr);
    pid_t main_pid = fork();
    if (main_pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execv(argv[4], &argv[4]);
        _exit(127);
    }
    int status;
    waitpid(main_pid, &status, 0); // the SIGSTOP
    ptrace(PTRACE_SETOPTIONS, main_pid, 0,
           PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
               PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, main_pid, 0, 0);
    int code = 1;
    for (;;) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) break; // no tracee left
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (pid == main_pid) {
                code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                const char *report = getenv("TRACE_STATUS");
                FILE *f = report ? fopen(report, "w") : NULL;
                if (f) { fprintf(f, "%d\n", code); fclose(f); }
            }
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status), event = status >> 16, deliver = 0;
        if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
            if (!patch(pid)) { ptrace(PTRACE_DETACH, pid, 0, 0); continue; }
        } else if (sig == SIGTRAP && event) {
            // clone, fork, vfork: the new process reports its own first stop
        } else if (sig == SIGTRAP) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, pid, 0, &regs);
            struct sym *s = lookup(regs.rip - 1);
            if (s) {
                if (!s->seen) { s->seen = 1; fprintf(out, "%s\n", s->name); }
                unpatch(pid, s->addr);
                regs.rip -= 1;
                ptrace(PTRACE_SETREGS, pid, 0, &regs);
            } else {
                deliver = sig;
            }
        } else if (sig == SIGSTOP) {
            // a new process's first stop, or a real SIGSTOP (rare here): swallowed
        } else {
            deliver = sig;
        }
        ptrace(PTRACE_CONT, pid, 0, deliver);
    }
    fclose(out);
    return code;
}
