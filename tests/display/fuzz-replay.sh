#!/bin/sh
# Replays the committed HTTP request corpus (fuzz/corpus/http), each input
# with a fixed number of seeded mutations, through the fuzz target.
here=$(dirname "$0")
src=${V2E_SRCDIR:-$(cd "$here/../../.." && pwd)}
exec "$here/display-fuzz-replay" -m "${V2E_FUZZ_MUTATIONS:-2000}" \
	$(find "$src/fuzz/corpus/http" -type f | sort)
