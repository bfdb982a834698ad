"""Reply acts (compendium.acts): each rule on posts it was written for and on posts it must leave alone, and the
measurement of the classifier against hand labels (checked against scikit-learn)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score

from compendium import acts, screenshots
from compendium.errors import InputError


def thread(*posts, tid="T1"):
    """posts: (index, depth, parent index or None, author, text)."""
    return pd.DataFrame(
        [
            {
                "post_id": f"S#{i}",
                "thread_id": tid,
                "depth": d,
                "parent_post_id": "" if p is None else f"S#{p}",
                "author": a,
                "text": t,
            }
            for i, d, p, a, t in posts
        ]
    )


def act_of(df):
    return dict(zip(acts.classify(df)["post_id"], acts.classify(df)["act"]))


def test_a_question_thread_answer_thanks_and_follow_up():
    df = thread(
        (1, 0, None, "P01", "What is the anion gap? I still don't get it"),
        (2, 1, 1, "P02", "This is Na minus chloride and bicarbonate, normal roughly 8 to 12"),
        (3, 2, 2, "P01", "Omg thank you, finally makes sense"),
        (4, 2, 2, "P01", "Wait so why does a high gap mean an extra acid in the blood?"),
        (5, 1, 1, "P03", "Adding to that: ketones, lactate and toxins are the usual extra acids here"),
    )
    assert act_of(df) == {"S#1": "question", "S#2": "answer", "S#3": "thanks", "S#4": "question", "S#5": "elaboration"}


def test_the_askers_thanks_is_never_an_answer_whatever_its_length():
    df = thread(
        (1, 0, None, "P01", "What is the Bohr effect?"),
        (2, 1, 1, "P02", "This is a right shift of the curve with CO2 and acid, more unloading"),
        (3, 1, 1, "P01", "Thank you so much everyone, this was really helpful and I feel much calmer now"),
    )
    assert act_of(df)["S#3"] == "thanks"


def test_a_tag_question_does_not_make_an_answer_a_question():
    assert acts._question_sentences("It is chloride responsive, so give saline. Right?") == []
    assert acts._question_sentences("Why does vomiting make the kidney keep bicarbonate?")
    df = thread(
        (1, 0, None, "P01", "What is this ABG?"),
        (2, 1, 1, "P02", "This is a metabolic alkalosis with respiratory compensation, right?"),
    )
    assert act_of(df)["S#2"] == "answer"


def test_a_correction_is_an_elaboration():
    df = thread(
        (1, 0, None, "P01", "What is the commonest organism in pneumonia?"),
        (2, 1, 1, "P02", "This is Haemophilus influenzae"),
        (3, 2, 2, "P03", "Hmm I think overall it's Streptococcus pneumoniae, so you're half right"),
    )
    assert acts.classify(df).set_index("post_id").loc["S#3"].tolist() == ["elaboration", "correction"]


@pytest.mark.parametrize(
    "root",
    [
        "Poll: which topic is hardest? (a) ECG (b) acid-base",
        "[Pinned] House rules for 2023. Questions welcome?",
        "What is with people replying 'google it'?",
    ],
)
def test_polls_announcements_and_rhetoric_are_not_questions_and_their_replies_not_answers(root):
    df = thread(
        (1, 0, None, "P01", root), (2, 1, 1, "P02", "Acid-base for sure, I can follow the steps but not why they work")
    )
    assert act_of(df) == {"S#1": "other", "S#2": "other"}


def test_an_invitation_is_answered_though_it_asks_nothing():
    df = thread(
        (1, 0, None, "P01", "Finals survival thread. Drop your best high-yield tips here"),
        (2, 1, 1, "P02", "Know your emergencies cold: anaphylaxis, hyperkalaemia and DKA first"),
    )
    assert act_of(df) == {"S#1": "other", "S#2": "answer"}


def test_a_social_reply_to_a_question_is_other():
    df = thread(
        (1, 0, None, "P01", "What is the minimum for the pharmacology CA? Feeling behind"),
        (2, 1, 1, "P02", "You're not behind, everyone feels like that in May lol"),
    )
    assert act_of(df)["S#2"] == "other"


def test_case_and_order_of_the_table_do_not_change_the_acts():
    df = thread(
        (1, 0, None, "P01", "WHAT IS THE BOHR EFFECT?"),
        (2, 1, 1, "P02", "THIS IS A RIGHT SHIFT OF THE CURVE WITH CO2 AND ACID"),
        (3, 2, 2, "P01", "THANKS!"),
    )
    assert act_of(df) == {"S#1": "question", "S#2": "answer", "S#3": "thanks"}
    assert acts.classify(df.iloc[:0]).empty and list(acts.classify(df.iloc[:0]).columns) == acts.ACT_COLUMNS


def test_evaluate_equals_scikit_learn():
    labelled = ["answer", "answer", "thanks", "question", "other", "elaboration", "thanks", "answer"]
    predicted = ["answer", "thanks", "thanks", "question", "answer", "elaboration", "other", "answer"]
    idx = [f"p{i}" for i in range(len(labelled))]
    scores, confusion = acts.evaluate(pd.Series(predicted, idx), pd.Series(labelled, idx))
    s = scores.set_index("act")
    present = [a for a in acts.ACTS if a in labelled or a in predicted]
    for a in present:
        assert s.loc[a, "precision"] == pytest.approx(
            precision_score(labelled, predicted, labels=[a], average="macro", zero_division=0)
        )
        assert s.loc[a, "recall"] == pytest.approx(
            recall_score(labelled, predicted, labels=[a], average="macro", zero_division=0)
        )
    assert s.loc["macro", "f1"] == pytest.approx(f1_score(labelled, predicted, labels=present, average="macro"))
    expected = confusion_matrix(labelled, predicted, labels=list(acts.ACTS))
    assert confusion.set_index("labelled").to_numpy().tolist() == expected.tolist()


def test_quality_without_labels_says_not_measured():
    df = thread((1, 0, None, "P01", "What is it?"))
    scores, confusion = acts.quality(acts.classify(df), pd.DataFrame(columns=["post_id", "act"]))
    assert scores.empty and confusion.empty and math.isnan(acts.macro_f1(scores))


def test_audit_lists_exactly_the_posts_the_rules_get_wrong():
    df = thread(
        (1, 0, None, "P01", "What is the Bohr effect?"),
        (2, 1, 1, "P02", "This is a right shift of the curve with CO2 and acid"),
    )
    labels = pd.Series({"S#1": "question", "S#2": "elaboration"})
    audit = acts.audit(df, acts.classify(df), labels)
    assert audit[["post_id", "labelled", "predicted"]].values.tolist() == [["S#2", "elaboration", "answer"]]


def test_act_labels_from_the_transcription():
    t = pd.DataFrame(
        {"screenshot_id": ["IMG_2", "IMG_2", "IMG_1"], "post_index": [2, 1, 1], "act": ["Answer", "", "question"]}
    )
    out = screenshots.act_labels(t)
    assert out.values.tolist() == [["IMG_1#1", "question"], ["IMG_2#2", "answer"]]
    assert screenshots.act_labels(t.drop(columns="act")).empty
    with pytest.raises(InputError, match=r"unknown act 'teaching'") as e:
        screenshots.act_labels(t.assign(act=["answer", "teaching", ""]), "transcribed.csv")
    assert e.value.line == 3  # the CSV row of the bad value (header is line 1)


def _literals(pattern_token):
    for key in ("LOWER", "LEMMA"):
        v = pattern_token.get(key)
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            yield from v.get("IN", [])


def test_every_pattern_word_is_one_token_of_the_pipeline():
    """A Matcher pattern written as the writer sees a word ("i'll", "you're") and not as the tokenizer splits it
    ("i", "'ll") can never match: such dead patterns went unnoticed before this test."""
    from compendium.segments import make_nlp

    nlp = make_nlp()
    dead = [
        (label, word)
        for label, patterns in acts.PATTERNS.items()
        for pattern in patterns
        for tok in pattern
        for word in _literals(tok)
        if len(nlp.make_doc(word)) != 1
    ]
    assert dead == []


@pytest.mark.parametrize(
    "text, interrogative",
    [
        ("Why does the kidney keep bicarbonate?", True),
        ("Paiseh, quick question: can we post anonymously?", True),
        ("M34 can you help set it up?", True),
        ("So 13?", False),
        ("I think it's 12 because localising is M4?", False),
        ("Sorry senior, I think right shift means lower affinity?", False),
    ],
)
def test_interrogative_form(text, interrogative):
    assert acts.is_interrogative(text) is interrogative


def test_a_hedged_answer_said_as_a_question_is_an_answer_but_a_real_follow_up_stays_a_question():
    df = thread(
        (1, 0, None, "P01", "What is the GCS if a patient localises to pain, opens eyes to voice and is confused?"),
        (2, 1, 1, "P02", "This is E3 V4 M5, so 13? Not very sure"),
        (3, 1, 1, "P03", "I think it's 12 because localising is M4? Not sure"),
        (4, 2, 2, "P04", "Why is confused V4 and not V3?"),
        (5, 2, 2, "P01", "So the eyes count even if they close again?"),
    )
    got = act_of(df)
    assert [got[f"S#{i}"] for i in range(1, 6)] == ["question", "answer", "answer", "question", "question"]


def test_this_is_marks_an_answer_only_where_it_opens_a_sentence():
    df = thread(
        (1, 0, None, "P01", "What is the drug? Causes gum hypertrophy, used for seizures"),
        (2, 1, 1, "P02", "Honestly this is way better than reading the slides"),
        (3, 1, 1, "P03", "Good one. This is phenytoin"),
    )
    assert act_of(df)["S#3"] == "answer"
    nlp, matcher = acts._nlp()
    assert "ANSWER" not in acts._labels(nlp("honestly this is way better than reading the slides"), matcher)
    assert "ANSWER" in acts._labels(nlp("good one. this is phenytoin"), matcher)


def test_an_added_point_opening_with_and_or_closing_with_too_is_an_elaboration():
    df = thread(
        (1, 0, None, "P01", "What is the commonest organism in community-acquired pneumonia?"),
        (2, 1, 1, "P02", "This is Streptococcus pneumoniae, by far"),
        (3, 1, 1, "P03", "Atypicals are worth knowing for the exam too: Mycoplasma, Legionella"),
        (4, 1, 1, "P04", "And in smokers with COPD think of Haemophilus influenzae"),
    )
    got = act_of(df)
    assert (got["S#3"], got["S#4"]) == ("elaboration", "elaboration")
