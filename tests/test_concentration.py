"""Measures of how concentrated answering is, checked by hand on small cases (issue 10, Build 2)."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest

from compendium import concentration as c


def test_freeman_star_and_regular_graphs():
    star_in = nx.DiGraph([(i, 0) for i in range(1, 6)])  # everyone answers member 0
    assert c.freeman_centralisation(star_in, "in") == 1.0
    # out-degrees 0, 1, 1, 1, 1, 1: sum(1 - d) = 1, over (6 - 1)^2 = 25
    assert c.freeman_centralisation(star_in, "out") == pytest.approx(1 / 25)
    cycle = nx.DiGraph([(i, (i + 1) % 5) for i in range(5)])
    assert c.freeman_centralisation(cycle, "in") == 0.0 == c.freeman_centralisation(cycle, "out")


def test_freeman_by_hand_and_ignores_weights_loops_and_parallel_edges():
    # in-degrees: a 2, b 1, c 0, d 0  -> sum(max - d) = 0 + 1 + 2 + 2 = 5, over (4 - 1)^2 = 9
    g = nx.MultiDiGraph([("b", "a"), ("c", "a"), ("c", "a"), ("a", "b"), ("d", "d")])
    assert c.freeman_centralisation(g, "in") == pytest.approx(5 / 9)
    assert math.isnan(c.freeman_centralisation(nx.DiGraph([("x", "x")]), "in"))
    with pytest.raises(ValueError):
        c.freeman_centralisation(g, "both")


def test_freeman_equals_the_definition_on_random_graphs():
    g = nx.gnp_random_graph(12, 0.25, seed=4, directed=True)
    n = g.number_of_nodes()
    ins = [d for _, d in g.in_degree()]
    assert c.freeman_centralisation(g, "in") == pytest.approx(sum(max(ins) - d for d in ins) / (n - 1) ** 2)


def test_gini_by_hand():
    assert c.gini([3, 3, 3, 3]) == 0.0
    assert c.gini([0, 0, 0, 8]) == pytest.approx(3 / 4)  # (n - 1) / n
    assert c.gini([1, 2, 3]) == pytest.approx(2 / 9)  # sum|xi-xj| = 8, 2 n^2 mean = 36
    assert math.isnan(c.gini([])) and math.isnan(c.gini([0, 0]))
    with pytest.raises(ValueError):
        c.gini([1, -1])


def test_gini_equals_the_pairwise_definition():
    xs = [5, 0, 2, 9, 1, 1, 4]
    pairs = sum(abs(a - b) for a, b in itertools.product(xs, xs))
    assert c.gini(xs) == pytest.approx(pairs / (2 * len(xs) ** 2 * (sum(xs) / len(xs))))


def test_top_share():
    assert c.top_share([10, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == 1.0
    assert c.top_share([1] * 20, 0.1) == pytest.approx(0.1)  # 2 of 20 members give 2 of 20
    assert c.top_share([5, 3, 2], 0.1) == pytest.approx(0.5)  # at least one member
    assert math.isnan(c.top_share([0, 0]))
    with pytest.raises(ValueError):
        c.top_share([1], 0)
