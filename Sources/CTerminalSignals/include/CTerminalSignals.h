#ifndef CTERMINALSIGNALS_H
#define CTERMINALSIGNALS_H

// Signal handling for a full-screen terminal program, kept in a compiled C file (not a
// header) so that the handler and the reader share one copy of the state.
//
// SIGTERM, SIGHUP and SIGINT write their number to a non-blocking self-pipe; the event loop
// polls the pipe's read end together with the terminal, so a signal wakes it at once and
// nothing is lost however the program was optimised. A crash (a Swift trap is SIGILL or
// SIGTRAP) cannot return to the loop, so its handler puts back the saved terminal modes and
// a fixed reset sequence, both async-signal-safe, then dies with the original signal.

/// Saves the terminal modes of `tty_fd`, makes the pipe and installs the handlers.
/// Returns the pipe's read end to poll, or -1 when the pipe cannot be made.
int cts_install(int tty_fd);

/// The last signal that arrived since the previous call (0 when none); empties the pipe.
int cts_take(void);

/// Puts the default handlers back and closes the pipe. Safe to call twice.
void cts_uninstall(void);

/// A non-blocking, close-on-exec pipe (for the event loop's own wake-ups); 0 on success.
int cts_pipe(int fds[2]);

#endif
