#!/usr/bin/env bash
# Runs a command (the broker JVM) for as long as our parent holds our stdin
# open. When the parent exits — normally, by a failed test or SIGKILL — the
# pipe closes and the command is stopped, so no JVM is ever left behind.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
( while read -r _; do :; done; kill -TERM "$child" 2>/dev/null ) <&0 &
watcher=$!
wait "$child"
status=$?
# `wait` returns early when a trapped signal arrives: wait again for the JVM.
while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
kill "$watcher" 2>/dev/null
exit "$status"
