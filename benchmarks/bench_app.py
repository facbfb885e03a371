"""One refresh of the single-run page: ``model.step()``, the DataCollector frame and the
matplotlib render of every chart (adoption lines, the 300-firm view, size classes,
spend), for a
5,000-firm ExplorerModel. Prints the median of 5 (target: under 1 s).

    python benchmarks/bench_app.py
"""

from __future__ import annotations

import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

from explorer.model import ExplorerModel

LINES = ("dii_at_least_basic", "dii_v4_at_least_basic", "cloud", "data_analytics", "ai",
         "security_5plus")


def _adoption_png(model) -> bytes:
    fig = Figure()
    ax = fig.subplots()
    df = model.datacollector.get_model_vars_dataframe()
    for name in LINES:
        ax.plot(df.loc[:, name], label=name, marker=".")
    ax.axhline(0.95, ls="--")
    ax.axhline(0.75, ls=":")
    ax.legend(loc="best")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _firm_png(model) -> bytes:
    # The single-run page's firm view without importing solara.
    from explorer.single_run import firm_figure

    buf = io.BytesIO()
    firm_figure(model).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def refresh(model) -> None:
    from explorer.charts import size_class_figure, spend_figure

    model.step()
    _adoption_png(model)
    frame = model.indicator_frame()
    _png(size_class_figure(frame))
    _png(spend_figure(frame))
    try:
        _firm_png(model)
    except ImportError:  # without the app extra: the adoption chart only
        pass


def main() -> float:
    model = ExplorerModel(n_firms=5000, seed=1)
    refresh(model)  # warm-up
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        refresh(model)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(f"single-run page refresh, 5,000 firms (step + DataCollector frame + charts): "
          f"median of 5 = {median:.3f} s (target < 1 s)")
    return median


if __name__ == "__main__":
    main()
