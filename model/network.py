"""Firm-to-firm ties, held as a row-normalised sparse matrix.

Ties are of two kinds: to firms of the same sector and region (local peers,
associations, shared suppliers), and along supply chains (firms of a linked
sector anywhere). Both are drawn at sample scale: a tie to a simulated firm
stands for ties to firms like it. Ties are undirected; the peer share of a firm
is the mean state of the firms it is tied to.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .population import SECTOR_NAMES

# Supply-chain linkage between the eight sectors (row: a firm's sector, column:
# the sectors its supply-chain ties go to). Stylised from the CBS input-output
# tables: a stated assumption, only the relative weights in a row matter.
_LINKS = {
    "manufacturing": {"manufacturing": 3, "trade": 3, "transport": 2, "construction": 1,
                      "energy_water": 1, "business_services": 1},
    "energy_water": {"manufacturing": 2, "construction": 2, "business_services": 1},
    "construction": {"manufacturing": 3, "trade": 2, "business_services": 2,
                     "construction": 2},
    "trade": {"manufacturing": 3, "transport": 3, "trade": 2, "hospitality": 1,
              "business_services": 1},
    "transport": {"trade": 3, "manufacturing": 3, "transport": 1},
    "hospitality": {"trade": 3, "business_services": 1, "transport": 1},
    "information_communication": {"business_services": 3, "trade": 1, "manufacturing": 1,
                                  "information_communication": 2},
    "business_services": {"business_services": 2, "information_communication": 2,
                          "trade": 1, "manufacturing": 1, "construction": 1},
}
LINKAGE = np.array(
    [[_LINKS[a].get(b, 0) for b in SECTOR_NAMES] for a in SECTOR_NAMES], dtype=float
)
LINKAGE /= LINKAGE.sum(axis=1, keepdims=True)
LINKAGE_CDF = np.cumsum(LINKAGE, axis=1)


def build_ties(
    sector: np.ndarray,
    region: np.ndarray,
    rng: np.random.Generator,
    local_degree: int,
    supply_degree: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Undirected, de-duplicated ties as two index arrays (i < j)."""
    n = len(sector)
    n_regions = int(region.max()) + 1 if n else 0
    src, dst = [], []
    if local_degree > 0 and n > 1:
        cell = sector.astype(np.int64) * n_regions + region
        who = np.repeat(np.arange(n), local_degree)
        src_l, dst_l = _draw_within(cell, who, cell[who], rng)
        src.append(src_l)
        dst.append(dst_l)
    if supply_degree > 0 and n > 1:
        who = np.repeat(np.arange(n), supply_degree)
        cdf = LINKAGE_CDF[sector[who]]
        u = rng.random(len(who))[:, None]
        target_sector = np.minimum((u > cdf).sum(axis=1), len(SECTOR_NAMES) - 1)
        src_s, dst_s = _draw_within(sector.astype(np.int64), who, target_sector, rng)
        src.append(src_s)
        dst.append(dst_s)
    if not src:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    i = np.concatenate(src)
    j = np.concatenate(dst)
    keep = i != j
    lo, hi = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    key = np.sort(lo * n + hi)
    # Sorting and masking repeats: much faster than np.unique on large arrays.
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return key // n, key % n


def _draw_within(group, who, target_group, rng):
    """For each firm in ``who``, a uniformly drawn firm of group ``target_group``."""
    order = np.argsort(group, kind="stable")
    g = np.asarray(target_group)
    n_groups = max(int(group.max()), int(g.max()) if len(g) else 0) + 1
    sizes = np.bincount(group, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    has = sizes[g] > 0
    pick = starts[g] + np.floor(rng.random(len(who)) * sizes[g]).astype(np.int64)
    pick = np.minimum(pick, len(order) - 1)
    return who[has], order[pick[has]]


def peer_matrix(i: np.ndarray, j: np.ndarray, n: int) -> sp.csr_matrix:
    """Row-normalised adjacency: (M @ x)[k] is the mean of x over k's ties (0 if none)."""
    rows = np.concatenate([i, j])
    cols = np.concatenate([j, i])
    adj = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    degree = np.asarray(adj.sum(axis=1)).ravel()
    inv = np.divide(1.0, degree, out=np.zeros(n), where=degree > 0).astype(np.float32)
    # float32 halves the memory traffic of the per-step product; shares need no more.
    return (sp.diags(inv) @ adj).tocsr()
