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
#include <stdio.h>
#include <string.h>
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

int wcwidth(wchar_t c);
int wcswidth(const wchar_t *s, size_t n);

#endif
