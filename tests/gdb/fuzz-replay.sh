#!/bin/sh
# Replays the committed GDB stub fuzz corpus (fuzz/corpus/gdbstub), each
# input with a fixed number of seeded mutations, through the fuzz target.
here=$(dirname "$0")
src=${V2E_SRCDIR:-$(cd "$here/../../.." && pwd)}
exec "$here/gdb-fuzz-replay" -m "${V2E_FUZZ_MUTATIONS:-300}" \
	$(find "$src/fuzz/corpus/gdbstub" -type f | sort)
