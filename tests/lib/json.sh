# Shell helpers for the pretty-printed --stats-json files (vmm/stats.c writes one
# member per line). Source it: . "$DZ_SRC/tests/lib/json.sh"

# jget FILE a.b.c -> the scalar at that path (strings without quotes), "" if absent.
jget() {
	awk -v want="$2" '
	{
		line = $0
		sub(/^[ \t]+/, "", line)
		if (line ~ /^[}\]]/) { depth--; next }
		key = ""
		if (match(line, /^"[^"]*":/)) {
			key = substr(line, 2, RLENGTH - 3)
			line = substr(line, RLENGTH + 1)
			sub(/^[ \t]+/, "", line)
		}
		if (line ~ /^[{\[]/) { path[++depth] = key; next }
		sub(/,$/, "", line)
		gsub(/^"|"$/, "", line)
		p = ""
		for (i = 1; i <= depth; i++) if (path[i] != "") p = p (p == "" ? "" : ".") path[i]
		p = p (p == "" ? "" : ".") key
		if (p == want) { print line; exit }
	}' "$1"
}

# jcmp NAME PATH OP VALUE: a TAP check (tests/lib/tap.sh) of a numeric member of
# $T/st.json, e.g. jcmp "no hard error" async.hard_errors -eq 0
jcmp() {
	v=$(jget "$T/st.json" "$2")
	if [ -n "$v" ] && [ "${v%.*}" "$3" "$4" ]; then ok "$1 ($2 = $v)"; else n=$((n+1)); echo "not ok $n - $1 ($2 = '$v', want $3 $4)"; fi
}
