/*
 * The one piece of code that must run between fork and exec, where no JavaScript can: compiled in
 * memory at start-up by the TinyCC inside Bun (bun:ffi `cc`, the compiler bun:ffi's own dlopen
 * trampolines are made with), so nothing native ships beside the Bun binary. No headers: the
 * few libc calls are declared here, so it compiles where no C headers are installed.
 *
 * confined_spawn() vforks: the child shares the agent's memory until it execs, so it only makes
 * system calls, reports a failure through `failure` (the parent reads it once the child has
 * exec'd or exited) and never returns. It makes its own session, dies with the agent, enters its
 * working dir, confines itself to the ruleset (no new privileges, landlock_restrict_self), puts
 * the job's files on fds 0-2, closes every other fd, starts with default signal handlers and an
 * empty mask, and becomes the compiler. Without a path it stops after confining itself: the
 * start-up probe of whether the kernel lets a process confine itself at all.
 */

typedef void (*sig_handler)(int);

extern int vfork(void);
extern long syscall(long number, ...);
extern int prctl(int option, ...);
extern int setsid(void);
extern int getppid(void);
extern int chdir(const char *path);
extern int fcntl(int fd, int command, ...);
extern int dup2(int from, int to);
extern sig_handler signal(int number, sig_handler handler);
extern int sigfillset(void *set);
extern int sigemptyset(void *set);
extern int pthread_sigmask(int how, const void *set, void *old);
extern int execve(const char *path, char *const argv[], char *const envp[]);
extern int *__errno_location(void);
extern void _exit(int status);

#define SYS_LANDLOCK_RESTRICT_SELF 446
#define SYS_CLOSE_RANGE 436
#define PR_SET_PDEATHSIG 1
#define PR_SET_NO_NEW_PRIVS 38
#define SIGKILL 9
#define SIGSTOP 19
#define SIG_BLOCK 0
#define SIG_SETMASK 2
#define F_DUPFD 0
#define FIRST_FREE_FD 3
#define LAST_SIGNAL 64

/* Which step failed, as failure[0]; its errno is failure[1]. */
#define STEP_SESSION 1
#define STEP_PARENT_GONE 2
#define STEP_CWD 3
#define STEP_NO_NEW_PRIVS 4
#define STEP_RESTRICT 5
#define STEP_FDS 6
#define STEP_EXEC 7

static void fail(int *failure, int step) {
  failure[0] = step;
  failure[1] = *__errno_location();
  _exit(127);
}

/* fds 0-2 from three fds that may themselves be 0-2: each is copied above 2 first. */
static void take_stdio(int in_fd, int out_fd, int err_fd, int *failure) {
  int in_copy = fcntl(in_fd, F_DUPFD, FIRST_FREE_FD);
  int out_copy = fcntl(out_fd, F_DUPFD, FIRST_FREE_FD);
  int err_copy = fcntl(err_fd, F_DUPFD, FIRST_FREE_FD);
  if (in_copy < 0 || out_copy < 0 || err_copy < 0) fail(failure, STEP_FDS);
  if (dup2(in_copy, 0) < 0 || dup2(out_copy, 1) < 0 || dup2(err_copy, 2) < 0) fail(failure, STEP_FDS);
  if (syscall(SYS_CLOSE_RANGE, FIRST_FREE_FD, ~0U, 0) != 0) fail(failure, STEP_FDS);
}

int confined_spawn(const char *path, char *const *argv, char *const *envp, const char *cwd, int in_fd, int out_fd,
                   int err_fd, int ruleset_fd, int agent_pid, int *failure) {
  unsigned long blocked[16];
  unsigned long saved[16];
  /* No signal handler of the agent's may run in the child, which shares its memory. */
  sigfillset(blocked);
  pthread_sigmask(SIG_BLOCK, blocked, saved);
  int pid = vfork();
  if (pid != 0) {
    pthread_sigmask(SIG_SETMASK, saved, 0);
    return pid;
  }
  if (setsid() < 0) fail(failure, STEP_SESSION);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* The agent may have died before the signal was armed. */
  if (getppid() != agent_pid) fail(failure, STEP_PARENT_GONE);
  if (cwd != 0 && chdir(cwd) != 0) fail(failure, STEP_CWD);
  if (ruleset_fd >= 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail(failure, STEP_NO_NEW_PRIVS);
    if (syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset_fd, 0) != 0) fail(failure, STEP_RESTRICT);
  }
  if (path == 0) _exit(0);
  take_stdio(in_fd, out_fd, err_fd, failure);
  for (int number = 1; number <= LAST_SIGNAL; number++)
    if (number != SIGKILL && number != SIGSTOP) signal(number, (sig_handler)0);
  sigemptyset(blocked);
  pthread_sigmask(SIG_SETMASK, blocked, 0);
  execve(path, argv, envp);
  fail(failure, STEP_EXEC);
  return -1;
}
