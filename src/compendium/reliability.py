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

COLUMNS = ["code_id", "label", "coders", "n_units", "n_coder1", "n_coder2", "n_both",
           "percent_agreement", "kappa", "alpha", "note"]


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


def _stats(a: np.ndarray, b: np.ndarray) -> dict:
    n = len(a)
    row = {"n_units": n, "n_coder1": int(a.sum()), "n_coder2": int(b.sum()),
           "n_both": int((a & b).sum()), "percent_agreement": np.nan, "kappa": np.nan,
           "alpha": np.nan, "note": ""}
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
        if np.isnan(row["kappa"]):
            row["note"] = "kappa undefined (expected agreement is 1)"
    return row


def double_coded_sources(coded_units: pd.DataFrame, coders: tuple[str, str]) -> list[str]:
    """Sources in which each of the two coders applied at least one code."""
    by = coded_units.groupby("source_id")["coder"].agg(set)
    return sorted((s for s, c in by.items() if set(coders) <= c), key=natural_key)


def rated_units(coded_units: pd.DataFrame, unit_tab: pd.DataFrame, coders: tuple[str, str],
                universe: str = "sources") -> list[str]:
    """The units rated for reliability (see the module docstring)."""
    sources = set(double_coded_sources(coded_units, coders))
    if universe == "sources":
        ids = unit_tab.loc[unit_tab["source_id"].isin(sources), "unit_id"]
        # units coded but missing from the table (should not happen) still count
        extra = coded_units.loc[coded_units["source_id"].isin(sources), "unit_id"]
        ids = set(ids) | set(extra)
    elif universe == "coded":
        sel = coded_units[coded_units["source_id"].isin(sources)
                          & coded_units["coder"].isin(coders)]
        ids = set(sel["unit_id"])
    else:
        raise InputError(f"universe must be 'sources' or 'coded', not {universe!r}", "parameter reliability_universe")
    return sorted(ids, key=natural_key)


def reliability(coded_units: pd.DataFrame, unit_tab: pd.DataFrame, codebook: Codebook,
                coders: tuple[str, str] | None = None, universe: str = "sources") -> pd.DataFrame:
    """reliability.csv: per code and pooled, over the double-coded sources.

    ``coded_units`` is :func:`compendium.coding.units` (one row per coder, unit, code);
    ``unit_tab`` is :func:`compendium.coding.unit_table`. ``coders`` defaults to the first two
    coders in natural order. ``percent_agreement`` is in percent (0-100).
    """
    if coders is None:
        found = sorted(set(coded_units["coder"]), key=natural_key)
        if len(found) < 2:
            raise ValueError("reliability needs two coders; found "
                             + (", ".join(found) or "none"))
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
    for code in codebook.codes.itertuples(index=False):
        a, b = vector(c1, code.id), vector(c2, code.id)
        row = {"code_id": code.id, "label": code.label, "coders": f"{c1};{c2}", **_stats(a, b)}
        rows.append(row)
        if a.any() or b.any():
            stack1.append(a)
            stack2.append(b)
    pa = np.concatenate(stack1) if stack1 else np.zeros(0, dtype=int)
    pb = np.concatenate(stack2) if stack2 else np.zeros(0, dtype=int)
    pooled = {"code_id": "ALL", "label": "pooled over all applied codes", "coders": f"{c1};{c2}",
              **_stats(pa, pb)}
    if stack1 and not pooled["note"]:
        pooled["note"] = f"{len(stack1)} codes x {len(ids)} units"
    rows.append(pooled)
    return pd.DataFrame(rows, columns=COLUMNS)
