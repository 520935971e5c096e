"""The lexicon's automaton compiled to machine code: scan and hit resolution in one call, over code points.

``ahocorasick_rs`` scans the UTF-8 of the canonical text: three steps per Chinese character, in an
automaton made large by the pinyin spellings, and every raw match then costs Python work (word
edges, allow phrases, one hit per span and risk, nesting). Here the automaton steps once per code
point (code points are mapped to a dense symbol alphabet: the characters that occur in patterns),
and the resolution of ``LexiconDetector._resolve`` runs in the same compiled call, so Python sees
only the live hits, already mapped to the original text by the spans ``hegui.text.kernel`` gives.
The proximity rules (``hegui.detect.combo``) use the same automaton for their raw matches, with
their first pass in the same call (``grouped_matches``).

Layout: the root's transitions are one dense row over the alphabet; every other transition is a
64-bit slot ``(state * alphabet + symbol + 1) << 24 | child`` in an open-addressing table with two
halves, ASCII symbols and the rest (a Chinese text probes only the second, small half); failure
links and dictionary links (the next shorter pattern that ends at a state's end) as in Aho and
Corasick (1975). Matches are those of ``ahocorasick_rs`` overlapping standard matching, in its order
(tests compare).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.policy.pack import NormalisationSteps
from hegui.text.kernel import KernelTables
from hegui.text.tables import DELETE, EXPAND

_I32 = np.int32
_I64 = np.int64
_HASH_MUL = 0x9E3779B97F4A7C15
_COMPILED: dict[str, Callable[..., Any]] = {}


def _lookup(keys: Any, vals: Any, shift: int, key: int) -> int:
    """Child for ``key`` in the hash table, or -1."""
    mask = np.uint64(keys.shape[0] - 1)
    h = (np.uint64(key) * np.uint64(_HASH_MUL)) >> np.uint64(shift)
    while True:
        k = keys[h]
        if k == key:
            return int(vals[h])
        if k == -1:
            return -1
        h = (h + np.uint64(1)) & mask


def _by_depth(depth: Any, nstates: int) -> Any:
    """The states by depth, each depth in state order (a stable ``argsort`` of ``depth[:nstates]``), by
    counting: depths are few (the longest pattern), and a sort of ~300k states cost more than the trie."""
    deepest = 0
    for s in range(nstates):
        deepest = max(deepest, depth[s])
    start = np.zeros(deepest + 2, dtype=np.int64)
    for s in range(nstates):
        start[depth[s] + 1] += 1
    for d in range(1, deepest + 2):
        start[d] += start[d - 1]
    order = np.empty(nstates, dtype=np.int64)
    for s in range(nstates):
        d = depth[s]
        order[start[d]] = s
        start[d] += 1
    return order


def _build(syms: Any, offs: Any, porder: Any, nsym: int, shift: int, keys: Any, vals: Any, root: Any, out: Any,
           fail: Any, dlink: Any, depth: Any, parent: Any, via: Any, lead: Any) -> int:
    """Trie of the patterns (``syms[offs[p]:offs[p + 1]]``, symbols ≥ 1), then failure and dictionary
    links in breadth-first order. Arrays are sized for one state per symbol plus the root; returns
    the number of states. ``keys``/``vals`` is the build's own transition table (``_pack`` makes the
    one ``_find`` reads); ``lead[s]``: the first symbol of state ``s``'s string."""
    mask = np.uint64(keys.shape[0] - 1)
    npat = offs.shape[0] - 1
    nstates = 1
    out[0] = -1
    for q in range(npat):  # in the order ``porder``: its first patterns get the lowest state numbers
        p = porder[q]
        s = 0
        for i in range(offs[p], offs[p + 1]):
            y = syms[i]
            if s == 0:
                nxt = root[y]
                if nxt == 0:
                    nxt = nstates
                    root[y] = nxt
            else:
                key = s * nsym + y
                h = (np.uint64(key) * np.uint64(_HASH_MUL)) >> np.uint64(shift)
                nxt = -1
                while keys[h] != -1:
                    if keys[h] == key:
                        nxt = vals[h]
                        break
                    h = (h + np.uint64(1)) & mask
                if nxt < 0:
                    nxt = nstates
                    keys[h] = key
                    vals[h] = nxt
            if nxt == nstates:
                out[nxt] = -1
                parent[nxt] = s
                via[nxt] = y
                depth[nxt] = depth[s] + 1
                lead[nxt] = y if s == 0 else lead[s]
                nstates += 1
            s = nxt
        out[s] = p
    order = _by_depth(depth, nstates)
    fail[0] = 0
    dlink[0] = -1
    for o in range(1, nstates):
        c = order[o]
        p = parent[c]
        y = via[c]
        f = 0
        if p != 0:
            f = fail[p]
            while True:
                t = root[y] if f == 0 else _lookup(keys, vals, shift, f * nsym + y)
                if t > 0:
                    f = t
                    break
                if f == 0:
                    break
                f = fail[f]
        fail[c] = f
        dlink[c] = f if out[f] >= 0 else dlink[f]
    return nstates


