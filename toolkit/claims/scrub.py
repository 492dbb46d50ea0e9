"""Write a subset of an 837P batch's claims as a new 005010X222A1 file.

Only what a subset changes is recomputed: SE01 (segments), GE01 (transaction sets), IEA01
(groups), the trailers' control numbers (SE02 = ST02, GE02 = GS06, IEA02 = ISA13), HL01/HL02
(from 1, as the TR3 wants) in a transaction that lost an HL loop, and HL04 when a loop loses all
its children.  Every other segment, unknown ones included, is written byte for byte as received.

Control numbers: READY keeps the batch's own (the clearinghouse has not seen them; the PM
system's numbering stays traceable); HELD gets a new ISA13/GS06 derived from the received ones,
so that HELD, once fixed and sent, is not rejected as a duplicate interchange of READY.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .x12_837 import Batch837


def _with(raw: str, element_sep: str, changes: dict[int, str]) -> str:
    """``raw`` with elements replaced; its leading/trailing whitespace (line breaks) kept."""
    body = raw.strip()
    lead = raw[: len(raw) - len(raw.lstrip())]
    tail = raw[len(raw.rstrip()):]
    elements = body.split(element_sep)
    for i, value in changes.items():
        while len(elements) <= i:
            elements.append("")
        elements[i] = value
    return lead + element_sep.join(elements) + tail


def held_control_number(received: str, width: int) -> str:
    """A control number for HELD that differs from the received one, the same on every run."""
    n = int(hashlib.sha1(f"held:{received}".encode()).hexdigest(), 16) % (10 ** width)
    if str(n).zfill(width) == received.strip().zfill(width):
        n = (n + 1) % (10 ** width)
    return str(max(n, 1)).zfill(width) if width == 9 else str(max(n, 1))


def subset_text(batch: Batch837, keep: set[int], *, new_numbers: bool = False) -> tuple[str, int]:
    """The batch with only the claims at positions ``keep``; returns (text, claims written).

    Transactions, groups and interchanges left without a claim are dropped.
    """
    raw, trailing = batch.raw_segments()
    segs, seps = batch.segments, batch.separators
    el, term = seps.element, seps.segment
    out: list[str] = []
    written = 0
    for ix in batch.interchanges:
        isa13 = segs[ix.isa][13] if len(segs[ix.isa]) > 13 else ""
        new_isa13 = held_control_number(isa13, 9) if new_numbers else isa13
        groups_out: list[list[str]] = []
        for grp in ix.groups:
            gs06 = segs[grp.gs][6].strip() if len(segs[grp.gs]) > 6 else ""
            new_gs06 = held_control_number(gs06, 9 if len(gs06) >= 9 else len(gs06) or 1) if new_numbers else gs06
            group_out: list[str] = []
            n_tx = 0
            for t in grp.transactions:
                tx = batch.transactions[t]
                kept = [c for c in tx.claims if c in keep]
                if not kept:
                    continue
                n_tx += 1
                written += len(kept)
                group_out += _transaction(batch, raw, tx, kept, el)
            if n_tx:
                gs = _with(raw[grp.gs], el, {6: new_gs06}) if new_numbers else raw[grp.gs]
                ge = _with(raw[grp.ge], el, {1: str(n_tx), 2: new_gs06})
                groups_out.append([gs, *group_out, ge])
        if groups_out:
            isa = raw[ix.isa]
            if new_numbers:  # ISA13 is fixed width: nine digits
                isa = _with(isa, el, {13: new_isa13})
            out.append(isa)
            for g in groups_out:
                out += g
            out.append(_with(raw[ix.iea], el, {1: str(len(groups_out)), 2: new_isa13.strip()}))
    text = term.join(out) + term + trailing if out else ""
    return text, written


def _transaction(batch: Batch837, raw: list[str], tx, kept: list[int], el: str) -> list[str]:
    segs = batch.segments
    claims = batch.claims
    needed: set[int] = set()
    by_node: dict[int, list[int]] = {}
    for c in kept:
        by_node.setdefault(claims[c].node, []).append(c)
        n: int | None = claims[c].node
        while n is not None and n not in needed:
            needed.add(n)
            n = tx.nodes[n].parent
    order = sorted(needed)
    if len(order) == len(tx.nodes):  # nothing dropped: the HL numbers stay as received
        new_id = {node.hl_id: node.hl_id for node in tx.nodes}
    else:  # the TR3: HL01 starts at 1 in each transaction and goes up by one
        new_id = {tx.nodes[n].hl_id: str(k + 1) for k, n in enumerate(order)}
    has_child = {tx.nodes[n].parent for n in order if tx.nodes[n].parent is not None}
    body = [raw[tx.st], *raw[tx.st + 1: tx.header_end]]
    for n in order:
        node = tx.nodes[n]
        seg = segs[node.index]
        changes: dict[int, str] = {}
        if new_id[node.hl_id] != node.hl_id:
            changes[1] = new_id[node.hl_id]
        if node.parent_id and new_id.get(node.parent_id, node.parent_id) != node.parent_id:
            changes[2] = new_id[node.parent_id]
        if len(seg) > 4 and seg[4].strip():
            child = "1" if n in has_child else "0"
            if seg[4].strip() != child:
                changes[4] = child
        body.append(_with(raw[node.index], el, changes) if changes else raw[node.index])
        body += raw[node.index + 1: node.end]
        for c in by_node.get(n, []):
            body += raw[claims[c].start: claims[c].end]
    st02 = segs[tx.st][2].strip() if len(segs[tx.st]) > 2 else ""
    body.append(_with(raw[tx.se], el, {1: str(len(body) + 1), 2: st02}))
    return body


def write_subset(batch: Batch837, keep: set[int], out: str | Path, *, new_numbers: bool = False) -> int:
    """Write the subset atomically (a half-written claim file must never reach a clearinghouse)."""
    from ..workbook.files import atomic_write

    text, written = subset_text(batch, keep, new_numbers=new_numbers)
    atomic_write(Path(out), lambda tmp: Path(tmp).write_bytes(text.encode(batch.encoding)))
    return written
