"""Inter-coder reliability per code: percent agreement, Cohen's kappa, Krippendorff's alpha.

In a qualitative study double coding is less a test to pass than a prompt for discussion: where
coders disagree, the code definition (or the data) needs a closer look. The statistics are
computed by the reference implementations: scikit-learn's ``cohen_kappa_score`` and the
``krippendorff`` package (nominal level).

What is rated. A source counts as *double-coded* when both coders applied at least one code in
it. Every unit of analysis (segment or post, see :func:`compendium.coding.unit_table`) of a
double-coded source is one rated item; for each code each coder either applied it to the unit
(1) or did not (0). With ``universe="coded"`` only units at least one coder applied some code to
are rated instead, which removes the many uncoded units (interviewer turns, small talk) that
otherwise inflate percent agreement.

Rows: one per code (codebook order), then a pooled row ``ALL`` in which every unit x code
decision of the codes applied by at least one coder is one rated item.

Uncertainty. ``alpha_low``/``alpha_high`` is a 95% bootstrap interval of alpha: the rated units are drawn with
replacement :data:`BOOTSTRAP_DRAWS` times (seeded, the same draws for every code and for the pooled row, which
resamples units with all their codes), alpha is recomputed by its closed form for two coders and binary ratings
(:func:`alpha_binary`, equal to the ``krippendorff`` package), and the 2.5th and 97.5th percentiles are kept. A
code one coder never applied is named so in ``note``: its kappa of 0 says that the coders did not share the
code, not how reliably it was applied.

Degenerate cases. When neither coder applied a code (or both applied it to every unit), the
expected agreement is 1 and kappa and alpha are 0/0: the cells are left empty and ``note`` says
why. With fewer than two rated units nothing is computed.
"""

from __future__ import annotations
from compendium.errors import InputError

import warnings

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from compendium.codebook import Codebook
from compendium.coding import natural_key

COLUMNS = [
    "code_id",
    "label",
    "coders",
    "n_units",
    "n_coder1",
    "n_coder2",
    "n_both",
    "percent_agreement",
    "kappa",
    "alpha",
    "alpha_low",
    "alpha_high",
    "note",
]
BOOTSTRAP_DRAWS = 1000
BOOTSTRAP_SEED = 2107


def alpha_binary(n_disagree, n_ones, n_units) -> np.ndarray:
    """Krippendorff's alpha (nominal) of two coders' binary ratings of ``n_units`` units without missing values,
    from the number of units they disagree on and the number of 1s among all ``2 * n_units`` ratings:
    ``1 - (n - 1) * D / (n0 * n1)`` with ``n = 2 * n_units`` pairable values (the coincidence-matrix form, in which
    a disagreeing unit adds 1 to each off-diagonal cell). Vectorised; NaN where one value was never given.
    Equal to the ``krippendorff`` package on every case (tests), and fast enough for a bootstrap."""
    d = np.asarray(n_disagree, dtype=float)
    n1 = np.asarray(n_ones, dtype=float)
    n = 2.0 * np.asarray(n_units, dtype=float)
    n0 = n - n1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - (n - 1.0) * d / (n0 * n1)
    return np.where((n0 > 0) & (n1 > 0), out, np.nan)


