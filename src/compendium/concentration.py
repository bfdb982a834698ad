"""How concentrated the giving of answers is: the measures issue 10 sets beside counterfactuals.

Pure functions over counts and graphs, so that each can be checked by hand on small cases
(tests/test_concentration.py):

- :func:`freeman_centralisation`: Freeman's degree centralisation of a directed graph, in or out: the sum of the
  differences between the largest degree and every other, over the largest that sum can be for a graph of that
  many nodes (a star, ``(n - 1) ** 2`` for a simple directed graph without self-loops). 1 for a star (one member
  answers everyone, or everyone answers one), 0 when every member has the same degree.
- :func:`gini`: the Gini coefficient of non-negative counts (mean absolute difference over twice the mean): 0 when
  everyone gives as many answers, ``(n - 1) / n`` when one member gives them all.
- :func:`top_share`: the share of the total given by the most active ``fraction`` of members (at least one member).

These measure; they do not judge. What a value means for the study's claim of decentralised knowledge-sharing
comes from comparing it with a centralised counterfactual and with randomised graphs of the same size, which is
issue 10's next step.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np


def freeman_centralisation(graph: nx.DiGraph, direction: str = "in") -> float:
    """Freeman degree centralisation (``direction`` "in" or "out") of the simple directed graph underlying
    ``graph`` (edge weights, parallel edges and self-loops ignored); NaN for fewer than two nodes."""
    if direction not in ("in", "out"):
        raise ValueError("direction must be 'in' or 'out'")
    simple = nx.DiGraph()
    simple.add_nodes_from(graph.nodes)
    simple.add_edges_from((u, v) for u, v, *_ in graph.edges if u != v)
    n = simple.number_of_nodes()
    if n < 2:
        return float("nan")
    degrees = [d for _, d in (simple.in_degree() if direction == "in" else simple.out_degree())]
    top = max(degrees)
    return sum(top - d for d in degrees) / ((n - 1) ** 2)


def gini(values) -> float:
    """Gini coefficient of non-negative counts: ``sum |x_i - x_j| / (2 n^2 mean)``; NaN when empty or all zero."""
    x = np.asarray(list(values), dtype=float)
    if (x < 0).any():
        raise ValueError("gini needs non-negative values")
    if x.size == 0 or x.sum() == 0:
        return float("nan")
    x = np.sort(x)
    n = x.size
    # sum over pairs of |x_i - x_j| from the sorted values: 2 * sum_i (2i - n + 1) x_i  (i from 0)
    pairs = 2.0 * float(np.sum((2 * np.arange(n) - n + 1) * x))
    return pairs / (2.0 * n * n * float(x.mean()))


def top_share(values, fraction: float = 0.1) -> float:
    """The share of the total given by the most active ``fraction`` of the members (rounded up, at least one);
    NaN when the total is zero."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    x = sorted((float(v) for v in values), reverse=True)
    total = sum(x)
    if not x or total == 0:
        return float("nan")
    k = max(1, math.ceil(fraction * len(x)))
    return sum(x[:k]) / total
