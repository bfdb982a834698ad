"""Information flow on WITI: who replies to whom, and who asks and who answers.

Digital ethnography reads the traces a platform keeps. Replies are such a trace: each reply is a
directed tie from the replier to the author of the post replied to. The network does not replace
observation and interviews; it checks a claim they support - that the roles of teacher and
learner are fluid and non-exclusive - against the pattern of who asks and who answers.

Input is ``posts.csv`` (``post_id, thread_id, depth, parent_post_id, author, text`` ...), whose
authors are roster pseudonyms.

Conventions (documented choices):

- Anonymous authors (``Anonymous member``, ``Anonymous`` or empty) are not members: their posts
  give no tie, and they are not listed in the metrics.
- A reply whose parent is missing (``parent_post_id`` empty, e.g. a reply at the top of a page
  whose parent is on an earlier page that was not captured, or not in ``posts``) gives no tie.
- Replies to oneself are kept in ``interactions`` (flag ``self_reply``) but are not edges of the
  graph, so they do not count in degrees, betweenness or reciprocity.
- What a post *does* is its act (:mod:`compendium.acts`): a *question* is a post whose act is ``question`` (an
  opening question or a follow-up), an *answer* a reply whose act is answer-type (``answer`` or
  ``elaboration``). Thanks and other replies are kept in ``interactions`` with their act but are not ties: a
  thread's asker saying "thank you both" does not make them an answerer. Role: ``both`` (asked and answered),
  ``asker``, ``answerer``, or ``other`` (only thanks, remarks, announcements).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from compendium import acts as acts_mod
from compendium.corpus import posts_frame
from compendium.coding import ANONYMOUS, natural_key, sort_naturally

INTERACTION_COLUMNS = ["source", "target", "post_id", "parent_post_id", "thread_id", "depth", "self_reply", "act"]
METRIC_COLUMNS = [
    "member",
    "posts",
    "questions",
    "answers",
    "thanks",
    "in_degree",
    "out_degree",
    "weighted_in",
    "weighted_out",
    "weighted_degree",
    "betweenness",
    "role",
]


def is_anonymous(author) -> bool:
    return str(author if author is not None else "").strip().lower() in ANONYMOUS


def _acts(posts: pd.DataFrame, acts: pd.DataFrame | None) -> dict[str, str]:
    table = acts_mod.classify(posts) if acts is None else acts
    return dict(zip(table["post_id"].astype(str), table["act"].astype(str)))


def interactions(posts: pd.DataFrame, acts: pd.DataFrame | None = None) -> pd.DataFrame:
    """interactions.csv: one row per reply with a known, non-anonymous replier and parent author, with its act
    (``acts``: ``post_id, act``, from :func:`compendium.acts.classify`, which runs here when not given).

    ``source`` = the replier's pseudonym, ``target`` = the parent post's author.
    """
    p = posts_frame(posts)
    act_of = _acts(p, acts)
    author_of = dict(zip(p["post_id"], p["author"]))
    rows = []
    for rec in p.itertuples(index=False):
        if rec.depth <= 0 or not rec.parent_post_id:
            continue
        target = author_of.get(rec.parent_post_id)
        if target is None or is_anonymous(rec.author) or is_anonymous(target):
            continue
        rows.append(
            {
                "source": rec.author,
                "target": target,
                "post_id": rec.post_id,
                "parent_post_id": rec.parent_post_id,
                "thread_id": rec.thread_id,
                "depth": rec.depth,
                "self_reply": rec.author == target,
                "act": act_of.get(rec.post_id, ""),
            }
        )
    out = pd.DataFrame(rows, columns=INTERACTION_COLUMNS)
    return sort_naturally(out, ["post_id"])


def answer_ties(interactions_df: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``interactions`` that are ties of the information-flow network: answer-type acts, not to
    oneself. A table without an ``act`` column (written before acts existed) counts every reply."""
    it = interactions_df
    keep = it["source"].astype(str) != it["target"].astype(str)
    if "self_reply" in it.columns:
        keep &= ~_flag(it["self_reply"])
    if "act" in it.columns:
        keep &= it["act"].astype(str).str.strip().str.lower().isin(acts_mod.ANSWER_ACTS)
    return it.loc[keep]


def _flag(series: pd.Series) -> pd.Series:
    """Booleans, also when read back from CSV as text."""
    return series.map(lambda v: str(v).strip().lower() in ("true", "1")).astype(bool)