def _pack(parent: Any, via: Any, nstates: int, nsym: int, nlatin: int, shift_l: int, table_l: Any, shift_o: int,
          table_o: Any) -> None:
    """The transitions of the non-root states into two tables, one for the symbols of ASCII characters
    (``1..nlatin``) and one for the others: scanning Chinese text then touches only the small second
    one. A slot is one 64-bit word, ``(key + 1) << 24 | child`` (0: empty), so a probe is one read."""
    for c in range(1, nstates):
        p = parent[c]
        if p == 0:
            continue  # the root's row is dense
        y = via[c]
        table, shift = (table_l, shift_l) if y <= nlatin else (table_o, shift_o)
        mask = np.uint64(table.shape[0] - 1)
        key = np.uint64(p * nsym + y)
        h = (key * np.uint64(_HASH_MUL)) >> np.uint64(shift)
        while table[h] != 0:
            h = (h + np.uint64(1)) & mask
        table[h] = ((key + np.uint64(1)) << np.uint64(24)) | np.uint64(c)


def _alnum(c: Any) -> bool:
    """An ASCII letter or digit (a word character for the edge tests)."""
    return bool((48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122))


def _scan(t: Any, symlut: Any, nsym: int, nlatin: int, shift_l: int, base_l: int, shift_o: int, table: Any,
          root: Any, fail: Any, emit: Any, out: Any, dlink: Any, anchor: Any, m_pat: Any, m_end: Any) -> int:
    """Overlapping matches of ``t``: (pattern, end) into ``m_pat``/``m_end`` as far as they reach; returns
    how many there are (more than fit: the caller scans again with room for all). Growing the arrays
    here instead would make the whole loop about twice as slow (the compiled code then reloads them
    on every step).

    A pattern that starts with a Latin letter or digit matches only where a word starts (every caller
    drops the others: ``_resolve``'s and the proximity rules' edge tests), so the scan follows no
    partial match that starts inside a word: ``anchor[s]`` is the depth of state ``s`` when its string
    starts with one (else 0), and such a state whose string starts right after a letter or digit gives
    way to its failure state, as far as needed. The state is then the longest suffix that can still be
    part of a live match, which is all later matches need; what it emits is every live match and fewer
    of the others. In Latin text full of pinyin-like syllables this keeps the automaton at its root
    inside words (one table look-up per character) instead of walking chains of failure links."""
    cap = m_pat.shape[0]
    mask_l = np.uint64(table.shape[0] - base_l - 1)
    mask_o = np.uint64(base_l - 1)
    mul = np.uint64(_HASH_MUL)
    one = np.uint64(1)
    low = np.uint64((1 << 24) - 1)
    top = symlut.shape[0]
    s: Any = 0  # (numba types it from its uses; the annotation is for mypy)
    k = 0
    for i in range(t.shape[0]):
        c = t[i]
        y = symlut[c] if c < top else 0
        if y == 0:
            s = 0
            continue
        if s == 0 and i > 0 and _alnum(c) and _alnum(t[i - 1]):
            continue  # a match starting here would start inside a word
        if y <= nlatin:  # the Latin half of the table, or the other
            shift, mask, base = np.uint64(shift_l), mask_l, np.uint64(base_l)
        else:
            shift, mask, base = np.uint64(shift_o), mask_o, np.uint64(0)
        while True:  # the transition, following failure links
            if s == 0:
                s = root[y]
                break
            key = np.uint64(s * nsym + y)
            want = (key + one) << np.uint64(24)
            nxt = np.int64(-1)
            h = (key * mul) >> shift
            while True:
                slot = table[base + h]
                if slot & ~low == want:
                    nxt = np.int64(slot & low)
                    break
                if slot == 0:
                    break
                h = (h + one) & mask
            if nxt >= 0:
                s = nxt
                break
            s = fail[s]
        while s != 0:  # a partial match starting inside a word: its failure state instead
            a = anchor[s]
            if a == 0 or a > i or not _alnum(t[i - a]):
                break
            s = fail[s]
        if s == 0:
            continue
        o = emit[s]
        while o > 0:
            if k < cap:
                m_pat[k] = out[o]
                m_end[k] = i + 1
            k += 1
            o = dlink[o]
    return k


def _find(t: Any, start: Any, end: Any, symlut: Any, nsym: int, nlatin: int, shift_l: int, base_l: int,
          shift_o: int, table: Any, root: Any, fail: Any, emit: Any, out: Any, dlink: Any, anchor: Any, plen: Any,
          edges: Any,
          cand_off: Any, cand_cat: Any, cand_idx: Any, allow_off: Any, allow_ai: Any, allow_owner: Any,
          allow_cats: Any, entry_cat: Any, ncats: int, aspan: int) -> Any:
    """Live hits of the canonical code points ``t`` as rows ``(entry, original start, original end)``, in
    the order ``LexiconDetector._resolve`` gives them. ``aspan``: the longest allow phrase (an allow
    phrase that covers a hit starts at most that far before the hit's end)."""
    n = t.shape[0]
    room = max(256, n >> 3)  # matches are rarer than one per eight characters in all but contrived text
    m_pat = np.empty(room, dtype=np.int64)
    m_end = np.empty(room, dtype=np.int64)
    nm = _scan(t, symlut, nsym, nlatin, shift_l, base_l, shift_o, table, root, fail, emit, out, dlink, anchor, m_pat,
               m_end)
    if nm > m_pat.shape[0]:
        m_pat = np.empty(nm, dtype=np.int64)
        m_end = np.empty(nm, dtype=np.int64)
        _scan(t, symlut, nsym, nlatin, shift_l, base_l, shift_o, table, root, fail, emit, out, dlink, anchor, m_pat,
              m_end)
    return _resolve(t, start, end, m_pat, m_end, nm, plen, edges, cand_off, cand_cat, cand_idx, allow_off, allow_ai,
                    allow_owner, allow_cats, entry_cat, ncats, aspan)


