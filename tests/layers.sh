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
echo "1..$n"
exit $fail
