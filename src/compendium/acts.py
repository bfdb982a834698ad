"""Reply acts: what each reply in a thread does (answers, elaborates or corrects, asks, thanks, or other).

Counting every reply as an answer makes the study's finding (that members both ask and answer) follow from the
definition: a thread's asker replying "thank you both" would become an answerer. So before the information-flow
network is drawn each post gets an *act*, from a documented, deterministic rule set: spaCy ``Matcher`` patterns
over the lemmas of the post's text (the default blank English pipeline with lookup lemmas,
:func:`compendium.segments.make_nlp`: nothing is downloaded), the post's place in its thread, and who replies to
whom. No model is trained; nothing is learned from the data. The rules are a *measuring instrument*, and like any
instrument they are checked against a labelled truth (:func:`evaluate`) and their misses listed for a human to
read (:func:`audit`), never trusted on their own.

Acts (:data:`ACTS`):

``answer``
    gives knowledge in response to a question (the thread's opening question or a follow-up question);
``elaboration``
    adds to, refines or corrects knowledge already given in the thread ("adding to that", "small correction");
``question``
    a follow-up question: the reply mainly asks something;
``thanks``
    thanks or acknowledgement without new knowledge;
``other``
    anything else (jokes, encouragement, moderation, remarks about the group).

A thread's opening post (depth 0) gets ``question`` when it asks something and ``other`` otherwise.
*Answer-type* acts (:data:`ANSWER_ACTS`: ``answer`` and ``elaboration``) are the ties of the information-flow
network (:mod:`compendium.flow`).

The rules, in the order they are tried (the first that fires decides; ``rule`` in the output names it):

1. ``root-question`` / ``root-other``: an opening post is a question when a sentence of it ends with ``?`` or it
   opens with "What is" (the community's convention), else other.
2. ``thanks-only``: gratitude or appreciation lemmas (thank, appreciate, helpful, "saving this" ...) and no
   sentence asking a question and no knowledge marker.
3. ``follow-up``: a sentence of four or more words that ends with ``?`` and is not a tag question ("..., right?",
   "the one from the compilation right?"). A reply whose questions are all declarative (no question word or
   auxiliary opens them: "so 13?") and that hedges ("not sure", "I think") or opens as an answer offers an answer
   with a rising tone; it is not a follow-up (:func:`offers_an_answer`).
4. ``correction`` / ``elaboration-marker``: a correction ("you're right", "half right", "one fix", "it should be") or
   an adding marker ("also", "to add", "one more", "add-on", a sentence opening with "And" or closing with "too")
   in a reply that gives content.
5. ``build-on-answer``: a content-bearing reply (six or more words) to an answer by someone other than the
   thread's asker.
6. ``answer-to-question``: a content-bearing reply to a question (the opening question, or a follow-up) by someone
   other than the person asking, or an answer marker (a sentence opening "This is ...", a ``[File]``).
7. ``social``: everything else is other.

The thresholds and word lists are in this module, as data, so a student can read and change them.
"""

from __future__ import annotations

import re

import pandas as pd

from .corpus import posts_frame

ACTS = ("answer", "elaboration", "question", "thanks", "other")
ANSWER_ACTS = frozenset({"answer", "elaboration"})
ACT_COLUMNS = ["post_id", "act", "rule"]

CONTENT_WORDS = 6  # a reply of fewer words gives no knowledge (unless an answer marker says otherwise)
QUESTION_WORDS = 4  # shorter "?" sentences ("Right?", "No?") are tag questions
TAG_QUESTIONS = frozenset({"right", "no", "yes", "correct", "ok", "okay", "isn't it", "is it", "or not", "rite"})

