"""The calendar: runs start in the first DII survey year, a quarter a step."""

from __future__ import annotations

from model import SMEEconomy, datasets
from model.timeline import MAX_YEAR, START_YEAR, quarter_index


def test_the_start_year_is_the_first_surveyed_year_of_the_index():
    years = datasets.dii()["year"]
    assert START_YEAR == years.min()
    assert START_YEAR < MAX_YEAR


def test_a_run_starts_in_the_first_quarter_of_the_start_year_and_steps_a_quarter():
    m = SMEEconomy(500, seed=1, end_year=START_YEAR + 1)
    assert (m.year, m.quarter, m.time) == (START_YEAR, 1, float(START_YEAR))
    m.step()
    assert (m.year, m.quarter, m.time) == (START_YEAR, 2, START_YEAR + 0.25)
    m.run()
    assert (m.year, m.quarter) == (START_YEAR + 1, 4)


def test_quarter_index_is_the_step_a_model_is_at():
    m = SMEEconomy(500, seed=1, end_year=START_YEAR + 2)
    while m.running:
        assert quarter_index(m.year, m.quarter) == m.quarter_index
        m.step()
    assert quarter_index(m.end_year, 4) == m.final_quarter_index == m.quarter_index
