"""Compile a character map into SentencePiece's ``precompiled_charsmap``, for the tokenizers ``Precompiled`` normalizer.

The format: a u32 byte length, a Darts-clone double-array trie over the keys' UTF-8 bytes (u32
units), then the replacements, each ended by a NUL; a key's value is its replacement's byte offset.
One ``Precompiled`` pass applies the whole map, where one ``Replace`` per entry would take thousands.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

_LEAF = 1 << 31
_HAS_LEAF = 1 << 8
_MAX_OFFSET = 1 << 21  # offsets below this are stored as they are; this trie never needs the wider encoding


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.value: int | None = None


def precompiled_charsmap(char_map: Mapping[str, str]) -> bytes:
    """The ``precompiled_charsmap`` bytes that rewrite each key of ``char_map`` into its value."""
    blob, value_of = bytearray(), {}
    for replacement in sorted(set(char_map.values())):
        value_of[replacement] = len(blob)
        blob += replacement.encode("utf-8") + b"\0"
    root = _Node()
    for key, replacement in char_map.items():
        encoded = key.encode("utf-8")
        if not encoded or 0 in encoded:
            raise ValueError(f"charsmap keys must be non-empty and hold no NUL: {key!r}")
        node = root
        for byte in encoded:
            node = node.children.setdefault(byte, _Node())
        node.value = value_of[replacement]
    units = _double_array(root)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(blob)


def _double_array(root: _Node) -> list[int]:
    """Lay the trie out as Darts-clone units: a node at ``pos`` with offset ``o`` has its child ``c``
    at ``pos ^ o ^ c``; a node holding a value has a leaf unit (bit 31 set) at ``pos ^ o``."""
    units = [0]
    used = {0}
    bases: set[int] = set()
    queue = [(0, root)]
    lowest_free = 1
    while queue:
        pos, node = queue.pop()
        labels = sorted(node.children)
        if node.value is not None:
            labels.insert(0, 0)  # the leaf sits at the child slot of label 0
        while lowest_free in used:
            lowest_free += 1
        base = _find_base(labels, used, bases, lowest_free)
        bases.add(base)
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap trie too large for the compact offset encoding")
        units[pos] |= offset << 10
        for label in labels:
            child = base ^ label
            used.add(child)
            if child >= len(units):
                units.extend([0] * (child + 1 - len(units)))
            if label == 0:
                assert node.value is not None
                units[child] = _LEAF | node.value
            else:
                child_node = node.children[label]
                units[child] = label | (_HAS_LEAF if child_node.value is not None else 0)
                queue.append((child, child_node))
    # A walk XORs a byte into its position, so it can land anywhere in its 256-unit block: readers
    # (spm_precompiled) do not bounds-check, so the array ends on a whole block, as Darts-clone's do.
    units.extend([0] * (-len(units) % 256))
    return units


def _find_base(labels: list[int], used: set[int], bases: set[int], lowest_free: int) -> int:
    """The first base that puts every label on a free unit; bases are distinct, so a walk never
    lands on another node's child by accident."""
    free = lowest_free
    while True:
        base = free ^ labels[0]
        if base not in bases and all((base ^ label) not in used and (base ^ label) != 0 for label in labels):
            return base
        free += 1
        while free in used:
            free += 1
