"""RFC 6962 Merkle tree hashes over the audit chain.

``MTH({})`` is SHA-256 of the empty string; a leaf is ``SHA-256(0x00 || d)``;
a node is ``SHA-256(0x01 || left || right)``, the left subtree holding the
largest power of two below ``n`` leaves (RFC 6962, section 2.1). The leaf data
of entry ``i`` is its 32-byte chain hash.

:class:`MerkleBuilder` computes the root of a stream of leaves in one pass and
O(log n) memory, so a million entries need no list of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["MerkleBuilder", "merkle_root"]

_sha = hashlib.sha256


def _leaf(data: bytes) -> bytes:
    return _sha(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


class MerkleBuilder:
    """Add leaves in order; ``root()`` at any point is the RFC 6962 root of those so far."""

    def __init__(self) -> None:
        # stack of (subtree size, hash): sizes are strictly decreasing powers of two
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        size, digest = 1, _leaf(data)
        stack = self._stack
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, digest = left_size + size, _node(left, digest)
        stack.append((size, digest))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return _sha(b"").digest()
        # Fold right to left: the complete subtrees left of a smaller one are its left siblings.
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = _node(left, digest)
        return digest


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    builder = MerkleBuilder()
    for leaf in leaves:
        builder.add(leaf)
    return builder.root()
