"""experiments/observations.py: the observed record, the survey observation model
(measurement offsets, sampling error), target readings and the history check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.observations import (
    HISTORY_Z,
    history_check,
    history_ok,
    history_scores,
    load_record,
    readings,
    survey_value,
)
from model import PARAMETERS


@pytest.fixture(scope="module")
def record():
    return load_record()


def _observed_values(table: pd.DataFrame) -> dict[tuple[str, str, int], float]:
    """Simulated values equal to the observations (offset-free statistics only)."""
    out = {}
    for r in table.itertuples():
        if r.kind == "share" and not r.offset:
            out[(r.indicator, r.segment, r.year)] = r.value
    return out


def test_offsets_apply_only_where_a_definition_changes(record):
    t = record.fitted()
    ai = t[(t["code"] == "E_AI_TANY") & (t["kind"] == "share")].reset_index(drop=True)
    values = {("ai", "10-249", y): 0.2 for y in ai["year"]}
    base = readings(ai, values, {"survey_ai_2025_offset": 0.0})
    shifted = readings(ai, values, {"survey_ai_2025_offset": 1.0})
    assert np.allclose(base, 0.2)  # a zero offset reads the model as it is
    changed = shifted != base
    assert list(ai.loc[changed, "year"]) == [2025]
    z = np.log(0.2 / 0.8) + 1.0
    assert shifted[changed][0] == pytest.approx(1 / (1 + np.exp(-z)))


def test_sampling_and_model_error_are_drawn_around_the_reading(record):
    t = record.fitted()
    stats = t[t["kind"] == "share"].reset_index(drop=True)
    values = {(r.indicator, r.segment, r.year): 0.5 for r in stats.itertuples()}
    params = {n: 0.0 for n in PARAMETERS if PARAMETERS[n].role == "measurement"}
    rng = np.random.default_rng(1)
    draws = np.array([readings(stats, values, params, rng=rng) for _ in range(3000)])
    assert np.allclose(draws.mean(axis=0), 0.5, atol=0.003)
    # The fit's whole error: sampling error and the series' model-error allowance.
    assert np.allclose(draws.std(axis=0), stats["sd"], rtol=0.1)
    assert (stats["sd"] > stats["sampling_sd"]).all()


def test_size_gradient_reading_is_a_log_odds_ratio(record):
    t = record.fitted()
    grad = t[t["kind"] == "gradient"].head(1).reset_index(drop=True)
    ind, year = grad.loc[0, "indicator"], grad.loc[0, "year"]
    values = {(ind, "50-249", year): 0.6, (ind, "10-49", year): 0.4}
    assert readings(grad, values, {})[0] == pytest.approx(2 * np.log(1.5))


def test_ai_target_reading_carries_the_break_from_2025_on():
    values = {("ai", "10-249", y): 0.3 for y in (2024, 2025, 2030)}
    p = {"survey_ai_2025_offset": -0.5}
    assert survey_value("ai", "10-249", 2024, values, p) == pytest.approx(0.3)
    assert survey_value("ai", "10-249", 2030, values, p) < 0.3
    assert survey_value("ai", "10-249", 2030, values, p) == \
        survey_value("ai", "10-249", 2025, values, p)


def test_dii_v4_target_reading_mixes_size_classes_with_their_offsets():
    v = {("dii_v4_at_least_basic", "10-49", 2030): 0.8,
         ("dii_v4_at_least_basic", "50-249", 2030): 0.9,
         ("dii_v4_at_least_basic", "10-249", 2030): 0.0,  # never read directly
         ("firms", "10-49", 2030): 3.0, ("firms", "50-249", 2030): 1.0}
    zero = {"survey_dii_v4_offset_10_49": 0.0, "survey_dii_v4_offset_50_249": 0.0}
    assert survey_value("dii_v4_at_least_basic", "10-249", 2030, v, zero) == \
        pytest.approx(0.75 * 0.8 + 0.25 * 0.9)
    up = {**zero, "survey_dii_v4_offset_50_249": 1.0}
    assert survey_value("dii_v4_at_least_basic", "10-249", 2030, v, up) > \
        survey_value("dii_v4_at_least_basic", "10-249", 2030, v, zero)
    assert survey_value("dii_v4_at_least_basic", "50-249", 2030, v, up) > 0.9


def test_history_check_passes_the_observed_past_and_fails_a_wrong_one(record):
    t = record.fitted()
    values = _observed_values(t)
    # offset statistics: give the model value that reads as the observation at offset 0
    for r in t.itertuples():
        if r.kind == "share" and r.offset:
            values.setdefault((r.indicator, r.segment, r.year), r.value)
    for r in t[t["kind"] == "gradient"].itertuples():
        lo = 0.4
        hi = 1 / (1 + np.exp(-(np.log(lo / (1 - lo)) + r.value)))
        values[(r.indicator, "10-49", r.year)] = lo
        values[(r.indicator, "50-249", r.year)] = hi
    zero = {n: 0.0 for n in PARAMETERS if PARAMETERS[n].role == "measurement"}
    # E_CC and E_CC1_SI share the model's cloud: at offset 0 only one can match exactly
    zero["survey_cloud_any_offset"] = 0.2
    scores = history_scores(t.reset_index(drop=True), values, zero)
    assert history_ok(scores), scores
    out = history_check(values, zero, end_year=2030)
    assert out["history:ok"] is True
    wrong = {k: (min(0.99, v + 0.08) if k[0] == "dii_at_least_basic" else v)
             for k, v in values.items()}
    out = history_check(wrong, zero, end_year=2030)
    assert out["history:ok"] is False and out["history:dii_v3_basic"] > HISTORY_Z
    # a run ending before 2025 is checked on the years it simulated
    early = history_check(values, zero, end_year=2022)
    assert "history:dii_v3_bands" not in early and "history:dii_v4" in early




def test_security_and_incidents_are_fitted_by_size_class_as_surveyed(record):
    """E_SECMGE5 and E_SEC2IANY of the 2022 and 2024 surveys, 10-49 and 50-249, are in
    the fit (read as simulated: no measurement offset), with the shipped values; 2-9
    firms, outside the calibration's frame, are not; the back-test holds 2024 out."""
    from model.datasets import cyber_figure

    t = record.fitted()
    for series, code, indicator in (("security", "E_SECMGE5", "security_5plus"),
                                    ("incidents", "E_SEC2IANY", "incident_past_year")):
        rows = t[t["series"] == series]
        assert set(zip(rows["segment"], rows["year"], strict=True)) == {
            (s, y) for s in ("10-49", "50-249") for y in (2022, 2024)}
        assert (rows["indicator"] == indicator).all() and (rows["offset"] == "").all()
        for r in rows.itertuples():
            assert r.value == pytest.approx(cyber_figure(code, r.segment, r.year))
    assert not (record.fitted(2023)["year"] == 2024).any()
    # the cyber file of a config is read in the shipped layout (percentages)
    from model.data import __file__ as data_init

    shipped = pd.read_csv(data_init.replace("__init__.py", "cybersecurity.csv"))
    halved = shipped.assign(value=pd.to_numeric(shipped["value"], errors="coerce") / 2)
    other = load_record(cyber=halved).fitted()
    sec = other[other["series"] == "security"]["value"].to_numpy()
    assert sec == pytest.approx(t[t["series"] == "security"]["value"].to_numpy() / 2)
