#!/bin/sh
# The doze dispatcher: help, version, unknown commands.
echo "1..4"
n=0
t() { n=$((n+1)); if eval "$2" >/dev/null 2>&1; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
t "doze --help exits 0" '"$DOZE" --help'
t "doze --version prints a version" '"$DOZE" --version | grep -q "^doze "'
t "doze with no command exits 2" '"$DOZE"; [ $? -eq 2 ]'
t "an unknown command exits 2 and says so" '"$DOZE" frobnicate 2>&1 | grep -q "not a doze command"'