def _resolve(t: Any, start: Any, end: Any, m_pat: Any, m_end: Any, nm: int, plen: Any, edges: Any, cand_off: Any,
             cand_cat: Any, cand_idx: Any, allow_off: Any, allow_ai: Any, allow_owner: Any, allow_cats: Any,
             entry_cat: Any, ncats: int, aspan: int) -> Any:
    """``_find``'s rows from the ``nm`` raw matches ``(m_pat[k], m_end[k])`` of ``t`` (patterns without
    candidates or allow phrases, such as the proximity rules' in a merged automaton, give nothing)."""
    n = t.shape[0]
    if nm == 0:
        return np.empty((0, 3), dtype=np.int64)
    # candidates: per surviving match its (best entry per risk) list; allow phrases apart
    ncand = 0
    nallow = 0
    for k in range(nm):
        p = m_pat[k]
        ncand += cand_off[p + 1] - cand_off[p]
        nallow += allow_off[p + 1] - allow_off[p]
    c_s = np.empty(ncand, dtype=np.int64)
    c_e = np.empty(ncand, dtype=np.int64)
    c_cat = np.empty(ncand, dtype=np.int64)
    c_idx = np.empty(ncand, dtype=np.int64)
    a_s = np.empty(nallow, dtype=np.int64)
    a_e = np.empty(nallow, dtype=np.int64)
    a_ai = np.empty(nallow, dtype=np.int64)
    nc = 0
    na = 0
    for k in range(nm):
        p = m_pat[k]
        e = m_end[k]
        b = e - plen[p]
        edge = edges[p]
        if edge & 1 and b > 0:
            w = t[b - 1]
            if (48 <= w <= 57) or (65 <= w <= 90) or (97 <= w <= 122):
                continue
        if edge & 2 and e < n:
            w = t[e]
            if (48 <= w <= 57) or (65 <= w <= 90) or (97 <= w <= 122):
                continue
        for j in range(cand_off[p], cand_off[p + 1]):
            c_s[nc] = b
            c_e[nc] = e
            c_cat[nc] = cand_cat[j]
            c_idx[nc] = cand_idx[j]
            nc += 1
        for j in range(allow_off[p], allow_off[p + 1]):
            a_s[na] = b
            a_e[na] = e
            a_ai[na] = allow_ai[j]
            na += 1
    if nc == 0:
        return np.empty((0, 3), dtype=np.int64)
    res = np.empty((nc, 3), dtype=np.int64)
    a_order = np.argsort(a_s[:na], kind="mergesort")  # allow phrases by start: a hit looks only near itself
    s_sorted = a_s[:na][a_order]
    order = np.argsort(c_s[:nc] * (n + 1) + (n - c_e[:nc]), kind="mergesort")  # (start, -end), stable
    max_end = np.full(ncats, -1, dtype=np.int64)
    live = 0
    for o in range(nc):
        k = order[o]
        b = c_s[k]
        e = c_e[k]
        idx = c_idx[k]
        cat = c_cat[k]
        cancelled = False
        j = np.searchsorted(s_sorted, e - aspan)  # only allow phrases starting in [e - aspan, b] can cover it
        while j < na and s_sorted[j] <= b:
            k2 = a_order[j]
            if e <= a_e[k2]:
                ai = a_ai[k2]
                owner = allow_owner[ai]
                if (owner == idx) if owner >= 0 else allow_cats[ai, entry_cat[idx]]:
                    cancelled = True
                    break
            j += 1
        if cancelled:
            continue
        if max_end[cat] >= e:
            continue  # nested in a longer live hit of the same risk
        max_end[cat] = e
        res[live, 0] = idx
        res[live, 1] = start[b]
        res[live, 2] = end[e - 1]
        live += 1
    return res[:live]


#: ``meta`` of ``_find_packed``: scalars, then the bounds of the arrays packed in ``i32`` and ``i64``
_M_NSYM, _M_NLATIN, _M_SHIFT_L, _M_BASE_L, _M_SHIFT_O, _M_NCATS, _M_ASPAN = range(7)
_M_I32 = 7  # 8 bounds: symlut, root, fail, emit, out, dlink, anchor
_M_I64 = 15  # 10 bounds: plen, edges, cand_off, cand_cat, cand_idx, allow_off, allow_ai, allow_owner, entry_cat


