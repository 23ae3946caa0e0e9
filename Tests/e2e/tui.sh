#!/usr/bin/env bash
# End-to-end test of the interactive notebook: drives the real binary inside tmux, reads the
# screen with capture-pane, and checks that the terminal is usable again after each exit
# (q, Ctrl-C, SIGTERM), that edits survive a restart, and that only a clean exit stamps the
# database as checked. Usage: Tests/e2e/tui.sh  (DERIVE_BIN overrides the binary).
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v tmux >/dev/null || { echo "tui.sh: tmux is not installed" >&2; exit 1; }
BIN=${DERIVE_BIN:-$(swift build --show-bin-path)/derive}
[ -x "$BIN" ] || { echo "tui.sh: no binary at $BIN (run swift build first)" >&2; exit 1; }
LESSONS=Tests/TUITests/Fixtures/lessons
SESSION="derive-e2e-$$"
WORK=$(mktemp -d)
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; pkill -f -- "--lessons $WORK/" 2>/dev/null || true; rm -rf "$WORK"' EXIT

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
# A clean quit closes the database and stamps it as intact (the next start skips the
# page-by-page check); a crash below leaves no stamp.
DB="$WORK/.local/share/derive/progress.sqlite"
stamped() { [ -s "$DB-checked" ] && [ ! -e "$DB-wal" ]; }
if stamped; then passed=$((passed + 1)); else fail "no check stamp beside $DB after a clean quit: $(ls "$(dirname "$DB")")"; fi

# 6. Chinese prose takes two columns per character; escape sequences are shown, not run.
send "$BIN tui --lessons $LESSONS zh-softmax; echo EXIT=\$?" Enter
expect "对于我们的分数，最大值是 5，分母是 1.5713。"
expect "␛[31m红色␛[0m"
# Ctrl-C quits from anywhere.
send C-c
expect "EXIT=0"
check_restored after-ctrl-c

# 7. SIGTERM, SIGHUP and SIGINT end the notebook within a second, wherever it is, with the
# terminal restored and the shell's conventional status (128 + the signal's number).
# Waits until the derive started by the pane's shell is running; sets APP to its pid.
find_app() {
    local shell_pid
    shell_pid=$(tmux display-message -p -t "$SESSION" '#{pane_pid}')
    for _ in $(seq 1 100); do
        APP=$(pgrep -P "$shell_pid" -x derive || true)
        if [ -n "$APP" ]; then return 0; fi
        sleep 0.05
    done
    fail "could not find the derive process under the shell ($shell_pid)"
}
# Sends a signal and checks that the process is gone within a second.
signal_and_wait() {
    local pid=$1 sig=$2 where=$3
    kill "-$sig" "$pid"
    for _ in $(seq 1 20); do
        if ! kill -0 "$pid" 2>/dev/null; then passed=$((passed + 1)); return 0; fi
        sleep 0.05
    done
    fail "SIG$sig $where: derive ($pid) still running a second later"
}
for sig in TERM HUP INT; do
    status=$((128 + $(kill -l "$sig")))
    # In a lesson.
    send "clear; $BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
    expect "PARAMETERS"
    find_app; signal_and_wait "$APP" "$sig" "in a lesson"
    expect "EXIT=$status"
    check_restored "after-sig$sig-lesson"
    # In the list, with the help overlay open.
    send "clear; $BIN tui --lessons $LESSONS; echo EXIT=\$?" Enter
    expect "derive · lessons"
    send "?"
    expect "Keys · any key closes"
    find_app; signal_and_wait "$APP" "$sig" "in the list"
    expect "EXIT=$status"
    check_restored "after-sig$sig-list"
    # In the parameter editor.
    send "clear; $BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
    expect "PARAMETERS"
    send e
    expect "✎"
    find_app; signal_and_wait "$APP" "$sig" "in the editor"
    expect "EXIT=$status"
    check_restored "after-sig$sig-editor"
    # While a heavy cell runs (the exhaustive FP16 sweep takes seconds).
    send "clear; $BIN tui --lessons Tests/e2e/lessons heavy; echo EXIT=\$?" Enter
    expect "PARAMETERS"
    send Enter
    expect "Esc cancels"
    find_app; signal_and_wait "$APP" "$sig" "during a heavy cell"
    expect "EXIT=$status"
    check_restored "after-sig$sig-heavy"
