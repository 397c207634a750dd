#!/usr/bin/env bash
# scripts/door-calls.sh - which file of a folder calls which, from the compiled objects, and
# whether those calls go round in a circle.
#
#   scripts/door-calls.sh [OBJDIR]    (default build/rel/src/lib/door)
#
# For every object, nm gives the functions it defines (T) and the ones it needs (U); an edge
# a -> b is a call from a's object to a function b's object defines. Prints the edges, then
# one "cycle:" line per circle found (a strongly connected component of more than one file),
# and exits 1 when there is any. Used by scripts/check-layers.sh.
set -u
dir=${1:-build/rel/src/lib/door}
objs=$(ls "$dir"/*.o 2>/dev/null)
if [ -z "$objs" ]; then
    echo "door-calls: no objects in $dir (build build/custos first)" >&2
    exit 2
fi
for o in $objs; do
    src=${o#build/rel/}
    src=${src#build/san/}
    [ "$src" = "$o" ] || [ -f "${src%.o}.c" ] || continue # an object left from a removed file
    f=$(basename "$o" .o)
    nm --defined-only "$o" | awk -v f="$f" '$2 ~ /^[TDBR]$/ {print "D", f, $3}'
    nm -u "$o" | awk -v f="$f" '{print "U", f, $2}'
done | python3 -c '
import sys
defs, uses = {}, []
for line in sys.stdin:
    k, f, s = line.split()
    if k == "D":
        defs[s] = f
    else:
        uses.append((f, s))
edges = {}
for f, s in uses:
    t = defs.get(s)
    if t and t != f:
        edges.setdefault(f, {}).setdefault(t, []).append(s)
files = sorted(set(defs.values()) | set(f for f, _ in uses))
for f in files:
    for t in sorted(edges.get(f, {})):
        print("  %s -> %s (%s)" % (f, t, ", ".join(sorted(set(edges[f][t]))[:4])))
# Tarjan: strongly connected components.
idx, low, on, st, comps, n = {}, {}, set(), [], [], [0]
def visit(v):
    idx[v] = low[v] = n[0]; n[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, {}):
        if w not in idx:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        c = []
        while True:
            w = st.pop(); on.discard(w); c.append(w)
            if w == v:
                break
        if len(c) > 1:
            comps.append(sorted(c))
sys.setrecursionlimit(10000)
for f in files:
    if f not in idx:
        visit(f)
for c in comps:
    print("cycle: " + " ".join(c))
sys.exit(1 if comps else 0)
'
