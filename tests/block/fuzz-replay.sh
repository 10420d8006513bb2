#!/bin/sh
# Replays the committed fuzz corpus and seeds made by qemu-img, each with
# a fixed number of seeded mutations, through the qcow2 fuzz target.
here=$(dirname "$0")
src=${V2E_SRCDIR:-$(cd "$here/../../.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/v2e-fuzz-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$src/fuzz/make-corpus.sh" "$tmp" >&2 || { echo "1..0 # SKIP no qemu-img"; exit 0; }
exec "$here/block-fuzz-replay" -m "${V2E_FUZZ_MUTATIONS:-300}" "$tmp"/* \
	$(find "$src/fuzz/corpus" -type f ! -name README 2>/dev/null | sort) 2>/dev/null