def _find_packed(t: Any, start: Any, end: Any, i32: Any, i64: Any, table: Any, allow_cats: Any, meta: Any) -> Any:
    """``_find`` with the automaton's arrays packed into a few arguments: a call costs ~60 ns per array
    argument to type, so 26 of them cost more than scanning a 100-character text. ``i32``/``i64`` hold
    the arrays end to end, ``meta`` the scalars and the bounds."""
    b = meta[_M_I32:_M_I32 + 8]
    c = meta[_M_I64:_M_I64 + 10]
    return _find(t, start, end, i32[b[0]:b[1]], meta[_M_NSYM], meta[_M_NLATIN], meta[_M_SHIFT_L],
                 meta[_M_BASE_L], meta[_M_SHIFT_O], table, i32[b[1]:b[2]], i32[b[2]:b[3]], i32[b[3]:b[4]],
                 i32[b[4]:b[5]], i32[b[5]:b[6]], i32[b[6]:b[7]], i64[c[0]:c[1]], i64[c[1]:c[2]], i64[c[2]:c[3]],
                 i64[c[3]:c[4]], i64[c[4]:c[5]], i64[c[5]:c[6]], i64[c[6]:c[7]], i64[c[7]:c[8]], allow_cats,
                 i64[c[8]:c[9]], meta[_M_NCATS], meta[_M_ASPAN])


def _scan_packed(t: Any, i32: Any, table: Any, meta: Any, room: int) -> Any:
    """Every raw match of ``t`` as ``(m_pat, m_end, count)``, the automaton's arrays packed as for
    ``_find_packed``; ``room``: the first guess at the count (a second scan when more arrive)."""
    b = meta[_M_I32:_M_I32 + 8]
    m_pat = np.empty(room, dtype=np.int64)
    m_end = np.empty(room, dtype=np.int64)
    scan = (t, i32[b[0]:b[1]], meta[_M_NSYM], meta[_M_NLATIN], meta[_M_SHIFT_L], meta[_M_BASE_L], meta[_M_SHIFT_O],
            table, i32[b[1]:b[2]], i32[b[2]:b[3]], i32[b[3]:b[4]], i32[b[4]:b[5]], i32[b[5]:b[6]], i32[b[6]:b[7]])
    nm = _scan(*scan, m_pat, m_end)
    if nm > room:
        m_pat = np.empty(nm, dtype=np.int64)
        m_end = np.empty(nm, dtype=np.int64)
        _scan(*scan, m_pat, m_end)
    return m_pat, m_end, nm


def _group_hit(m_pat: Any, nm: int, g_off: Any, g_rule: Any, g_bit: Any, full: Any, active: Any) -> bool:
    """Whether some active rule has all its groups among the first ``nm`` matches (see ``_grouped_matches``)."""
    acc = np.zeros(full.shape[0], dtype=np.int64)
    for k in range(nm):
        p = m_pat[k]
        for j in range(g_off[p], g_off[p + 1]):
            r = g_rule[j]
            acc[r] |= g_bit[j]
            if acc[r] == full[r] and active[r]:
                return True
    return False


def _grouped_matches(t: Any, i32: Any, i64: Any, table: Any, meta: Any, g_off: Any, g_rule: Any, g_bit: Any,
                     full: Any, active: Any) -> Any:
    """Raw overlapping matches ``(pattern, start, end)`` of ``t``, in ``ahocorasick_rs``'s order — but only
    if some active rule has all its groups among them (pattern ``p`` gives rule ``g_rule[j]`` the
    group bits ``g_bit[j]``, ``j`` in ``g_off[p]:g_off[p + 1]``; ``full[r]``: all of rule ``r``'s bits);
    else none. The proximity rules' first pass (``ComboDetector._candidates`` judges the whole text as
    one bag here, a superset of its block-wise judgement, so nothing it would keep is dropped)."""
    c = meta[_M_I64:_M_I64 + 10]
    m_pat, m_end, nm = _scan_packed(t, i32, table, meta, max(64, t.shape[0] >> 3))
    if not _group_hit(m_pat, nm, g_off, g_rule, g_bit, full, active):
        return np.empty((0, 3), dtype=np.int64)
    plen = i64[c[0]:c[1]]
    res = np.empty((nm, 3), dtype=np.int64)
    for k in range(nm):
        res[k, 0] = m_pat[k]
        res[k, 1] = m_end[k] - plen[m_pat[k]]
        res[k, 2] = m_end[k]
    return res


def _normalise(*args: Any) -> int:  # the compiled ``hegui.text.kernel._normalise``, set by ``load``
    raise RuntimeError("hegui.text.kernel.load() first")


