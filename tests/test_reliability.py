"""Tests for compendium.reliability against hand-computed textbook values (to 1e-9).

Hand computations (binary nominal data, two coders, no missing values):

Cohen's kappa = (Po - Pe) / (1 - Pe), Pe = pA(1) pB(1) + pA(0) pB(0).
Krippendorff's alpha (coincidence matrix, n = 2N pairable values):
    alpha = 1 - (n - 1) * (o01 + o10) / (2 * n0 * n1),
    each disagreeing unit adding 1 to o01 and 1 to o10.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from compendium import codebook as cbmod
from compendium import reliability as rel

TOL = 1e-9

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", binary example A:
# 10 units, two observers. Disagreements on units 1, 3, 6, 9; n1 = 2 + 4 = 6, n0 = 14.
K_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
K_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
K_ALPHA = 1 - 19 * 8 / (2 * 14 * 6)  # = 16/168 = 0.0952..., reported as 0.095
K_KAPPA = (0.6 - (0.2 * 0.4 + 0.8 * 0.6)) / (1 - 0.56)  # = 1/11


def test_krippendorff_textbook_example():
    assert abs(K_ALPHA - 2 / 21) < 1e-15
    assert abs(rel.krippendorff_alpha(K_A, K_B) - K_ALPHA) < TOL
    assert round(rel.krippendorff_alpha(K_A, K_B), 3) == 0.095
    assert abs(rel.cohen_kappa(K_A, K_B) - 1 / 11) < TOL
    assert abs(K_KAPPA - 1 / 11) < 1e-12


def test_cohen_textbook_2x2():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    # Po = 35/50 = 0.7; pA(1) = 0.5, pB(1) = 0.6; Pe = 0.3 + 0.2 = 0.5; kappa = 0.4
    assert abs(rel.cohen_kappa(a, b) - 0.4) < TOL
    # alpha: n = 100, n1 = 55, n0 = 45, o01 + o10 = 30 -> 1 - 99*30/4950 = 0.4
    assert abs(rel.krippendorff_alpha(a, b) - 0.4) < TOL


def test_perfect_and_degenerate():
    assert rel.cohen_kappa([0, 1, 1, 0], [0, 1, 1, 0]) == pytest.approx(1.0, abs=TOL)
    assert rel.krippendorff_alpha([0, 1, 1, 0], [0, 1, 1, 0]) == pytest.approx(1.0, abs=TOL)
    assert math.isnan(rel.cohen_kappa([0, 0, 0], [0, 0, 0]))
    assert math.isnan(rel.krippendorff_alpha([0, 0, 0], [0, 0, 0]))
    assert math.isnan(rel.cohen_kappa([1], [1]))
    # one coder never applies it, the other once: defined, zero
    assert rel.cohen_kappa([0, 0, 0], [0, 1, 0]) == pytest.approx(0.0, abs=TOL)


CODEBOOK = """\
version: "1"
themes:
  - {id: T1, label: t, definition: d}
codes:
  - {id: X, label: code x, theme: T1, origin: inductive, definition: d, indicators: [x]}
  - {id: Y, label: code y, theme: T1, origin: inductive, definition: d, indicators: [y]}
  - {id: Z, label: code z, theme: T1, origin: inductive, definition: d, indicators: [z]}
history:
  - {date: 2023-01-01, change: c}
