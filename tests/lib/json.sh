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
