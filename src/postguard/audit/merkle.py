"""RFC 6962 Merkle tree hashes over the audit chain.

``MTH({})`` is SHA-256 of the empty string; a leaf is ``SHA-256(0x00 || d)``;
a node is ``SHA-256(0x01 || left || right)``, the left subtree holding the
largest power of two below ``n`` leaves (RFC 6962, section 2.1). The leaf data
of entry ``i`` is its 32-byte chain hash.

:class:`MerkleBuilder` computes the root of a stream of leaves in one pass and
O(log n) memory, so a million entries need no list of them.

:class:`MerkleLevels` keeps every complete subtree's hash (about 64 bytes a
leaf), from which it answers the root of any prefix and builds **consistency
proofs** (RFC 6962, section 2.1.2): the few hashes that show a log of ``n``
entries extends, unchanged, the log of its first ``m`` entries that a witness
saw. :func:`verify_consistency` checks one (RFC 9162, section 2.1.4.2) from the
two roots alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["MerkleBuilder", "MerkleLevels", "merkle_root", "verify_consistency"]

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


class MerkleLevels:
    """Every complete subtree's hash of a growing log: level ``j`` holds the hashes of the leaves
    ``[k * 2**j, (k + 1) * 2**j)``, each 32 bytes in one ``bytearray``."""

    def __init__(self) -> None:
        self.levels: list[bytearray] = [bytearray()]
        self.size = 0

    def add(self, data: bytes) -> None:
        digest, level = _leaf(data), 0
        self.size += 1
        count = self.size
        while True:
            if level == len(self.levels):
                self.levels.append(bytearray())
            self.levels[level] += digest
            if count % 2:
                return
            row = self.levels[level]
            digest = _node(bytes(row[-64:-32]), bytes(row[-32:]))
            count //= 2
            level += 1

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all of them when ``None``)."""
        return self._hash(0, self.size if size is None else size)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 6962's PROOF(first, D[second]): the hashes that show the first ``first`` leaves
        are a prefix of the first ``second`` (all of them when ``None``)."""
        end = self.size if second is None else second
        if not 0 < first <= end <= self.size:
            raise ValueError(f"no consistency proof from {first} to {end} over {self.size} leaves")
        return self._subproof(first, 0, end, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self._hash(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self._hash(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._hash(lo, lo + k)]

    def _hash(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n <= 0:
            return _sha(b"").digest()
        if n & (n - 1) == 0 and lo % n == 0:  # a complete subtree: stored
            level = n.bit_length() - 1
            at = (lo // n) * 32
            return bytes(self.levels[level][at : at + 32])
        k = _split(n)
        return _node(self._hash(lo, lo + k), self._hash(lo + k, hi))


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """Whether ``proof`` shows the log of ``second`` leaves with ``second_root`` extends the log of
    ``first`` leaves with ``first_root`` (RFC 9162, section 2.1.4.2)."""
    if first == second:
        return not proof and first_root == second_root
    if first <= 0 or first > second or not proof:
        return False
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
