#define _GNU_SOURCE
#include "CTerminalSignals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static int pipe_fds[2] = { -1, -1 };
static int saved_tty = -1;
static struct termios saved_modes;
static volatile sig_atomic_t have_saved_modes = 0;

static void on_terminate(int sig) {
    int saved_errno = errno;
    unsigned char byte = (unsigned char)sig;
    // A full pipe already holds a signal for the loop; losing this byte loses nothing.
    ssize_t ignored = write(pipe_fds[1], &byte, 1);
    (void)ignored;
    errno = saved_errno;
}

static void on_crash(int sig) {
    if (have_saved_modes) tcsetattr(saved_tty, TCSANOW, &saved_modes);
    static const char reset[] = "\033[?1000l\033[?1002l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";
    ssize_t ignored = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int terminating[] = { SIGTERM, SIGHUP, SIGINT };
static const int fatal[] = { SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE };

int cts_install(int tty_fd) {
    if (pipe_fds[0] < 0 && pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        pipe_fds[0] = pipe_fds[1] = -1;
        return -1;
    }
    saved_tty = tty_fd;
    have_saved_modes = tcgetattr(tty_fd, &saved_modes) == 0;

    struct sigaction quit;
    memset(&quit, 0, sizeof quit);
    quit.sa_handler = on_terminate;
    sigemptyset(&quit.sa_mask);
    quit.sa_flags = SA_RESTART;
    for (unsigned i = 0; i < sizeof terminating / sizeof terminating[0]; i++) sigaction(terminating[i], &quit, NULL);

    struct sigaction crash;
    memset(&crash, 0, sizeof crash);
    crash.sa_handler = on_crash;
    sigemptyset(&crash.sa_mask);
    crash.sa_flags = SA_RESETHAND;
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) sigaction(fatal[i], &crash, NULL);
    return pipe_fds[0];
}

int cts_take(void) {
    if (pipe_fds[0] < 0) return 0;
    unsigned char buffer[64];
    int last = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) last = buffer[n - 1];
    return last;
}

void cts_uninstall(void) {
    for (unsigned i = 0; i < sizeof terminating / sizeof terminating[0]; i++) signal(terminating[i], SIG_DFL);
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
    have_saved_modes = 0;
    if (pipe_fds[0] >= 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        pipe_fds[0] = pipe_fds[1] = -1;
    }
}

int cts_pipe(int fds[2]) {
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}