"""


@pytest.fixture
def cb(tmp_path):
    p = tmp_path / "codebook.yml"
    p.write_text(CODEBOOK)
    return cbmod.load(p)


def build(with_z: bool = True):
    """Source S (10 units) coded by A and B with the Krippendorff vectors for X; Z on every unit
    by both (if with_z); Y never. Source T coded by A only (must be ignored)."""
    units = [f"S:{i:04d}" for i in range(1, 11)]
    unit_tab = pd.DataFrame(
        {"unit_id": units + ["T:0001", "T:0002"], "source_id": ["S"] * 10 + ["T"] * 2, "participant": "", "text": ""}
    )
    rows = []
    for u, a, b in zip(units, K_A, K_B):
        if a:
            rows.append(("A", u, "S", "X"))
        if b:
            rows.append(("B", u, "S", "X"))
        if with_z:
            rows += [("A", u, "S", "Z"), ("B", u, "S", "Z")]
    rows.append(("A", "T:0001", "T", "X"))
    coded = pd.DataFrame(rows, columns=["coder", "unit_id", "source_id", "code_id"])
    return coded, unit_tab


def test_reliability_table(cb):
    coded, unit_tab = build()
    r = rel.reliability(coded, unit_tab, cb).set_index("code_id")
    assert list(r.index) == ["X", "Y", "Z", "ALL"]
    assert list(r.columns) == rel.COLUMNS[1:]
    x = r.loc["X"]
    assert x["n_units"] == 10 and x["coders"] == "A;B"
    assert (x["n_coder1"], x["n_coder2"], x["n_both"]) == (2, 4, 1)
    assert abs(x["percent_agreement"] - 60.0) < TOL
    assert abs(x["kappa"] - 1 / 11) < TOL
    assert abs(x["alpha"] - 2 / 21) < TOL
    y = r.loc["Y"]
    assert math.isnan(y["kappa"]) and math.isnan(y["alpha"])
    assert y["percent_agreement"] == 100.0
    assert "never applied" in y["note"]
    z = r.loc["Z"]
    assert math.isnan(z["kappa"]) and "every unit" in z["note"]
    # pooled: X and Z stacked (20 decisions). Po = 16/20; pA1 = 12/20, pB1 = 14/20
    # Pe = .6*.7 + .4*.3 = .54 -> kappa = .26/.46 = 13/23
    # alpha: n = 40, n1 = 26, n0 = 14, o01+o10 = 8 -> 1 - 39*8/728 = 4/7
    p = r.loc["ALL"]
    assert p["n_units"] == 20
    assert abs(p["percent_agreement"] - 80.0) < TOL
    assert abs(p["kappa"] - 13 / 23) < TOL
    assert abs(p["alpha"] - 4 / 7) < TOL
    assert p["note"] == "2 codes x 10 units"


def test_reliability_coded_universe(cb):
    coded, unit_tab = build(with_z=False)
    r = rel.reliability(coded, unit_tab, cb, universe="coded").set_index("code_id")
    # rated units: those either coder coded in S = units 1, 2, 3, 6, 9
    # A = [0,1,0,0,1], B = [1,1,1,1,0]: Po = .2, Pe = .4*.8 + .6*.2 = .44 -> kappa = -3/7
    # alpha: n = 10, n1 = 6, n0 = 4, o01+o10 = 8 -> 1 - 9*8/48 = -0.5
    x = r.loc["X"]
    assert x["n_units"] == 5
    assert abs(x["kappa"] - (-3 / 7)) < TOL
    assert abs(x["alpha"] - (-0.5)) < TOL
    with pytest.raises(ValueError):
        rel.reliability(coded, unit_tab, cb, universe="everything")


def test_matches_reference_on_random_data(cb):
    from sklearn.metrics import cohen_kappa_score
    import krippendorff

    rng = np.random.default_rng(7)
    a = rng.integers(0, 2, 200)
    b = np.where(rng.random(200) < 0.8, a, 1 - a)
    assert abs(rel.cohen_kappa(a, b) - cohen_kappa_score(a, b)) < TOL
    ref = krippendorff.alpha(reliability_data=np.vstack([a, b]).astype(float), level_of_measurement="nominal")
    assert abs(rel.krippendorff_alpha(a, b) - ref) < TOL


def test_needs_two_coders(cb):
    coded, unit_tab = build()
    with pytest.raises(ValueError, match="two coders"):
        rel.reliability(coded[coded["coder"] == "A"], unit_tab, cb)


def test_no_double_coded_sources(cb):
    coded, unit_tab = build()
    coded = coded[~((coded["coder"] == "B") & (coded["source_id"] == "S"))]
    coded = pd.concat([coded, pd.DataFrame([("B", "T:0002", "U", "X")], columns=coded.columns)])
    r = rel.reliability(coded, unit_tab, cb).set_index("code_id")
    assert (r["n_units"] == 0).all()
    assert r.loc["X", "note"] == "fewer than two rated units"


def test_alpha_closed_form_equals_the_krippendorff_package():
    import numpy as np

    from compendium import reliability as rel

    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(300):
        n = int(rng.integers(2, 60))
        a = (rng.random(n) < rng.random()).astype(int)
        b = (rng.random(n) < rng.random()).astype(int)
        ref = rel.krippendorff_alpha(a, b)
        mine = float(rel.alpha_binary((a != b).sum(), (a + b).sum(), n))
        if math.isnan(ref):
            assert math.isnan(mine)
            continue
        assert abs(ref - mine) < 1e-9
        checked += 1
    assert checked > 200


def test_bootstrap_interval_brackets_alpha_narrows_with_units_and_is_seeded():
    import numpy as np

    from compendium import reliability as rel

    rng = np.random.default_rng(2)

    def interval(n):
        a = (rng.random(n) < 0.3).astype(int)
        b = np.where(rng.random(n) < 0.85, a, 1 - a)
        draws = rel.bootstrap_draws(n)
        lo, hi = rel.bootstrap_interval((a != b).astype(int), a + b, draws)
        point = rel.krippendorff_alpha(a, b)
        assert lo <= point <= hi
        assert (lo, hi) == rel.bootstrap_interval((a != b).astype(int), a + b, rel.bootstrap_draws(n))
        return hi - lo

    assert interval(2000) < interval(100)


def test_reliability_table_has_intervals_and_names_a_code_one_coder_never_used(tmp_path):
    import pandas as pd

    from compendium import reliability as rel
    from compendium.tables import read_csv

    from conftest import DERIVED

    t = read_csv(DERIVED / "reliability.csv")
    assert {"alpha_low", "alpha_high"} <= set(t.columns)
    scored = t[pd.to_numeric(t["alpha"], errors="coerce").notna()]
    lo, a, hi = (pd.to_numeric(scored[c]) for c in ("alpha_low", "alpha", "alpha_high"))
    assert ((lo <= a + 1e-9) & (a <= hi + 1e-9)).all()
    one_sided = t[(t["n_coder1"].astype(int) == 0) ^ (t["n_coder2"].astype(int) == 0)]
    assert len(one_sided) and one_sided["note"].str.startswith("never applied by coder").all()
    assert rel.COLUMNS == list(t.columns)