# Lemma patterns (spaCy Matcher). Each entry: label -> list of patterns.
PATTERNS: dict[str, list[list[dict]]] = {
    "THANKS": [
        [{"LEMMA": {"IN": ["thank", "thanks", "thx", "tysm", "ty", "appreciate", "grateful"]}}],
        [{"LOWER": {"IN": ["helpful", "gold", "lifesaver", "amazing", "legend"]}}],
        [{"LEMMA": "save"}, {"LOWER": {"IN": ["this", "it"]}}],
        [{"LOWER": "makes"}, {"LOWER": "sense"}],
        [{"LOWER": "love"}, {"LOWER": {"IN": ["this", "it", "that"]}}],
        [{"LOWER": {"IN": ["great", "good", "nice"]}}, {"LOWER": {"IN": ["answer", "explanation", "thread", "one"]}}],
        [{"LOWER": "so"}, {"LOWER": {"IN": ["simple", "helpful", "useful", "clear"]}}],
    ],
    "CORRECTION": [
        [{"LOWER": "you"}, {"LOWER": {"IN": ["'re", "’re", "are"]}}, {"LOWER": "right"}],
        [{"LOWER": "half"}, {"LOWER": "right"}],
        [{"LOWER": "one"}, {"LOWER": {"IN": ["fix", "correction"]}}],
        [{"LEMMA": {"IN": ["correction", "typo", "mistake"]}}],
        [{"LOWER": {"IN": ["it", "that", "this", "answer"]}}, {"LOWER": "should"}, {"LOWER": "be"}],
        [{"LOWER": "not"}, {"LOWER": {"IN": ["quite", "exactly"]}}],
        [{"LOWER": "my"}, {"LOWER": "bad"}],
        [{"LOWER": "get"}, {"LOWER": "wrong"}],
        [{"LOWER": "people"}, {"LOWER": "get"}],
        [{"LEMMA": {"IN": ["miss", "misses"]}}],
        [{"LOWER": "small"}, {"LOWER": "one"}],
        [{"LOWER": "says"}, {"OP": "*"}, {"LOWER": "but"}],
    ],
    "ADDING": [
        [{"LOWER": {"IN": ["also", "additionally", "plus"]}}],
        [{"LEMMA": "add"}],
        [{"LOWER": "addon"}],
        [{"LOWER": "one"}, {"LOWER": {"IN": ["more", "thing"]}}],
        [{"LOWER": "small"}, {"LOWER": {"IN": ["one", "point", "thing"]}}],
        [{"LOWER": "and"}, {"LOWER": "for"}, {"LOWER": "the"}],
        [{"LOWER": "for"}, {"LOWER": "the"}, {"LOWER": {"IN": ["exam", "exams", "juniors"]}}],
    ],
    "SOCIAL": [
        [{"LOWER": {"IN": ["lol", "haha", "hahaha", "lah", "jiayou", "welcome", "wah", "omg", "interesting"]}}],
        [{"LOWER": "not"}, {"LOWER": "alone"}],
        [{"LOWER": "you"}, {"LOWER": {"IN": ["are", "'re", "’re"]}, "OP": "?"}, {"LOWER": "not"}],
        [{"LOWER": "count"}, {"LOWER": "me"}, {"LOWER": "in"}],
        [{"LEMMA": "will"}, {"LOWER": {"IN": ["start", "post", "do"]}}],
        [{"LOWER": "same"}, {"LOWER": {"IN": ["for", "here"]}}],
        [{"LOWER": "well"}, {"LOWER": "done"}],
        [{"LOWER": {"IN": ["lurking", "lurker", "lurked"]}}],
        [{"LOWER": "this"}, {"LOWER": {"IN": ["thread", "poll", "group"]}}],
        [{"LOWER": "love"}, {"LOWER": "to"}, {"LOWER": "see"}],
        [{"LOWER": "the"}, {"LOWER": {"IN": ["replies", "comments"]}}],
        [{"LOWER": "reading"}, {"LOWER": {"IN": ["this", "these"]}}],
    ],
    "ACK": [
        [{"LOWER": {"IN": ["agreed", "agree", "noted", "fair", "perfect", "exactly", "true"]}}],
        [{"LOWER": "makes"}, {"LOWER": "sense"}],
        [{"LOWER": "so"}, {"LOWER": "that"}, {"LOWER": {"IN": ["'s", "is", "’s"]}}, {"LOWER": "why"}],
    ],
    "ANSWER": [
        [{"LOWER": "[", "OP": "?"}, {"LOWER": "file"}, {"LOWER": "]"}],
        [{"LOWER": "here"}, {"LOWER": "it"}, {"LOWER": "is"}],
        [{"LOWER": "because"}],
        [{"LOWER": {"IN": ["mnemonic", "table", "format", "approach", "tip"]}}],
    ],
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Opening posts that are not requests for knowledge although they end with '?' or open with "What is": polls,
# announcements, pinned compilations, and rhetorical idioms.
NOT_A_QUESTION = re.compile(
    r"^\s*(\[pinned\]|\[file\]|poll\b(?!\s+to\s+settle)|reminder\b|can we agree\b|"
    r"what is with\b|what is this feeling\b)",
    re.I,
)
# An opening post that is not a question may still invite knowledge ("Drop your best tips here"): content replies
# to it are answers.
INVITES = re.compile(r"\b(drop|share|post|add|leave)\s+(your|any|some)\b|\btips?\s+(here|below|pls|please)\b", re.I)


def _nlp():
    from spacy.matcher import Matcher

    from .segments import make_nlp

    nlp = make_nlp()
    matcher = Matcher(nlp.vocab)
    for label, patterns in PATTERNS.items():
        matcher.add(label, patterns)
    return nlp, matcher


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


# A question in interrogative form opens (after a vocative, an interjection or a lead-in such as "quick
# question:") with a question word or an auxiliary verb. "So 13?" or "I think it's M4?" is declarative: said with
# a rising tone, it offers an answer and asks only whether it is right.
QUESTION_OPENERS = frozenset(
    "what why how when where who whom whose which is are am was were do does did can could should would will shall "
    "may might must has have had isn't aren't wasn't weren't don't doesn't didn't can't couldn't shouldn't "
    "wouldn't won't anyone any got izzit".split()
)
LEAD_INS = frozenset("so but and also then ok okay oh ah hi hey sorry paiseh pls please wait um erm".split())
HEDGES = re.compile(r"\b(not (very |too |100% )?sure|i think|i guess|i believe|maybe|probably|correct me)\b", re.I)


def _clause_opens_a_question(clause: str) -> bool:
    words = [w for w in re.findall(r"[\w'’@]+", clause.lower())]
    while words and (words[0] in LEAD_INS or re.fullmatch(r"@?[mp]\d+", words[0])):
        words = words[1:]
    return bool(words) and words[0].replace("’", "'") in QUESTION_OPENERS


def is_interrogative(sentence: str) -> bool:
    """A sentence in interrogative form: one of its clauses (split at commas, colons, semicolons and dashes) opens
    with a question word or an auxiliary, after any vocative or lead-in (:data:`QUESTION_OPENERS`)."""
    return any(_clause_opens_a_question(c) for c in re.split(r"[,:;–—-]|\.\.\.", sentence))


def _question_sentences(text: str) -> list[str]:
    """Sentences ending in '?' that are real questions (not tag questions such as "..., right?")."""
    out = []
    for s in _SENTENCE_END.split(" ".join(str(text).split())):
        s = s.strip()
        if not s.endswith("?"):
            continue
        tail = re.sub(r"[^\w' ]", "", s.rsplit(",", 1)[-1]).strip().lower()
        last = (re.findall(r"[\w']+", s.lower()) or [""])[-1]
        if _words(s) < QUESTION_WORDS or tail in TAG_QUESTIONS:
            continue
        if last in TAG_QUESTIONS and not is_interrogative(s):
            continue  # "This is the one from the compilation right?"
        out.append(s)
    return out


def offers_an_answer(text: str) -> bool:
    """A reply whose questions are all declarative ("This is E3 V4 M5, so 13? Not very sure") and that hedges or
    opens as an answer: a tentative answer, not a follow-up question."""
    qs = _question_sentences(text)
    if not qs or any(is_interrogative(q) for q in qs):
        return False
    return bool(HEDGES.search(str(text)) or ANSWER_OPENING.search(str(text)))


def is_question_text(text: str) -> bool:
    """An opening post asks something: a sentence ends with '?' or it opens with "What is", and it is not a
    poll, an announcement or a rhetorical idiom (:data:`NOT_A_QUESTION`)."""
    t = " ".join(str(text).split())
    if NOT_A_QUESTION.match(t):
        return False
    return "?" in t or t.lower().startswith("what is")


# The community's answer convention: a sentence that *opens* with "This is ..." answers a "What is ...?" ("this
# is scary and useful" inside a sentence is a remark, not an answer).
ANSWER_OPENING = re.compile(r"(?:^|[.!?:]\s)\W*(this is|here it is)\b", re.I)


# Adding markers the Matcher cannot place: a sentence that opens with "And" or closes with "too" / "as well"
# ("Atypicals are worth knowing too").
ADDING_PLACED = re.compile(r"(?:^|[.!?:]\s)\W*and\b|\b(?:too|as well)\s*(?:$|[.!?;,]\s*(?:$|[^\w\s]*\s))", re.I)


def _labels(doc, matcher) -> set[str]:
    found = {doc.vocab.strings[m_id] for m_id, _, _ in matcher(doc)}
    if ANSWER_OPENING.search(doc.text):
        found.add("ANSWER")
    if ADDING_PLACED.search(doc.text):
        found.add("ADDING")
    return found


def decide(
    text: str,
    depth: int,
    labels: set[str],
    replier_is_asker: bool,
    parent_act: str | None,
    parent_author_is_replier: bool = False,
    root_act: str | None = None,
    answered_before: bool = False,
    feedback_on_own: bool = False,
    root_invites: bool = False,
) -> tuple[str, str]:
    """The act of one post and the rule that decided it (module docstring), from its text's matched labels and
    its place in the thread: who asked, the act of the post replied to and of the thread's opening post, whether
    an answer was given earlier in the thread, and whether the post replied to was feedback on the replier's own
    post. Pure: the Matcher has already run."""
    if depth <= 0:
        return ("question", "root-question") if is_question_text(text) else ("other", "root-other")
    n = _words(text)
    asks = bool(_question_sentences(text))
    if asks and offers_an_answer(text) and not parent_author_is_replier:
        asks = False  # a tentative answer (or correction) said with a rising tone
    knowledge = bool(labels & {"CORRECTION", "ADDING", "ANSWER"})
    grateful = bool(labels & {"THANKS", "ACK"})
    if grateful and not asks and (not knowledge or feedback_on_own):
        return "thanks", "thanks-only"
    if asks:
        return "question", "follow-up"
    if n >= CONTENT_WORDS and "CORRECTION" in labels:
        return "elaboration", "correction"
    if root_act != "question" and parent_act != "question" and not root_invites:
        return ("thanks", "thanks-only") if grateful else ("other", "social")
    if root_invites and parent_act not in ANSWER_ACTS and depth == 1:
        parent_act = "question"  # a reply to an invitation answers it
    if n >= CONTENT_WORDS and "ADDING" in labels and (answered_before or parent_act in ANSWER_ACTS):
        return "elaboration", "elaboration-marker"
    if "SOCIAL" in labels and "ANSWER" not in labels:
        return "other", "social"
    if parent_act in ANSWER_ACTS and n >= CONTENT_WORDS and not replier_is_asker:
        return "elaboration", "build-on-answer"
    if parent_act == "question" and not parent_author_is_replier and (n >= CONTENT_WORDS or "ANSWER" in labels):
        return "answer", "answer-to-question"
    if grateful:
        return "thanks", "thanks-only"
    return "other", "social"


def classify(posts: pd.DataFrame) -> pd.DataFrame:
    """``post_id, act, rule`` for every post of ``posts`` (``post_id, thread_id, depth, parent_post_id, author,
    text``), in the order given. Posts are decided in reading order within a thread, so a reply knows the act of
    the post it replies to."""
    if posts.empty:
        return pd.DataFrame(columns=ACT_COLUMNS)
    p = posts_frame(posts)
    nlp, matcher = _nlp()
    docs = list(nlp.pipe([t.lower() for t in p["text"]]))  # the lookup lemmas are of lower-case words
    author_of = dict(zip(p["post_id"], p["author"]))
    asker_of = {r.thread_id: r.author for r in p.itertuples() if r.depth == 0 and r.thread_id}
    parent_of = dict(zip(p["post_id"], p["parent_post_id"]))
    root_of = {r.thread_id: r.post_id for r in p.itertuples() if r.depth == 0 and r.thread_id}
    root_text = {r.thread_id: r.text for r in p.itertuples() if r.depth == 0 and r.thread_id}
    act_of: dict[str, str] = {}
    answered: set[str] = set()  # threads with an answer-type reply so far
    rows = []
    for rec, doc in zip(p.itertuples(index=False), docs):
        parent_author = author_of.get(rec.parent_post_id)
        grandparent_author = author_of.get(parent_of.get(rec.parent_post_id, ""))
        act, rule = decide(
            rec.text,
            rec.depth,
            _labels(doc, matcher),
            replier_is_asker=bool(rec.author) and asker_of.get(rec.thread_id) == rec.author,
            parent_act=act_of.get(rec.parent_post_id),
            parent_author_is_replier=parent_author is not None and parent_author == rec.author,
            root_act=act_of.get(root_of.get(rec.thread_id, "")),
            answered_before=rec.thread_id in answered,
            feedback_on_own=bool(rec.author) and grandparent_author == rec.author,
            root_invites=bool(INVITES.search(root_text.get(rec.thread_id, ""))),
        )
        act_of[rec.post_id] = act
        if act in ANSWER_ACTS:
            answered.add(rec.thread_id)
        rows.append({"post_id": rec.post_id, "act": act, "rule": rule})
    return pd.DataFrame(rows, columns=ACT_COLUMNS)


def evaluate(predicted: pd.Series, labelled: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-act precision, recall, F1 and support, with a ``macro`` row (unweighted mean over the acts that occur
    in the labels or the predictions), and the confusion table (rows: labelled act, columns: predicted act).
    Both series are aligned on their index (a post id); posts without a label are left out."""
    both = pd.DataFrame({"predicted": predicted, "labelled": labelled}).dropna()
    both = both[both["labelled"].astype(str).str.len() > 0]
    acts = [a for a in ACTS if a in set(both["labelled"]) | set(both["predicted"])]
    confusion = pd.DataFrame(0, index=pd.Index(list(ACTS), name="labelled"), columns=list(ACTS))
    for (lab, pred), n in both.groupby(["labelled", "predicted"]).size().items():
        confusion.loc[lab, pred] = int(n)
    rows = []
    for a in ACTS:
        tp = int(confusion.loc[a, a])
        pred_n, lab_n = int(confusion[a].sum()), int(confusion.loc[a].sum())
        precision = tp / pred_n if pred_n else float("nan")
        recall = tp / lab_n if lab_n else float("nan")
        f1 = (
            2 * precision * recall / (precision + recall)
            if pred_n and lab_n and (precision + recall)
            else (0.0 if (pred_n or lab_n) else float("nan"))
        )
        rows.append(
            {"act": a, "precision": precision, "recall": recall, "f1": f1, "support": lab_n, "predicted": pred_n}
        )
    scores = pd.DataFrame(rows)
    scored = scores[scores["act"].isin(acts)]
    macro = {
        "act": "macro",
        "precision": scored["precision"].fillna(0).mean(),
        "recall": scored["recall"].fillna(0).mean(),
        "f1": scored["f1"].mean(),
        "support": int(scored["support"].sum()),
        "predicted": int(scored["predicted"].sum()),
    }
    scores = pd.concat([scores, pd.DataFrame([macro])], ignore_index=True)
    return scores, confusion.reset_index()


def audit(posts: pd.DataFrame, predicted: pd.DataFrame, labelled: pd.Series) -> pd.DataFrame:
    """The posts the rules get wrong: ``post_id, labelled, predicted, rule, text``, in reading order."""
    lab = labelled.rename("labelled")
    merged = predicted.set_index("post_id").join(lab, how="inner")
    merged = merged[merged["labelled"].astype(str).str.len() > 0]
    wrong = merged[merged["act"] != merged["labelled"]]
    text = posts.set_index(posts["post_id"].astype(str))["text"]
    out = pd.DataFrame(
        {
            "post_id": wrong.index,
            "labelled": wrong["labelled"].values,
            "predicted": wrong["act"].values,
            "rule": wrong["rule"].values,
            "text": [str(text.get(i, "")) for i in wrong.index],
        }
    )
    return out.reset_index(drop=True)


SCORE_COLUMNS = ["act", "precision", "recall", "f1", "support", "predicted"]


def quality(classified: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``act_quality.csv`` and ``act_confusion.csv``: :func:`evaluate` of the classified posts against the
    hand-assigned acts (``post_id, act``; ``act_labels.csv``). Empty tables, with their columns, when the study
    has no labels: the classifier is then *not measured*, and says so rather than guessing."""
    if labels is None or labels.empty:
        return (pd.DataFrame(columns=SCORE_COLUMNS), pd.DataFrame(columns=["labelled", *ACTS]))
    predicted = classified.set_index(classified["post_id"].astype(str))["act"]
    labelled = labels.set_index(labels["post_id"].astype(str))["act"]
    return evaluate(predicted, labelled)


HAND_RULE = "hand label"  # the ``rule`` of an act taken from a hand label (:func:`with_labels`)


def with_labels(classified: pd.DataFrame, labels: pd.DataFrame | None) -> pd.DataFrame:
    """``classified`` (``post_id, act, rule``) with each hand-labelled post's act replaced by its hand label
    (``rule`` :data:`HAND_RULE`); unlabelled posts keep the rules' act. What the analysis would read had the rules
    made no error on the labelled posts (the sensitivity of the flow evidence to the instrument, in
    :func:`compendium.flow.sensitivity`)."""
    out = classified.copy()
    if labels is None or labels.empty:
        return out
    lab = labels[labels["act"].astype(str).isin(ACTS)]
    hand = dict(zip(lab["post_id"].astype(str), lab["act"].astype(str)))
    ids = out["post_id"].astype(str)
    known = ids.isin(hand.keys())
    out.loc[known, "act"] = ids[known].map(hand)
    out.loc[known, "rule"] = HAND_RULE
    return out


def macro_f1(scores: pd.DataFrame) -> float:
    """The macro-averaged F1 of :func:`quality`'s scores (NaN when not measured)."""
    row = scores[scores["act"] == "macro"]
    return float(row["f1"].iloc[0]) if len(row) else float("nan")
