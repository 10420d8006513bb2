#!/bin/sh
# Seeds for the qcow2 fuzzer: small images qemu-img makes with each
# feature the parser knows. Usage: make-corpus.sh DIR
set -e
d=$1
mkdir -p "$d"
cd "$d"
q() { qemu-io "$@" >/dev/null; }
qemu-img create -q -f qcow2 -o cluster_size=512 v3.qcow2 256k
q -c 'write -P 1 0 20k' -c 'write -z 30k 10k' v3.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=512 v2.qcow2 256k
q -c 'write -P 2 1k 9k' v2.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=1 rc1.qcow2 128k
q -c 'write -P 3 0 8k' rc1.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 rc64.qcow2 128k
q -c 'write -P 4 4k 8k' rc64.qcow2
qemu-img create -q -f raw src.raw 64k
q -f raw -c 'write -P 5 0 32k' src.raw
qemu-img convert -c -O qcow2 -o cluster_size=512 src.raw zlib.qcow2
qemu-img convert -c -O qcow2 -o cluster_size=512,compression_type=zstd \
	src.raw zstd.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512 -b src.raw -F raw back.qcow2
q -c 'write -P 6 2k 2k' back.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512 snap.qcow2 64k
q -c 'write -P 7 0 16k' snap.qcow2
qemu-img snapshot -c s1 snap.qcow2
q -c 'write -P 8 0 4k' snap.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512 bitmap.qcow2 64k
qemu-img bitmap --add bitmap.qcow2 b0
rm -f src.raw