def _detect(cps: Any, lut: Any, delete: int, expand: int, strip: bool, squash_min: int, i32: Any, i64: Any,
            table: Any, allow_cats: Any, meta: Any) -> Any:
    """Normalisation (``hegui.text.kernel._normalise``) and ``_find_packed`` in one call, for a text no other
    detector of the check has normalised yet: one call instead of two, and no canonical arrays handed
    to Python. Returns ``_find``'s rows, or one row of -1 when a character expands to several."""
    n = cps.shape[0]
    t = np.empty(n, dtype=np.uint32)
    start = np.empty(n, dtype=np.int64)
    end = np.empty(n, dtype=np.int64)
    k = _normalise(cps, lut, delete, expand, strip, squash_min, t, start, end)
    if k < 0:
        return np.full((1, 3), -1, dtype=np.int64)
    return _find_packed(t[:k], start[:k], end[:k], i32, i64, table, allow_cats, meta)


def _find_grouped(t: Any, start: Any, end: Any, i32: Any, i64: Any, table: Any, allow_cats: Any, meta: Any,
                  g_off: Any, g_rule: Any, g_bit: Any, full: Any, active: Any) -> Any:
    """``_find_packed``'s rows and the proximity rules' first pass (``_grouped_matches``: does some active
    rule have all its groups here?) from ONE scan of an automaton holding both sets of patterns
    (``merged_automaton``; the group filter is indexed by its pattern numbers)."""
    c = meta[_M_I64:_M_I64 + 10]
    m_pat, m_end, nm = _scan_packed(t, i32, table, meta, max(256, t.shape[0] >> 3))
    hit = _group_hit(m_pat, nm, g_off, g_rule, g_bit, full, active)
    rows = _resolve(t, start, end, m_pat, m_end, nm, i64[c[0]:c[1]], i64[c[1]:c[2]], i64[c[2]:c[3]], i64[c[3]:c[4]],
                    i64[c[4]:c[5]], i64[c[5]:c[6]], i64[c[6]:c[7]], i64[c[7]:c[8]], allow_cats, i64[c[8]:c[9]],
                    meta[_M_NCATS], meta[_M_ASPAN])
    return rows, hit


def _detect_batch(cps: Any, off: Any, lut: Any, delete: int, expand: int, strip: bool, squash_min: int, i32: Any,
                  i64: Any, table: Any, allow_cats: Any, meta: Any, g_off: Any, g_rule: Any, g_bit: Any, full: Any,
                  active: Any) -> Any:
    """A lexicon and proximity rules, merged in one automaton (``merged_automaton``: ``i32`` … ``meta``, the
    rules' group filter ``g_*``/``full``/``active`` over its pattern numbers), over a batch of texts (text
    ``d``: ``cps[off[d]:off[d + 1]]``), each text normalised and scanned once: one compiled call for the
    batch. Returns the lexicon's rows ``(text, entry, start, end)`` in ``_find``'s order per text, and per
    text a status: 0 done, 1 a character expands to several (both detectors take their own paths), 2 the
    rules' first pass holds (the rules take their own path; the lexicon rows are final)."""
    ndoc = off.shape[0] - 1
    longest = 0
    for d in range(ndoc):
        longest = max(longest, off[d + 1] - off[d])
    t = np.empty(longest, dtype=np.uint32)
    start = np.empty(longest, dtype=np.int64)
    end = np.empty(longest, dtype=np.int64)
    status = np.zeros(ndoc, dtype=np.int8)
    rows = np.empty((64, 4), dtype=np.int64)
    nrows = 0
    for d in range(ndoc):
        k = _normalise(cps[off[d]:off[d + 1]], lut, delete, expand, strip, squash_min, t, start, end)
        if k < 0:
            status[d] = 1
            continue
        found, hit = _find_grouped(t[:k], start[:k], end[:k], i32, i64, table, allow_cats, meta, g_off, g_rule,
                                   g_bit, full, active)
        if nrows + found.shape[0] > rows.shape[0]:
            grown = np.empty((2 * (nrows + found.shape[0]), 4), dtype=np.int64)
            grown[:nrows] = rows[:nrows]
            rows = grown
        for r in range(found.shape[0]):
            rows[nrows, 0] = d
            rows[nrows, 1] = found[r, 0]
            rows[nrows, 2] = found[r, 1]
            rows[nrows, 3] = found[r, 2]
            nrows += 1
        if hit:
            status[d] = 2
    return rows[:nrows], status


def merged_automaton(lexicon: Any, rules: Any) -> tuple[CompiledAutomaton, GroupFilter]:
    """One automaton over a lexicon's patterns and a proximity detector's (``LexiconDetector.merged_with``),
    and the rules' group filter renumbered to its patterns: ``detect_batch`` then scans each text once
    for both."""
    merged, numbers = lexicon.merged_with(rules._patterns)
    bits: list[Sequence[tuple[int, int]]] = [() for _ in range(merged.plen.shape[0])]
    for j, q in enumerate(numbers):
        bits[q] = rules._group_bits[j]
    return merged, GroupFilter(bits, rules._full)