done

# 8. A crash (SIGSEGV) restores the terminal as well.
send "clear; $BIN tui --lessons $LESSONS online-softmax; echo EXIT=\$?" Enter
expect "PARAMETERS"
find_app; kill -SEGV "$APP"
expect "EXIT=139"
check_restored after-crash
if stamped; then fail "a check stamp beside $DB after a crash"; else passed=$((passed + 1)); fi

# 8b. The terminal vanishes: the tmux server running the notebook is killed (a hang-up, then
# end of input). No derive may be left behind, spinning or waiting.
OTHER="derive-e2e-gone-$$"
MARK="$WORK/gone-lessons"
cp -r "$LESSONS" "$MARK"
tmux -L "$OTHER" new-session -d -x 100 -y 30 "env HOME=$WORK TERM=xterm-256color LANG=C.UTF-8 $BIN tui --lessons $MARK online-softmax"
for _ in $(seq 1 100); do pgrep -f -- "--lessons $MARK" >/dev/null && break; sleep 0.05; done
pgrep -f -- "--lessons $MARK" >/dev/null || fail "the notebook under the second tmux server did not start"
sleep 0.5
tmux -L "$OTHER" kill-server
sleep 2
if pgrep -f -- "--lessons $MARK" >/dev/null; then
    fail "derive still running 2 s after its terminal went away: $(pgrep -af -- "--lessons $MARK")"
fi
passed=$((passed + 1))

# 8c. Questions: the value waits for the prediction; a wrong answer says how far; a right
# one shows it; the second question is revealed with s; a restart keeps both.
send "clear; $BIN tui --lessons Tests/e2e/lessons quiz; echo EXIT=\$?" Enter
expect "probability ⟨answer “top” first⟩ of"
expect "▶ ? Question · top"
send a
send 0.5 Enter
expect "too low by 21%"
expect "probability ⟨answer “top” first⟩ of"
send a
send 0.636 Enter
expect "is right"
expect "probability 0.6364 of the total"
send n n
expect "▶ ? Question · count"
send s
expect "shown without an answer"
expect "answer: 3"
send q q
expect "EXIT=0"
send "clear; $BIN tui --lessons Tests/e2e/lessons quiz; echo EXIT=\$?" Enter
expect "probability 0.6364 of the total"
expect "? 2/2 (0 first try)"
send q q
expect "EXIT=0"

# 8d. An author edits the open lesson beside the notebook: the number changes within a second;
# a broken save shows its error and keeps the last good text; a rename-on-save fixes it.
mkdir -p "$WORK/live"
live_lesson() {
    printf -- '---\nid: live\ntitle: Live\n---\n\nThe largest share is {{first.softmax[2]:.4f}}.\n\n```cell id=first compute=softmax.safe\nx = %s\nexpect sum(softmax) ≈ 1 ± 1e-12\n```\n%s' "$1" "${2:-}"
}
live_lesson "[1, 2, 3]" > "$WORK/live/live.md"
send "clear; $BIN tui --lessons $WORK/live live; echo EXIT=\$?" Enter
expect "The largest share is 0.6652."
live_lesson "[1, 2, 5]" > "$WORK/live/live.md"
expect "The largest share is 0.9362."
live_lesson "[1, 2, 5]" $'\n```cell id=bad compute=no.such\n```\n' > "$WORK/live/live.md"
expect "not reloaded: "
expect "unknown compute module 'no.such'"
expect "The largest share is 0.9362."
live_lesson "[0, 0, 0]" > "$WORK/live/.live.md.tmp"
mv "$WORK/live/.live.md.tmp" "$WORK/live/live.md"
expect "The largest share is 0.3333."
expect_not "not reloaded: "
send q q
expect "EXIT=0"

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