def graph(interactions_df: pd.DataFrame, members=()) -> nx.DiGraph:
    """Directed answer graph (:func:`answer_ties`); edge weight = number of answers on the tie."""
    g = nx.DiGraph()
    g.add_nodes_from(sorted(set(members), key=natural_key))
    edges = answer_ties(interactions_df)
    counts = edges.groupby(["source", "target"]).size()
    for (s, t), w in sorted(counts.items(), key=lambda kv: (natural_key(kv[0][0]), natural_key(kv[0][1]))):
        g.add_edge(s, t, weight=int(w))
    return g


def metrics(interactions_df: pd.DataFrame, posts: pd.DataFrame, acts: pd.DataFrame | None = None) -> pd.DataFrame:
    """network_metrics.csv: per member (non-anonymous author) activity, degree and role.

    ``questions`` counts the member's posts whose act is ``question``; ``answers`` their answer-type replies
    (also to anonymous askers, never to themselves); ``thanks`` their thanks and acknowledgements.
    ``in_degree`` / ``out_degree`` count distinct members answered-by / answered on the answer graph;
    ``weighted_in`` / ``weighted_out`` answers received / given to named members; ``betweenness`` is
    normalised betweenness centrality on the unweighted directed answer graph.
    """
    p = posts_frame(posts)
    act_of = _acts(p, acts)
    p["act"] = p["post_id"].map(act_of).fillna("")
    author_of = dict(zip(p["post_id"], p["author"]))
    p = p[~p["author"].map(is_anonymous)]
    members = sorted(
        set(p["author"]) | set(interactions_df["source"]) | set(interactions_df["target"]), key=natural_key
    )
    g = graph(interactions_df, members)
    between = nx.betweenness_centrality(g, normalized=True) if len(g) else {}
    n_posts = p.groupby("author").size()
    n_questions = p[p["act"] == "question"].groupby("author").size()
    # an answer to oneself is none; an answer whose parent was not captured, or is anonymous, still counts
    answered = p[
        (p["depth"] > 0)
        & p["act"].isin(acts_mod.ANSWER_ACTS)
        & (p["parent_post_id"].map(author_of).fillna("") != p["author"])
    ]
    n_answers = answered.groupby("author").size()
    n_thanks = p[(p["depth"] > 0) & (p["act"] == "thanks")].groupby("author").size()
    rows = []
    for m in members:
        q = int(n_questions.get(m, 0))
        a = int(n_answers.get(m, 0))
        role = "both" if q and a else "asker" if q else "answerer" if a else "other"
        w_in = int(g.in_degree(m, weight="weight"))
        w_out = int(g.out_degree(m, weight="weight"))
        rows.append(
            {
                "member": m,
                "posts": int(n_posts.get(m, 0)),
                "questions": q,
                "answers": a,
                "thanks": int(n_thanks.get(m, 0)),
                "in_degree": int(g.in_degree(m)),
                "out_degree": int(g.out_degree(m)),
                "weighted_in": w_in,
                "weighted_out": w_out,
                "weighted_degree": w_in + w_out,
                "betweenness": float(between.get(m, 0.0)),
                "role": role,
            }
        )
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def summary(interactions_df: pd.DataFrame, metrics_df: pd.DataFrame) -> pd.DataFrame:
    """Graph-level summary as a one-row table, one column per measure.

    Measures: members, ties (distinct directed answer pairs), answers (answer-type interactions without
    self-replies), density, reciprocity (share of ties that are returned), askers, answerers,
    both (members who asked and answered), share_both = both / members who asked or answered
    (the "fluid roles" finding), share_answerers_who_ask = both / answerers.
    """
    g = graph(interactions_df, metrics_df["member"])
    roles = metrics_df["role"].value_counts()
    both = int(roles.get("both", 0))
    askers = both + int(roles.get("asker", 0))
    answerers = both + int(roles.get("answerer", 0))
    active = int(roles.get("both", 0) + roles.get("asker", 0) + roles.get("answerer", 0))
    values = {
        "members": len(g),
        "ties": g.number_of_edges(),
        "answers": int(len(answer_ties(interactions_df))),
        "density": nx.density(g) if len(g) > 1 else np.nan,
        "reciprocity": nx.reciprocity(g) if g.number_of_edges() else np.nan,
        "askers": askers,
        "answerers": answerers,
        "both": both,
        "share_both": both / active if active else np.nan,
        "share_answerers_who_ask": both / answerers if answerers else np.nan,
    }
    return pd.DataFrame([values])
