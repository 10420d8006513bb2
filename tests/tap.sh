# TAP for the shell tests (prove reads what these print). Source it:
#   . "$(dirname "$0")/tap.sh"
#   cmd; ok $? "what passed"           passes when the status is 0
#   check '[ "$rc" = 0 ]' "what"       passes when the expression holds
#   run_ok "what" cmd args...          passes when cmd succeeds (its
#                                      output shown as diagnostics if not)
#   run_fails "what" cmd args...       passes when cmd fails
#   skip_all "why"                     the whole test does not apply here
#   tap_done                           the plan; exits 1 if anything failed
tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

check() {
	if eval "$1"; then ok 0 "$2"; else ok 1 "$2"; fi
}

run_ok() {
	tap_desc=$1
	shift
	tap_out=$("$@" 2>&1)
	tap_st=$?
	ok $tap_st "$tap_desc"
	[ $tap_st -eq 0 ] || printf '%s\n' "$tap_out" | sed 's/^/# /'
}

run_fails() {
	tap_desc=$1
	shift
	if "$@" >/dev/null 2>&1; then ok 1 "$tap_desc"; else ok 0 "$tap_desc"; fi
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

tap_done() {
	echo "1..$tap_n"
	[ $tap_failed -eq 0 ]
	exit $?
}
