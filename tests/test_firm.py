"""The Firm agent: a live view onto one row of the model's firm arrays."""

from __future__ import annotations

import gc
import weakref

import mesa
import numpy as np
import pytest

from model import Firm, SMEEconomy
from model.datasets import SIZE_CLASSES
from model.population import REGION_NAMES, SECTOR_NAMES
from model.technologies import BASIC_NAMES, edition


@pytest.fixture()
def model():
    """A fresh model per test: these tests write to firm state."""
    return SMEEconomy(600, seed=21, end_year=2023)


def _firm(model, index):
    firms = [a for a in model.agents if a.index == index]
    assert len(firms) == 1
    return firms[0]


def test_one_agent_per_simulated_firm(model):
    agents = list(model.agents)
    assert len(agents) == model.n_firms == 600
    assert all(type(a) is Firm for a in agents)
    assert len({a.unique_id for a in agents}) == 600
    assert sorted(a.index for a in agents) == list(range(600))
    assert len(model.agents_by_type[Firm]) == 600


def test_attributes_read_the_model_arrays(model):
    f = model.firms
    for firm in list(model.agents)[::37]:
        k = firm.index
        assert firm.size_class == SIZE_CLASSES[f.size_class[k]]
        assert firm.sector == SECTOR_NAMES[f.sector[k]]
        assert firm.region == REGION_NAMES[f.region[k]]
        assert firm.weight == f.weight[k]
        assert firm.employees == f.employees[k]
        assert firm.capability == f.capability[k]
        for tech in ("cloud", "data_analytics", "ai"):
            assert getattr(firm, tech) == bool(f.adopted[tech][k])
            assert getattr(firm, f"aware_{tech}") == bool(f.aware[tech][k])
        assert firm.aware_of_cyber_risk == bool(f.aware["security"][k])
        assert firm.security_measures == int(f.measures[k])
        assert firm.dii_items == int(model.dii_count(edition(model.year, 3))[k])
        assert firm.at_least_basic == (firm.dii_items >= 4)
        assert firm.basic_items == tuple(BASIC_NAMES[i] for i in f.ladder[k, : f.depth[k]])
        assert len(firm.basic_items) == f.depth[k]


def test_writing_an_attribute_writes_the_model_array(model):
    f = model.firms
    k = int(np.flatnonzero(~f.adopted["cloud"])[0])
    firm = _firm(model, k)
    assert firm.cloud is False
    before = model.dii_count()[k]
    services = "cloud_services" in firm.basic_items
    cloud_before = f.adopted["cloud"].copy()
    firm.cloud = True
    assert f.adopted["cloud"][k]
    assert firm.cloud is True
    # cloud counts towards the DII: as itself, and as 'any cloud' unless basic cloud
    # services already gave the firm that item
    assert model.dii_count()[k] == before + (1 if services else 2)
    firm.security_measures = 9
    assert f.measures[k] == 9
    firm.aware_ai = True
    assert f.aware["ai"][k]
    firm.capability = 2.5
    assert f.capability[k] == 2.5
    changed = np.flatnonzero(f.adopted["cloud"] != cloud_before)
    assert changed.tolist() == [k]  # only that firm changed


def test_written_state_is_seen_by_the_submodels(model):
    """Giving every firm AI through the agents shows up in the next observation."""
    for firm in model.agents:
        firm.ai = True
    model.step()
    rate = model.params["discontinuance_rate"]
    assert model.latest("ai") >= 1 - 10 * rate  # only a few stopped this quarter


def test_fixed_attributes_cannot_be_written(model):
    firm = _firm(model, 0)
    for name, value in (("size_class", "50-249"), ("sector", "trade"), ("region", "north"),
                        ("weight", 1.0), ("employees", 3), ("edih_served", True),
                        ("subsidy_received_eur", 1.0)):
        with pytest.raises(AttributeError, match=name):
            setattr(firm, name, value)


def test_agents_follow_the_model_as_it_steps(model):
    firm = _firm(model, 3)
    model.run()
    f = model.firms
    assert firm.dii_items == int(model.dii_count(edition(model.year, 3))[3])
    assert firm.cloud == bool(f.adopted["cloud"][3])
    assert firm.security_measures == int(f.measures[3])


def test_agentset_tools_see_the_state(model):
    f = model.firms
    users = model.agents.select(lambda a: a.cloud)
    assert len(users) == int(f.adopted["cloud"].sum())
    weights = np.array(model.agents.get("weight"))
    assert weights.sum() == pytest.approx(f.weight.sum())
    assert model.agents.agg("weight", sum) == pytest.approx(model.latest("firms"))


def test_unique_ids_restart_per_model_and_models_are_freed():
    """Each model numbers its firms 1..n, and a finished model is not kept alive by the
    agent-id bookkeeping (batch workers run thousands of models)."""
    first = SMEEconomy(500, seed=1, end_year=2021).run()
    second = SMEEconomy(500, seed=1, end_year=2021)
    for m in (first, second):
        assert sorted(a.unique_id for a in m.agents) == list(range(1, 501))
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None


def test_bulk_creation_registers_firms_as_mesa_would():
    """Firm.create_all gives the registries, ids and indices that creating the firms one
    by one gives, and Mesa's own operations work on them."""
    bulk, one_by_one = mesa.Model(seed=1), mesa.Model(seed=1)
    made = Firm.create_all(bulk, 50)
    for k in range(50):
        Firm(one_by_one, k)
    for model in (bulk, one_by_one):
        assert len(model.agents) == 50 and len(model.agents_by_type[Firm]) == 50
    assert [a.unique_id for a in bulk.agents] == [a.unique_id for a in one_by_one.agents]
    assert [a.index for a in bulk.agents] == list(range(50)) and made == list(bulk.agents)
    assert all(a.pos is None and a.model is bulk for a in made)
    made[7].remove()
    assert len(bulk.agents) == 49 and made[7] not in bulk.agents_by_type[Firm]
    more = Firm.create_all(bulk, 3)  # a second batch joins the existing agent set
    assert len(bulk.agents_by_type[Firm]) == 52 and more[0].unique_id == 51


def test_bulk_creation_leaves_the_garbage_collector_as_it_found_it():
    assert gc.isenabled()
    SMEEconomy(500, seed=1, end_year=2021)
    assert gc.isenabled()
    gc.disable()
    try:
        SMEEconomy(500, seed=1, end_year=2021)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_bulk_weak_registration_forgets_agents_that_die():
    """The weak registries filled in bulk hold what WeakKeyDictionary.update would, and
    drop an agent once nothing else holds it (their own removal callback)."""
    from model.firm import _add_weak_keys

    class Thing:
        pass

    things = [Thing() for _ in range(5)]
    bulk, plain = weakref.WeakKeyDictionary(), weakref.WeakKeyDictionary()
    _add_weak_keys(bulk, things)
    plain.update(dict.fromkeys(things))
    assert list(bulk.keys()) == list(plain.keys()) == things
    del things[2]
    gc.collect()
    assert len(bulk) == len(plain) == 4
