#!/bin/sh
# Runs every TAP test program under the given build folders with prove;
# prove's summary is the last thing printed.
set -e
progs=""
for dir in "$@"; do
	[ -d "$dir/tests" ] || continue
	progs="$progs $(find "$dir/tests" -maxdepth 1 -name '*.t' -type f | sort)"
done
[ -n "$progs" ] || { echo "run-tests: no test programs found" >&2; exit 1; }
exec prove -e '' $progs