def bootstrap_interval(
    disagree: np.ndarray, ones: np.ndarray, draws: np.ndarray, items_per_unit: int = 1
) -> tuple[float, float]:
    """95% percentile interval of alpha over bootstrap resamples of the units (Efron's nonparametric bootstrap:
    units drawn with replacement, the unit being what was sampled; Hayes & Krippendorff 2007 resample the
    coincidences instead, which gives similar intervals for two coders without missing values). ``disagree``
    and ``ones`` are per unit: the number of disagreeing decisions and of 1s given, over ``items_per_unit``
    decisions (1 for a code; the number of codes for the pooled row). ``draws`` is a (B, N) array of unit
    indices. Resamples in which alpha is undefined (a value never given) are left out."""
    if draws.size == 0:
        return float("nan"), float("nan")
    values = alpha_binary(disagree[draws].sum(axis=1), ones[draws].sum(axis=1), draws.shape[1] * items_per_unit)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan"), float("nan")
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def bootstrap_draws(n_units: int, draws: int = BOOTSTRAP_DRAWS, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """The (draws, n_units) unit indices of the bootstrap, seeded: the same for every code of one table."""
    if n_units < 2:
        return np.zeros((0, 0), dtype=np.int64)
    return np.random.default_rng(seed).integers(0, n_units, size=(draws, n_units))


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two binary/nominal rating vectors; NaN when undefined."""
    a = np.asarray(a)
    b = np.asarray(b)
    if len(a) < 2 or len(set(a.tolist()) | set(b.tolist())) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b))


def krippendorff_alpha(a, b) -> float:
    """Krippendorff's alpha (nominal) for two coders without missing values; NaN when undefined."""
    data = np.vstack([np.asarray(a, dtype=float), np.asarray(b, dtype=float)])
    if data.shape[1] < 2 or len(np.unique(data)) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def _stats(a: np.ndarray, b: np.ndarray, draws: np.ndarray | None = None, coders=("1", "2")) -> dict:
    n = len(a)
    row = {
        "n_units": n,
        "n_coder1": int(a.sum()),
        "n_coder2": int(b.sum()),
        "n_both": int((a & b).sum()),
        "percent_agreement": np.nan,
        "kappa": np.nan,
        "alpha": np.nan,
        "alpha_low": np.nan,
        "alpha_high": np.nan,
        "note": "",
    }
    if n < 2:
        row["note"] = "fewer than two rated units"
        if n == 1:
            row["percent_agreement"] = 100.0 * float(a[0] == b[0])
        return row
    row["percent_agreement"] = 100.0 * float((a == b).mean())
    if a.sum() == 0 and b.sum() == 0:
        row["note"] = "never applied by either coder: kappa and alpha undefined"
    elif a.all() and b.all():
        row["note"] = "applied to every unit by both coders: kappa and alpha undefined"
    else:
        row["kappa"] = cohen_kappa(a, b)
        row["alpha"] = krippendorff_alpha(a, b)
        if draws is not None:
            row["alpha_low"], row["alpha_high"] = bootstrap_interval((a != b).astype(int), a + b, draws)
        if np.isnan(row["kappa"]):
            row["note"] = "kappa undefined (expected agreement is 1)"
        elif a.sum() == 0 or b.sum() == 0:
            row["note"] = (
                f"never applied by coder {coders[0] if a.sum() == 0 else coders[1]}: agreement cannot "
                "exceed chance; a question for the codebook, not a reliability estimate"
            )
    return row


def double_coded_sources(coded_units: pd.DataFrame, coders: tuple[str, str]) -> list[str]:
    """Sources in which each of the two coders applied at least one code."""
    by = coded_units.groupby("source_id")["coder"].agg(set)
    return sorted((s for s, c in by.items() if set(coders) <= c), key=natural_key)


def rated_units(
    coded_units: pd.DataFrame, unit_tab: pd.DataFrame, coders: tuple[str, str], universe: str = "sources"
) -> list[str]:
    """The units rated for reliability (see the module docstring)."""
    sources = set(double_coded_sources(coded_units, coders))
    if universe == "sources":
        ids = unit_tab.loc[unit_tab["source_id"].isin(sources), "unit_id"]
        # units coded but missing from the table (should not happen) still count
        extra = coded_units.loc[coded_units["source_id"].isin(sources), "unit_id"]
        ids = set(ids) | set(extra)
    elif universe == "coded":
        sel = coded_units[coded_units["source_id"].isin(sources) & coded_units["coder"].isin(coders)]
        ids = set(sel["unit_id"])
    else:
        raise InputError(f"universe must be 'sources' or 'coded', not {universe!r}", "parameter reliability_universe")
    return sorted(ids, key=natural_key)


def reliability(
    coded_units: pd.DataFrame,
    unit_tab: pd.DataFrame,
    codebook: Codebook,
    coders: tuple[str, str] | None = None,
    universe: str = "sources",
) -> pd.DataFrame:
    """reliability.csv: per code and pooled, over the double-coded sources.

    ``coded_units`` is :func:`compendium.coding.units` (one row per coder, unit, code);
    ``unit_tab`` is :func:`compendium.coding.unit_table`. ``coders`` defaults to the first two
    coders in natural order. ``percent_agreement`` is in percent (0-100).
    """
    if coders is None:
        found = sorted(set(coded_units["coder"]), key=natural_key)
        if len(found) < 2:
            raise ValueError("reliability needs two coders; found " + (", ".join(found) or "none"))
        coders = (found[0], found[1])
    c1, c2 = coders
    ids = rated_units(coded_units, unit_tab, coders, universe)
    index = {u: i for i, u in enumerate(ids)}
    applied = {c: {} for c in coders}
    for rec in coded_units[coded_units["coder"].isin(coders)].itertuples(index=False):
        if rec.unit_id in index:
            applied[rec.coder].setdefault(rec.code_id, set()).add(rec.unit_id)

    def vector(coder: str, code: str) -> np.ndarray:
        v = np.zeros(len(ids), dtype=int)
        for u in applied[coder].get(code, ()):
            v[index[u]] = 1
        return v

    rows = []
    stack1, stack2 = [], []
    draws = bootstrap_draws(len(ids))
    for code in codebook.codes.itertuples(index=False):
        a, b = vector(c1, code.id), vector(c2, code.id)
        row = {"code_id": code.id, "label": code.label, "coders": f"{c1};{c2}", **_stats(a, b, draws, coders)}
        rows.append(row)
        if a.any() or b.any():
            stack1.append(a)
            stack2.append(b)
    pa = np.concatenate(stack1) if stack1 else np.zeros(0, dtype=int)
    pb = np.concatenate(stack2) if stack2 else np.zeros(0, dtype=int)
    pooled = {"code_id": "ALL", "label": "pooled over all applied codes", "coders": f"{c1};{c2}", **_stats(pa, pb)}
    if stack1 and not np.isnan(pooled["alpha"]):
        m1, m2 = np.vstack(stack1), np.vstack(stack2)  # codes x units: the bootstrap resamples units
        pooled["alpha_low"], pooled["alpha_high"] = bootstrap_interval(
            (m1 != m2).sum(axis=0), (m1 + m2).sum(axis=0), draws, items_per_unit=len(stack1)
        )
    if stack1 and not pooled["note"]:
        pooled["note"] = f"{len(stack1)} codes x {len(ids)} units"
    rows.append(pooled)
    return pd.DataFrame(rows, columns=COLUMNS)
