#!/usr/bin/env bash
# End-to-end test of the interactive notebook: drives the real binary inside tmux, reads the
# screen with capture-pane, and checks that the terminal is usable again after each exit
# (q, Ctrl-C, SIGTERM), and that edits survive a restart. Usage: Tests/e2e/tui.sh  (DERIVE_BIN overrides the binary).
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v tmux >/dev/null || { echo "tui.sh: tmux is not installed" >&2; exit 1; }
BIN=${DERIVE_BIN:-$(swift build --show-bin-path)/derive}
[ -x "$BIN" ] || { echo "tui.sh: no binary at $BIN (run swift build first)" >&2; exit 1; }
LESSONS=Tests/TUITests/Fixtures/lessons
SESSION="derive-e2e-$$"
WORK=$(mktemp -d)
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$WORK"' EXIT

tmux new-session -d -s "$SESSION" -x 100 -y 30 "env -i PATH=$PATH HOME=$WORK TERM=xterm-256color LANG=C.UTF-8 bash --norc --noprofile"
send() { tmux send-keys -t "$SESSION" "$@"; }
screen() { tmux capture-pane -t "$SESSION" -p; }
passed=0
fail() {
    echo "FAIL: $1"
    echo "----- screen -----"
    screen
    echo "------------------"
    exit 1
}
# Waits (up to 5 s) until the screen contains the text.
expect() {
    for _ in $(seq 1 100); do
        if grep -qF -- "$1" <<<"$(screen)"; then passed=$((passed + 1)); return 0; fi
        sleep 0.05
    done
    fail "expected '$1' on the screen"
}
expect_not() {
    sleep 0.3
    if grep -qF -- "$1" <<<"$(screen)"; then fail "did not expect '$1' on the screen"; fi
    passed=$((passed + 1))
}
# The shell is back, echoes what is typed, and the tty is in canonical mode with echo.
check_restored() {
    local tag=$1
    send "clear" Enter
    send "stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo ' $tag'" Enter
    expect "icanon echo  $tag"
}

send "export PS1='READY> '" Enter
expect "READY>"

# 1. Open a lesson at 100x30: text on the left, the focused cell beside it.
send "$BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "in blocks of 3 steps"
expect "PARAMETERS"
expect "▶ safe"

# 2. Move to the next cell, choose its second parameter, edit it: the prose changes.
send n
expect "▶ stream"
send "]"
send e
expect "✎"
send C-u 3 Enter
expect "in blocks of 2 steps"
expect "• edited"

# 3. An invalid value keeps the editor open with the error under it; Esc cancels.
send e C-u 0 Enter
expect "must be >= 1"
expect "✎"
send Escape
expect "edit cancelled"
expect "in blocks of 2 steps"

# 4. Resizes redraw at once: narrow (outputs in the text), too small, and back.
tmux resize-window -t "$SESSION" -x 60 -y 20
expect "│ PARAMETERS"
tmux resize-window -t "$SESSION" -x 30 -y 8
expect "Terminal too small"
tmux resize-window -t "$SESSION" -x 100 -y 30
expect "OUTPUTS"
expect_not "Terminal too small"

# The mouse wheel scrolls (SGR mouse reports, as xterm and tmux send them): three lines a notch.
send g
expect " 0%"
top=$(screen | sed -n 2p)
# Waits until line 2 of the screen is (or is not) the given text.
line2() {
    for _ in $(seq 1 100); do
        if [ "$1" = is ] && [ "$(screen | sed -n 2p)" = "$2" ]; then passed=$((passed + 1)); return 0; fi
        if [ "$1" = not ] && [ "$(screen | sed -n 2p)" != "$2" ]; then passed=$((passed + 1)); return 0; fi
        sleep 0.05
    done
    fail "line 2 should $1 be '$2'"
}
send -l $'\e[<65;10;10M'
line2 not "$top"
send -l $'\e[<64;10;10M'
line2 is "$top"
send g

# 5. Help overlay, then back to the list and out with q.
send "?"
expect "Keys · any key closes"
send x
send q
expect "derive · lessons"
expect "软最大值函数"
send q
expect "EXIT=0"
check_restored after-q

# 5b. Progress survives a restart: the edited value comes back at the cell the learner left,
# and `u` clears it for good.
send "$BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "in blocks of 2 steps"
expect "• edited"
expect "▶ stream"
send u
expect "in blocks of 3 steps"
send q q
expect "EXIT=0"
send "clear; $BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "in blocks of 3 steps"
expect_not "• edited"
send q q
expect "EXIT=0"
# Bare `derive` resumes the last lesson rather than showing the list.
send "clear; $BIN --lessons $LESSONS; echo EXIT=\$?" Enter
expect "in blocks of 3 steps"
expect "▶ stream"
send q q
expect "EXIT=0"

# 6. Chinese prose takes two columns per character; escape sequences are shown, not run.
send "$BIN tui --lessons $LESSONS zh-softmax; echo EXIT=\$?" Enter
expect "对于我们的分数，最大值是 5，分母是 1.5713。"
expect "␛[31m红色␛[0m"
# Ctrl-C quits from anywhere.
send C-c
expect "EXIT=0"
check_restored after-ctrl-c

# 7. SIGTERM restores the terminal too.
send "$BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "PARAMETERS"
shell_pid=$(tmux display-message -p -t "$SESSION" '#{pane_pid}')
app_pid=$(pgrep -P "$shell_pid" -x derive || true)
[ -n "$app_pid" ] || fail "could not find the derive process under the shell ($shell_pid)"
kill -TERM "$app_pid"
expect "EXIT=0"
check_restored after-sigterm

# 8. SIGHUP (the terminal went away) and a crash (SIGSEGV) restore the terminal as well.
send "$BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "PARAMETERS"
app_pid=$(pgrep -P "$shell_pid" -x derive || true)
[ -n "$app_pid" ] || fail "could not find the derive process"
kill -HUP "$app_pid"
expect "EXIT=0"
check_restored after-sighup
send "$BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "PARAMETERS"
app_pid=$(pgrep -P "$shell_pid" -x derive || true)
[ -n "$app_pid" ] || fail "could not find the derive process"
kill -SEGV "$app_pid"
expect "EXIT=139"
check_restored after-crash

# 9. An 8-colour terminal, NO_COLOR and TERM=dumb.
send "clear; TERM=xterm $BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "in blocks of 3 steps"
send q q
expect "EXIT=0"
send "NO_COLOR=1 $BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "in blocks of 3 steps"
send q q
expect "EXIT=0"
send "clear" Enter
tmux pipe-pane -t "$SESSION" -o "cat > $WORK/dumb.txt"
send "TERM=dumb $BIN tui --lessons $LESSONS online-softmax; echo DUMB=\$?" Enter
expect "DUMB=0"
tmux pipe-pane -t "$SESSION"
grep -qF "printing instead" "$WORK/dumb.txt" || fail "TERM=dumb: no note that the notebook cannot start"
grep -qF "blocks of 3 steps" "$WORK/dumb.txt" || fail "TERM=dumb: the lesson was not printed"
check_restored after-dumb

# Opening a lesson and quitting at once still makes it the one bare `derive` resumes.
send "clear; $BIN tui --lessons $LESSONS zh-softmax; echo EXIT=\$?" Enter
expect "对于我们的分数"
send q q
expect "EXIT=0"
send "clear; $BIN --lessons $LESSONS; echo EXIT=\$?" Enter
expect "对于我们的分数"
send q q
expect "EXIT=0"

echo "tui.sh: $passed checks passed"
