#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H

// Wide-character ncurses: these must be defined before any system header.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <ncursesw/curses.h>

// Swift 6 rejects ncurses' mutable C globals as not concurrency-safe; only the backend reads
// them, through these accessors.
static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }

// Macros that do not import into Swift.
static const attr_t cn_a_normal = A_NORMAL;
static const attr_t cn_a_bold = A_BOLD;
static const attr_t cn_a_reverse = A_REVERSE;
static const attr_t cn_a_underline = A_UNDERLINE;
static const attr_t cn_a_dim = A_DIM;
static inline attr_t cn_color_pair(int n) { return (attr_t)COLOR_PAIR(n); }
static const int cn_key_code_yes = KEY_CODE_YES;
static const int cn_key_resize = KEY_RESIZE;
static const int cn_key_mouse = KEY_MOUSE;
static const int cn_err = ERR;
static const int cn_ok = OK;

// Mouse wheel masks (BUTTON5 is only defined by the newer mouse interface).
static inline mmask_t cn_wheel_up_mask(void) { return BUTTON4_PRESSED; }
static inline mmask_t cn_wheel_down_mask(void) {
#ifdef BUTTON5_PRESSED
    return BUTTON5_PRESSED;
#else
    return 0;
#endif
}

// Writes one cell: a grapheme (one base code point plus combining marks) with attributes and
// a colour pair. Returns ERR when ncurses refuses it.
static inline int cn_put_cell(int y, int x, const wchar_t *text, int count, attr_t attrs, short pair) {
    cchar_t cell;
    wchar_t buffer[CCHARW_MAX + 1];
    int n = count < CCHARW_MAX ? count : CCHARW_MAX;
    for (int i = 0; i < n; i++) buffer[i] = text[i];
    buffer[n] = 0;
    if (setcchar(&cell, buffer, attrs, pair, NULL) == ERR) return ERR;
    return mvadd_wch(y, x, &cell);
}

// The codeset of the current locale, to decide whether wide characters will work.
static inline const char *cn_codeset(void) { return nl_langinfo(CODESET); }

static inline FILE *cn_stdout(void) { return stdout; }
static inline FILE *cn_stdin(void) { return stdin; }

// Signals. SIGTERM, SIGHUP and SIGINT only set a flag that the event loop polls (restoring
// the terminal is not async-signal-safe). A crash (a Swift trap is SIGILL or SIGTRAP) cannot
// return to the loop, so its handler puts back the saved terminal modes with tcsetattr and a
// fixed reset sequence, both async-signal-safe, then dies with the original signal.
static volatile sig_atomic_t cn_signal_received = 0;
static inline struct termios *cn_saved_termios(void) {
    static struct termios saved;
    return &saved;
}
static volatile sig_atomic_t cn_have_saved_termios = 0;

static void cn_on_terminate(int sig) { cn_signal_received = sig; }

static void cn_on_crash(int sig) {
    if (cn_have_saved_termios) tcsetattr(STDIN_FILENO, TCSANOW, cn_saved_termios());
    static const char reset[] = "\033[?1000l\033[?1002l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";
    ssize_t ignored = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void cn_install_signal_handlers(void) {
    if (tcgetattr(STDIN_FILENO, cn_saved_termios()) == 0) cn_have_saved_termios = 1;
    struct sigaction quit;
    memset(&quit, 0, sizeof quit);
    quit.sa_handler = cn_on_terminate;
    sigemptyset(&quit.sa_mask);
    sigaction(SIGTERM, &quit, NULL);
    sigaction(SIGHUP, &quit, NULL);
    sigaction(SIGINT, &quit, NULL);
    struct sigaction crash;
    memset(&crash, 0, sizeof crash);
    crash.sa_handler = cn_on_crash;
    sigemptyset(&crash.sa_mask);
    crash.sa_flags = SA_RESETHAND;
    int fatal[] = { SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE };
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) sigaction(fatal[i], &crash, NULL);
}

static inline void cn_reset_signal_handlers(void) {
    int all[] = { SIGTERM, SIGHUP, SIGINT, SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE };
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++) signal(all[i], SIG_DFL);
    cn_have_saved_termios = 0;
}

/// The signal that arrived since the last call (0 when none), clearing it.
static inline int cn_take_signal(void) {
    int s = cn_signal_received;
    cn_signal_received = 0;
    return s;
}

int wcwidth(wchar_t c);
int wcswidth(const wchar_t *s, size_t n);

#endif
