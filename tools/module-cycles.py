# Import cycles between the modules of a crate: every `crate::` and `super::` path outside comments
# and tests, drawn as an edge between the two sibling modules under the common ancestor of the file
# and its target, then strongly connected components. Usage: python3 tools/module-cycles.py server/src
import os, re, sys, collections
root = sys.argv[1]  # e.g. server/src
crate_mods = {}
files = []
for dp, dn, fn in os.walk(root):
    for f in fn:
        if f.endswith('.rs'):
            files.append(os.path.join(dp, f))
def modpath(f):
    rel = os.path.relpath(f, root)[:-3].split(os.sep)
    if rel[-1] in ('mod', 'lib', 'main'):
        rel = rel[:-1]
    return tuple(rel)
mods = {modpath(f) for f in files}
def resolve(path):
    # longest prefix that is a module
    for i in range(len(path), 0, -1):
        if tuple(path[:i]) in mods:
            return tuple(path[:i])
    return ()
edges = collections.defaultdict(set)
why = {}
for f in files:
    if os.path.basename(f) == 'tests.rs':
        continue
    src = open(f).read()
    cut = src.find('#[cfg(test)]')
    if cut >= 0:
        src = src[:cut]
    src = '\n'.join(l for l in src.split('\n') if not l.strip().startswith('//'))
    me = modpath(f)
    refs = []
    for m in re.finditer(r'crate((?:::\w+)+)', src):
        refs.append(tuple(m.group(1).strip(':').split('::')))
    for m in re.finditer(r'\b((?:super::)+)((?:\w+::)*\w+)', src):
        ups = m.group(1).count('super')
        base = me[:len(me) - ups] if ups <= len(me) else ()
        refs.append(base + tuple(m.group(2).split('::')))
    for r in refs:
        tgt = resolve(list(r))
        if not tgt and r and (r[0],) not in mods:
            continue
        # common ancestor
        k = 0
        while k < min(len(me), len(tgt)) and me[k] == tgt[k]:
            k += 1
        if k == len(tgt) or k == len(me):
            continue  # ancestor or descendant
        a, b = me[:k + 1], tgt[:k + 1]
        if a != b:
            edges[a].add(b)
            why.setdefault((a, b), (f, '::'.join(r)))
# Tarjan SCC
index = {}; low = {}; st = []; on = set(); sccs = []; i = [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in list(edges):
    if v not in index: strong(v)
for c in sccs:
    print('CYCLE:', ' , '.join('/'.join(x) for x in c))
    for a in c:
        for b in c:
            if (a, b) in why: print('   ', '/'.join(a), '->', '/'.join(b), 'via', why[(a, b)])
print(len(sccs), 'cycles;', sum(len(v) for v in edges.values()), 'edges')