def detect_batch(tables: KernelTables, merged: CompiledAutomaton, groups: GroupFilter, active: npt.NDArray[np.bool_],
                 texts: Sequence[str]) -> tuple[list[list[tuple[int, int, int]]], npt.NDArray[np.int8]]:
    """``_detect_batch`` for ``texts``: per text the lexicon's live hits ``(entry, start, end)`` (as
    ``CompiledAutomaton.find`` on its canonical form gives them), and the per-text status."""
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    off = np.zeros(len(texts) + 1, dtype=_I64)
    np.cumsum(np.fromiter(map(len, texts), dtype=_I64, count=len(texts)), out=off[1:])
    res, status = _COMPILED["batch"](cps, off, tables.lut, DELETE, EXPAND, tables.strip, tables.squash_min,
                                     merged._i32, merged._i64, merged.table, merged.allow_cats, merged._meta,
                                     groups.off, groups.rule, groups.bit, groups.full, active)
    hits: list[list[tuple[int, int, int]]] = [[] for _ in texts]
    for d, e, a, b in res.tolist():
        hits[d].append((e, a, b))
    return hits, status


def _sources_digest() -> str:
    """Of this file and ``hegui/text/kernel.py``: ``_detect`` holds a compiled copy of the latter's
    ``_normalise``, and numba's cache checks only the file a function is defined in."""
    import hashlib

    from hegui.text import kernel

    h = hashlib.sha256()
    for path in (kernel.__file__, __file__):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def load() -> None:
    """Compile (or load from numba's cache) the build and find kernels; called by ``hegui.text.kernel.load``."""
    from hegui.text import kernel
    from hegui.text.kernel import njit

    if "find" in _COMPILED:
        return
    g = globals()
    g["_lookup"] = njit(_lookup)  # the kernels below call the compiled ones
    g["_by_depth"] = njit(_by_depth)
    g["_alnum"] = njit(_alnum)
    g["_scan"] = njit(_scan)
    g["_resolve"] = njit(_resolve)
    g["_scan_packed"] = njit(_scan_packed)
    g["_group_hit"] = njit(_group_hit)
    g["_find"] = njit(_find)
    g["_find_packed"] = find = njit(_find_packed)
    g["_normalise"] = njit(kernel._normalise)
    digest = _sources_digest()
    _detect.__name__ = _detect.__qualname__ = "_detect_" + digest  # its cache entry's name
    _detect_batch.__name__ = _detect_batch.__qualname__ = "_detect_batch_" + digest
    g["_find_grouped"] = njit(_find_grouped)
    _COMPILED["build"] = njit(_build)
    _COMPILED["pack"] = njit(_pack)
    _COMPILED["find"] = find
    _COMPILED["detect"] = njit(_detect)
    _COMPILED["grouped"] = njit(_grouped_matches)
    _COMPILED["batch"] = njit(_detect_batch)
    probe = CompiledAutomaton(["ab", "b"], [[(0, 0)], [(1, 1)]], [2, 2], [[], []], [-1], np.ones((1, 1), bool), [0, 0])
    probe.find(np.array([97, 98], dtype=np.uint32), np.arange(2, dtype=_I64), np.arange(1, 3, dtype=_I64))
    probe.detect(kernel.KernelTables(NormalisationSteps()), np.array([97, 98], dtype=np.uint32))
    probe.grouped_matches(np.array([97, 98], dtype=np.uint32), GroupFilter([[(0, 1)], []], [1]), np.ones(1, bool))
    detect_batch(kernel.KernelTables(NormalisationSteps()), probe, GroupFilter([[(0, 1)], []], [1]),
                 np.ones(1, bool), ["ab", ""])


