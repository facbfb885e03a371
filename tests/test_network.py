"""Firm-to-firm ties: structure of the graph and the peer-share operator."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from model import SMEEconomy
from model.network import LINKAGE, build_ties, peer_matrix
from model.population import REGION_NAMES, SECTOR_NAMES


def _adjacency(i, j, n):
    a = sp.coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
    return a + a.T


@pytest.fixture(scope="module")
def model_ties():
    m = SMEEconomy(2_000, seed=8, end_year=2021)
    return m, *m.ties


def test_model_network_has_no_self_ties_and_is_symmetric(model_ties):
    m, i, j = model_ties
    n = m.n_firms
    assert len(i) == len(j) > 0
    assert (i != j).all()
    assert (i < j).all()  # each undirected tie stored once
    assert len(np.unique(i * n + j)) == len(i)  # no duplicate ties
    adj = _adjacency(i, j, n)
    assert (adj != adj.T).nnz == 0
    assert adj.diagonal().sum() == 0
    assert adj.max() == 1


def test_degree_follows_the_degree_parameters(model_ties):
    """Each firm draws 4 local and 2 supply-chain ties (defaults); ties are undirected."""
    m, i, j = model_ties
    degree = np.bincount(np.r_[i, j], minlength=m.n_firms)
    local, supply = m.params["network_local_degree"], m.params["network_supply_degree"]
    assert 1.5 * (local + supply) <= degree.mean() <= 2 * (local + supply)
    assert (degree >= 1).all()  # nobody is isolated


def test_peer_matrix_averages_over_ties(model_ties):
    m, i, j = model_ties
    n = m.n_firms
    peers = peer_matrix(i, j, n)
    x = np.random.default_rng(0).random(n)
    adj = _adjacency(i, j, n)
    degree = np.asarray(adj.sum(axis=1)).ravel()
    expect = (adj @ x) / degree
    np.testing.assert_allclose(peers @ x, expect, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(peers.sum(axis=1)).ravel(), 1.0, rtol=1e-5)


def test_isolated_firms_have_zero_peer_share():
    i, j = np.array([0, 1]), np.array([1, 2])
    peers = peer_matrix(i, j, 4)
    out = peers @ np.array([1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(out, [0.0, 1.0, 0.0, 0.0])


@given(st.integers(0, 6), st.integers(0, 6), st.integers(0, 2**32))
def test_ties_respect_sector_region_and_supply_links(local, supply, seed):
    rng = np.random.default_rng(seed)
    n = 400
    sector = rng.integers(0, len(SECTOR_NAMES), n)
    sector[: len(SECTOR_NAMES)] = np.arange(len(SECTOR_NAMES))  # every sector present
    region = rng.integers(0, len(REGION_NAMES), n)
    i, j = build_ties(sector, region, np.random.default_rng(seed), local, supply)
    assert (i < j).all()
    assert len(np.unique(i * n + j)) == len(i)
    assert len(i) <= n * (local + supply)
    if local + supply == 0:
        assert len(i) == 0
    same_cell = (sector[i] == sector[j]) & (region[i] == region[j])
    linked = (LINKAGE[sector[i], sector[j]] > 0) | (LINKAGE[sector[j], sector[i]] > 0)
    if supply == 0:
        assert same_cell.all()  # local ties stay within sector and region
    if local == 0:
        assert linked.all()  # supply ties follow the sector linkage
    assert (same_cell | linked).all()


def test_ties_are_reproducible_from_the_stream():
    rng = np.random.default_rng(1)
    sector = rng.integers(0, len(SECTOR_NAMES), 300)
    region = rng.integers(0, len(REGION_NAMES), 300)
    a = build_ties(sector, region, np.random.default_rng(3), 4, 2)
    b = build_ties(sector, region, np.random.default_rng(3), 4, 2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_linkage_rows_are_distributions():
    assert LINKAGE.shape == (len(SECTOR_NAMES), len(SECTOR_NAMES))
    np.testing.assert_allclose(LINKAGE.sum(axis=1), 1.0)
    assert (LINKAGE >= 0).all()


def test_model_without_ties_runs_and_has_no_peer_effect():
    params = {"network_local_degree": 0, "network_supply_degree": 0}
    m = SMEEconomy(500, seed=1, parameters=params, end_year=2022)
    assert len(m.ties[0]) == 0
    m.run()
    # without ties the peer weight does not matter
    other = SMEEconomy(500, seed=1, parameters={**params, "peer_weight": 4.0},
                       end_year=2022).run()
    np.testing.assert_array_equal(m.indicator_frame()["value"].to_numpy(),
                                  other.indicator_frame()["value"].to_numpy())


def test_peers_raise_adoption():
    """A stronger peer effect gives more adoption at the same seed."""
    weak = SMEEconomy(1_000, seed=2, parameters={"peer_weight": 0.0}, end_year=2025).run()
    strong = SMEEconomy(1_000, seed=2, parameters={"peer_weight": 3.0}, end_year=2025).run()
    for name in ("dii_at_least_basic", "cloud", "ai"):
        assert strong.latest(name) > weak.latest(name), name
