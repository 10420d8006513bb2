# The folders are the process map (STYLE.md, principle 1): the device
# model's code includes no header of the vmm and its program links no
# library of the vmm. The build puts `src` (the source tree) and
# `dm_libs` (the libraries v2e-dm links) above this text.
n=0
fail=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

hits=$(grep -rln '^#include "vmm/' "$src/src/dm")
[ -z "$hits" ]; ok $? "no file under src/dm includes a vmm/ header ($hits)"
case " $dm_libs " in
*/libvmm.a*) false ;;
esac
ok $? "v2e-dm links no vmm library ($dm_libs)"

# The disk images belong to v2e-blk: a device model neither parses them
# (no block layer) nor reaches the backend's insides.
hits=$(grep -rlnE '^#include "(block|blkback)/' "$src/src/dm")
[ -z "$hits" ]; ok $? "no file under src/dm includes a block/ or blkback/ header ($hits)"
case " $dm_libs " in
*/libblock.a*) false ;;
esac
ok $? "v2e-dm links no block layer ($dm_libs)"
hits=$(grep -rlnE '^#include "(vmm|dm/hw|dm/board)' "$src/src/blkback")
[ -z "$hits" ]; ok $? "no file under src/blkback includes a vmm or device header ($hits)"
# The display owns the display: nothing of the vmm, the devices or the
# disks.
hits=$(grep -rlnE '^#include "(vmm/|dm/hw/|dm/board|block/|blkback/)' "$src/src/display")
[ -z "$hits" ]; ok $? "no file under src/display includes a vmm, device or block header ($hits)"
echo "1..$n"
exit $fail