class CompiledAutomaton:
    """The compiled form of one ``LexiconDetector``'s patterns and resolution rules (immutable)."""

    def __init__(self, patterns: Sequence[str], candidates: Sequence[Sequence[tuple[int, int]]],
                 edges: Sequence[int], allows: Sequence[Sequence[int]], allow_owner: Sequence[int],
                 allow_cats: npt.NDArray[np.bool_], entry_cat: Sequence[int]) -> None:
        """``candidates[p]``: (risk id, entry) per risk in the order ``_resolve`` meets them (the most
        severe entry of each risk behind pattern ``p``); ``edges[p]``: bit 1/2 when it starts/ends
        with a Latin letter or digit; ``allows[p]``: allow phrases behind ``p``; ``allow_owner[a]``:
        the entry an entry's own allow phrase belongs to, else -1, and then ``allow_cats[a, risk]``
        says whether it applies to that risk; ``entry_cat[e]``: risk id of entry ``e``."""
        cps, plen = pattern_codepoints(patterns)
        self._setup(cps, plen, _csr(candidates), np.array(edges, dtype=_I64), _flat(allows), allow_owner,
                    allow_cats, entry_cat)

    @classmethod
    def from_arrays(cls, cps: npt.NDArray[np.uint32], plen: npt.NDArray[np.int64], candidates: Csr,
                    edges: npt.NDArray[np.int64], allows: Flat, allow_owner: Sequence[int] | npt.NDArray[np.int64],
                    allow_cats: npt.NDArray[np.bool_], entry_cat: Sequence[int] | npt.NDArray[np.int64]
                    ) -> CompiledAutomaton:
        """The constructor's automaton from arrays already in its terms (``pattern_codepoints``, ``_csr``,
        ``_flat``): a lexicon prepares them once, with numpy, for both the automaton it compiles and the
        one merged with the proximity rules, instead of a Python list per pattern each time."""
        self = cls.__new__(cls)
        self._setup(cps, plen, candidates, edges, allows, allow_owner, allow_cats, entry_cat)
        return self

    def _setup(self, cps: npt.NDArray[np.uint32], plen: npt.NDArray[np.int64], candidates: Csr,
               edges: npt.NDArray[np.int64], allows: Flat, allow_owner: Sequence[int] | npt.NDArray[np.int64],
               allow_cats: npt.NDArray[np.bool_], entry_cat: Sequence[int] | npt.NDArray[np.int64]) -> None:
        """Pattern ``p`` is ``cps[sum(plen[:p]):sum(plen[:p + 1])]``."""
        alphabet = _alphabet(cps)  # sorted: ASCII first (``nlatin``)
        self.symlut = np.zeros(int(alphabet[-1]) + 1 if len(alphabet) else 1, dtype=_I32)
        self.symlut[alphabet] = np.arange(1, len(alphabet) + 1, dtype=_I32)
        self.nsym = len(alphabet) + 1
        syms = self.symlut[cps]
        self.plen = plen
        offs = np.zeros(len(plen) + 1, dtype=_I64)
        np.cumsum(self.plen, out=offs[1:])
        size = 1 << max(4, int(2 * len(syms) + 1).bit_length())
        keys = np.full(size, -1, dtype=_I64)
        vals = np.zeros(size, dtype=_I32)
        self.root = np.zeros(self.nsym, dtype=_I32)
        nmax = len(syms) + 1
        out, fail, dlink, depth, parent, via, lead = (np.zeros(nmax, dtype=_I32) for _ in range(7))
        porder = _pattern_order(cps, offs)
        nstates = _COMPILED["build"](syms, offs, porder, self.nsym, 64 - (size.bit_length() - 1), keys, vals,
                                     self.root, out, fail, dlink, depth, parent, via, lead)
        del keys, vals
        if nstates >= 1 << 24 or nstates * self.nsym >= 1 << 39:
            raise ValueError("lexicon too large for the compiled automaton")
        self.nlatin = int((alphabet < 128).sum())
        inner = parent[1:nstates] != 0
        n_latin = int((inner & (via[1:nstates] <= self.nlatin)).sum())
        sizes = [1 << max(4, (2 * k).bit_length()) for k in (n_latin, int(inner.sum()) - n_latin)]  # load < 1/2
        self.shift_l, self.shift_o = (64 - (z.bit_length() - 1) for z in sizes)
        table_l, table_o = (np.zeros(z, dtype=np.uint64) for z in sizes)
        _COMPILED["pack"](parent, via, nstates, self.nsym, self.nlatin, self.shift_l, table_l, self.shift_o, table_o)
        self.base_l = len(table_o)
        self.table = np.concatenate([table_o, table_l])  # one array: the scan picks a half by offset
        self.fail = fail[:nstates].copy()
        self.out, self.dlink = out[:nstates].copy(), dlink[:nstates].copy()
        self.emit = np.where(self.out >= 0, np.arange(nstates, dtype=_I32), self.dlink).astype(_I32)
        self.edges = edges
        self.cand_off, self.cand_cat, self.cand_idx = candidates
        self.allow_off, self.allow_ai = allows
        self.allow_owner = np.array(allow_owner, dtype=_I64) if len(allow_owner) else np.full(1, -1, dtype=_I64)
        self.allow_cats = allow_cats if allow_cats.size else np.zeros((1, 1), dtype=np.bool_)
        self.entry_cat = np.array(entry_cat, dtype=_I64) if len(entry_cat) else np.zeros(1, dtype=_I64)
        self.ncats = max(int(self.entry_cat.max()) + 1, 1)
        # a state whose string starts with a Latin letter or digit: its depth (``_scan`` drops it where that
        # string would start inside a word), else 0
        word_sym = np.zeros(self.nsym, dtype=np.bool_)
        word_sym[1:] = ((alphabet >= 48) & (alphabet <= 57)) | ((alphabet >= 65) & (alphabet <= 90)) \
            | ((alphabet >= 97) & (alphabet <= 122))
        self.anchor = np.where(word_sym[lead[:nstates]], depth[:nstates], 0).astype(_I32)
        self.anchor[0] = 0
        i32 = [self.symlut, self.root, self.fail, self.emit, self.out, self.dlink, self.anchor]
        i64 = [self.plen, self.edges, self.cand_off, self.cand_cat, self.cand_idx, self.allow_off, self.allow_ai,
               self.allow_owner, self.entry_cat]
        self._i32 = np.concatenate(i32).astype(_I32)
        self._i64 = np.concatenate(i64).astype(_I64)
        meta = np.zeros(_M_I64 + 10, dtype=_I64)
        with_allow = np.diff(self.allow_off) > 0
        aspan = int(self.plen[with_allow].max()) if with_allow.any() else 0
        meta[_M_NSYM:_M_ASPAN + 1] = (self.nsym, self.nlatin, self.shift_l, self.base_l, self.shift_o, self.ncats,
                                      aspan)
        meta[_M_I32:_M_I32 + 8] = np.cumsum([0] + [len(a) for a in i32])
        meta[_M_I64:_M_I64 + 10] = np.cumsum([0] + [len(a) for a in i64])
        self._meta = meta

    def find(self, t: npt.NDArray[np.uint32], start: npt.NDArray[np.int64], end: npt.NDArray[np.int64]
             ) -> list[tuple[int, int, int]]:
        """Live hits ``(entry, original start, original end)`` of canonical code points ``t`` whose
        canonical character ``j`` stands for ``original[start[j]:end[j]]``."""
        res = _COMPILED["find"](t, start, end, self._i32, self._i64, self.table, self.allow_cats, self._meta)
        if not len(res):
            return []
        return [(r[0], r[1], r[2]) for r in res.tolist()]

    def grouped_matches(self, t: npt.NDArray[np.uint32], groups: GroupFilter, active: npt.NDArray[np.bool_]
                        ) -> list[tuple[int, int, int]]:
        """Raw matches ``(pattern, start, end)`` of canonical code points ``t`` (canonical offsets), or none
        when no rule ``active`` marks can have all its groups among them (see ``_grouped_matches``)."""
        res = _COMPILED["grouped"](t, self._i32, self._i64, self.table, self._meta, groups.off, groups.rule,
                                   groups.bit, groups.full, active)
        if not len(res):
            return []
        return [(r[0], r[1], r[2]) for r in res.tolist()]

    def detect(self, tables: KernelTables, cps: npt.NDArray[np.uint32]) -> list[tuple[int, int, int]] | None:
        """``find`` on the canonical form (``tables``) of the code points ``cps``, normalised in the same
        compiled call; None when a character expands to several (the caller takes the exact path)."""
        res = _COMPILED["detect"](cps, tables.lut, DELETE, EXPAND, tables.strip, tables.squash_min, self._i32,
                                  self._i64, self.table, self.allow_cats, self._meta)
        if not len(res):
            return []
        rows: list[tuple[int, int, int]] = [(r[0], r[1], r[2]) for r in res.tolist()]
        return None if rows[0][0] < 0 else rows


class GroupFilter:
    """Which rule groups each pattern satisfies, for ``CompiledAutomaton.grouped_matches``."""

    def __init__(self, bits: Sequence[Sequence[tuple[int, int]]], full: Sequence[int]) -> None:
        """``bits[p]``: (rule, group bits) pairs of pattern ``p``; ``full[r]``: every group bit of rule ``r``."""
        self.off, self.rule, self.bit = _csr(bits)
        self.full = np.array(full, dtype=_I64) if len(full) else np.zeros(1, dtype=_I64)


#: rows of pairs as (offsets, first items, second items); rows of ints as (offsets, items): see ``_csr``, ``_flat``
Csr = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
Flat = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


def pattern_codepoints(patterns: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """The code points of ``patterns`` end to end, and each pattern's length (``from_arrays``'s ``cps``/``plen``)."""
    cps = np.frombuffer("".join(patterns).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return cps, np.fromiter(map(len, patterns), dtype=_I64, count=len(patterns))


def _alphabet(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """The distinct code points of ``cps``, sorted (``np.unique``): a count per code point is several times
    cheaper than sorting the ~800k code points of a large lexicon."""
    return np.flatnonzero(np.bincount(cps)) if len(cps) else np.zeros(0, dtype=_I64)


def _pattern_order(cps: npt.NDArray[np.uint32], offs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The patterns (``cps[offs[p]:offs[p + 1]]``) with a non-ASCII character first, else in order: the
    states a Chinese text walks through are then numbered together, and their links lie close in memory.
    Counted on the code points, not with ``str.isascii`` per pattern."""
    wide = np.zeros(len(cps) + 1, dtype=_I64)
    np.cumsum(cps >= 128, out=wide[1:])
    return np.argsort(wide[offs[1:]] == wide[offs[:-1]], kind="stable").astype(_I64)


def _flat(rows: Sequence[Sequence[int]]) -> Flat:
    """Rows of ints as (offsets, items)."""
    off = np.zeros(len(rows) + 1, dtype=_I64)
    np.cumsum(np.fromiter(map(len, rows), dtype=_I64, count=len(rows)), out=off[1:])
    items = np.fromiter((x for r in rows for x in r), dtype=_I64, count=int(off[-1]))
    return off, items if len(items) else np.zeros(1, dtype=_I64)


def _csr(rows: Sequence[Sequence[tuple[int, int]]]) -> Csr:
    """Rows of pairs as (offsets, first items, second items)."""
    off = np.zeros(len(rows) + 1, dtype=_I64)
    np.cumsum(np.fromiter(map(len, rows), dtype=_I64, count=len(rows)), out=off[1:])
    n = int(off[-1])
    pairs = np.fromiter((x for r in rows for pair in r for x in pair), dtype=_I64, count=2 * n).reshape(n, 2)
    if not n:
        return off, np.zeros(1, dtype=_I64), np.zeros(1, dtype=_I64)
    return off, pairs[:, 0].copy(), pairs[:, 1].copy()
