"""Layout: header/footer grammar, depth clustering at any width and step, threads across pages.

These tests build OCR-like line boxes directly (no OCR), so they are fast and exact.
"""

import pandas as pd
import pytest


from compendium import layout  # noqa: E402


@pytest.mark.parametrize(
    "line, author, handle, badge, time",
    [
        ("Lim Jia Hui · 2h", "Lim Jia Hui", "", "", "2h"),
        ("Lim Jia Hui @jiahui.lim · 3d", "Lim Jia Hui", "jiahui.lim", "", "3d"),
        ("Rachel Tan Admin · 12 Mar", "Rachel Tan", "", "Admin", "12 Mar"),
        ("Rachel Tan @rach.tan Admin) · 15 Feb", "Rachel Tan", "rach.tan", "Admin", "15 Feb"),
        ("Anonymous member·1l Mar", "Anonymous member", "", "", "11 Mar"),
        ("Ong WeiJie·9 Apr 2023, 16:33", "Ong WeiJie", "", "", "9 Apr 2023, 16:33"),
        ("Ong Wei Jie . 12Mar2023,21:14", "Ong Wei Jie", "", "", "12 Mar 2023, 21:14"),
        # Tesseract's readings of the small middle dot and of "1"
        ("Jonathan Leong «5 May 2023, 21:10", "Jonathan Leong", "", "", "5 May 2023, 21:10"),
        ("Lucas Tay @lucas.tay ‘24 Feb", "Lucas Tay", "lucas.tay", "", "24 Feb"),
        ("Marcus Teo Admin - id", "Marcus Teo", "", "Admin", "1d"),
    ],
)
def test_parse_header(line, author, handle, badge, time):
    h = layout.parse_header(line)
    assert (h["author"], h["handle"], h["badge"], h["timestamp"]) == (author, handle, badge, time)


@pytest.mark.parametrize(
    "line", ["Exam in 2 weeks and I am panicking.", "never mention.", "WITI · What is, this is", "8 to 12 mmol/L"]
)
def test_not_header(line):
    assert layout.parse_header(line) is None


@pytest.mark.parametrize(
    "line, author, handle, time",
    [
        ("Priyanka Raj @priyanka.raj 6 Feb 2023, 22:12", "Priyanka Raj", "priyanka.raj", "6 Feb 2023, 22:12"),
        ("Priyanka Raj 3d", "Priyanka Raj", "", "3d"),
        ("Priyanka Raj · 3d", "Priyanka Raj", "", "3d"),
        ("Priyanka Raj", "Priyanka Raj", "", ""),
    ],
)
def test_parse_header_lenient_where_a_header_must_be(line, author, handle, time):
    """Right after a footer a header must follow: a lost separator still splits name and time."""
    h = layout.parse_header_lenient(line)
    assert (h["author"], h["handle"], h["timestamp"]) == (author, handle, time)


@pytest.mark.parametrize(
    "line, reactions, replies",
    [
        ("♥ 14", 14, 0),
        ("♥ 14 · 3 replies", 14, 3),
        ("?38", 38, 0),
        ("51·lreply", 51, 1),
        ("33·3replies", 33, 3),
        ("25 · 1 reply", 25, 1),
        ("V 7", 7, 0),
    ],
)
def test_parse_footer(line, reactions, replies):
    assert layout.parse_footer(line) == {"reactions": reactions, "replies": replies}


@pytest.mark.parametrize("line", ["tested.", "never mention.", "Normal is about 8 to 12"])
def test_not_footer(line):
    assert layout.parse_footer(line) is None


def fake_page(posts, width=1080, margin=44, step=72, lh=48, title=True):
    """OCR-like boxes for posts given as (depth, name, body lines, reactions)."""
    rows, y = [], 20
    if title:
        rows.append({"text": "WITI · What is, this is", "x0": margin, "y0": y, "x1": 500, "y1": y + 36, "conf": 0.99})
        y += 90
    for depth, name, body, reactions in posts:
        x = margin + depth * step + 50
        rows.append({"text": f"{name} · 2h", "x0": x, "y0": y, "x1": x + 300, "y1": y + 36, "conf": 0.97})
        y += lh
        for line in body:
            rows.append({"text": line, "x0": x + 2, "y0": y, "x1": width - margin - 30, "y1": y + 36, "conf": 0.99})
            y += lh
        rows.append({"text": f"♥ {reactions}", "x0": x, "y0": y, "x1": x + 90, "y1": y + 36, "conf": 0.9})
        y += lh + 30
    return pd.DataFrame(rows)


POSTS = [
    (0, "Rachel Tan", ["What is the anion gap", "normal range?"], 3),
    (1, "Lim Jia Hui", ["This is 8 to 12."], 5),
    (2, "Rachel Tan", ["Thanks!"], 1),
    (1, "Daniel Koh", ["Careful, the lab", "uses another one."], 9),
    (0, "Priya Nair", ["Next question"], 0),
]


@pytest.mark.parametrize("width, step", [(750, 40), (1080, 72), (1300, 110), (900, 56)])
def test_parse_page_depths_any_width(width, step):
    posts = layout.parse_page(fake_page(POSTS, width=width, step=step), width)
    assert [p["depth"] for p in posts] == [0, 1, 2, 1, 0]
    assert [p["author"] for p in posts] == [p[1] for p in POSTS]
    assert posts[0]["text"] == "What is the anion gap normal range?"
    assert [p["reactions"] for p in posts] == [3, 5, 1, 9, 0]
    assert [p["post_index"] for p in posts] == [1, 2, 3, 4, 5]
    assert all(len(p["boxes"]) == 2 + len(src[2]) for p, src in zip(posts, POSTS))


def test_pinned_label_and_split_header_boxes():
    df = fake_page(POSTS[:2])
    extra = pd.DataFrame([{"text": "Pinned post", "x0": 94, "y0": 80, "x1": 280, "y1": 100, "conf": 0.99}])
    # header split into two OCR boxes on the same line
    i = df.index[df["text"] == "Lim Jia Hui · 2h"][0]
    row = df.loc[i].to_dict()
    df.loc[i, "text"], df.loc[i, "x1"] = "Lim Jia Hui", row["x0"] + 180
    df = pd.concat([df, pd.DataFrame([{**row, "text": "Admin · 2h", "x0": row["x0"] + 190}]), extra])
    posts = layout.parse_page(df, 1080)
    assert len(posts) == 2 and posts[1]["author"] == "Lim Jia Hui" and posts[1]["badge"] == "Admin"


def test_corpus_model_anchors_reply_only_pages():
    p1 = layout.parse_page(fake_page(POSTS), 1080)
    p2 = layout.parse_page(fake_page([(2, "A B", ["x y"], 1), (2, "C D", ["z"], 2)], title=False), 1080)
    p3 = layout.parse_page(fake_page([(1, "A B", ["x y"], 1), (2, "C D", ["z"], 2)], title=False), 1080)
    assert [p["depth"] for p in p2] == [0, 0]  # page alone cannot know
    model = layout.assign_depths([p1, p2, p3])
    assert model["step"] == pytest.approx(72 / 1080, abs=0.01)
    assert [p["depth"] for p in p2] == [2, 2]
    assert [p["depth"] for p in p3] == [1, 2]


def test_link_threads_across_pages():
    p1 = layout.parse_page(fake_page(POSTS[:3]), 1080)  # 0 1 2
    p2 = layout.parse_page(fake_page(POSTS[3:], title=False), 1080)  # 1 0
    p3 = layout.parse_page(fake_page([(2, "A B", ["x"], 1)], title=False), 1080)  # 2 after a 0: unknown
    layout.assign_depths([p1, p2, p3])
    stream, threads = layout.link_threads([("WITI-001", p1), ("WITI-002", p2), ("WITI-003", p3)])
    by_id = {p["post_id"]: p for p in stream}
    assert by_id["WITI-001#2"]["parent_post_id"] == "WITI-001#1"
    assert by_id["WITI-001#3"]["parent_post_id"] == "WITI-001#2"
    assert by_id["WITI-002#1"]["parent_post_id"] == "WITI-001#1"  # continues from the previous page
    assert by_id["WITI-002#1"]["thread_id"] == by_id["WITI-001#1"]["thread_id"]
    assert by_id["WITI-002#2"]["parent_post_id"] == ""
    assert by_id["WITI-003#1"]["parent_post_id"] == ""  # cannot be known
    assert by_id["WITI-003#1"]["thread_id"] != by_id["WITI-002#2"]["thread_id"]
    assert [t["n_posts"] for t in threads] == [4, 1, 1]
    assert threads[0]["screenshot_ids"] == "WITI-001;WITI-002"
    assert threads[2]["root_post_id"] == ""


@pytest.mark.parametrize(
    "read, fixed",
    [
        ("Thank you, | was wondering", "Thank you, I was wondering"),
        ("l'm in Yl and i think so", "I'm in Y1 and I think so"),
        ("the WiTl OsCE answer.One more", "the WITI OSCE answer. One more"),
    ],
)
def test_fix_text(read, fixed):
    assert layout.fix_text(read) == fixed


# --------------------------------------------------------------------------------------------------
# Issue 9: headers from several cues, chrome set aside, every line accounted for
# --------------------------------------------------------------------------------------------------


def _row(text, x0, y0, x1, h=36):
    return {"text": text, "x0": x0, "y0": y0, "x1": x1, "y1": y0 + h, "conf": 0.95}


def phone_page(
    posts=POSTS, sep=" · ", status=True, back_title="Marcus Teo's notes", nav=True, reply=True, width=1080, lh=48
):
    """A page as a phone captures it: status bar, back/title bar, posts (header separator ``sep``), a reply box
    under the last post and a bottom navigation bar with four labels under icons."""
    rows, y = [], 10
    if status:
        rows += [_row("21:14", 40, y, 130, 28), _row("87%", 950, y, 1040, 28)]
        y += 60
    if back_title:
        rows.append(_row(back_title, 110, y, 560))
        y += 90
    for depth, name, body, reactions in posts:
        x = 44 + depth * 72 + 50
        rows.append(_row(f"{name}{sep}2h", x, y, x + 300))
        y += lh
        for line in body:
            rows.append(_row(line, x + 2, y, width - 74))
            y += lh
        rows.append(_row(f"♥ {reactions}", x, y, x + 90))
        y += lh + 30
    if reply:
        rows.append(_row("Write a reply…", 90, y, 420))
        y += 100
    if nav:
        rows += [
            _row(t, x0, y, x0 + 8 * len(t) + 40, 26)
            for t, x0 in (("Home", 60), ("Groups", 320), ("Notifications", 560), ("Menu", 900))
        ]
    return pd.DataFrame(rows)


def _roles(lines):
    return [(ln["role"], ln["kind"]) for ln in lines]


def test_chrome_is_set_aside_and_listed():
    posts, lines = layout.read_page(phone_page(), 1080)
    assert [p["author"] for p in posts] == [p[1] for p in POSTS]
    assert [p["reactions"] for p in posts] == [3, 5, 1, 9, 0]
    roles = _roles(lines)
    assert roles[:2] == [("chrome", "status"), ("chrome", "title")]  # clock and battery: one line
    assert roles[-2:] == [("chrome", "reply"), ("chrome", "nav")]
    assert not [r for r in roles if r[0] == "unassigned"]
    assert {ln["post_index"] for ln in lines if ln["role"] in ("header", "body", "footer")} == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("sep", [" ", "  ", " · "])
def test_header_without_its_separator(sep):
    """A header's separator is one cue among several: where a header may start (top of the page, after a footer)
    a name-like run followed by a time is a header without it."""
    posts, lines = layout.read_page(phone_page(sep=sep), 1080)
    assert [p["author"] for p in posts] == [p[1] for p in POSTS]
    assert [p["timestamp"] for p in posts] == ["2h"] * 5
    assert posts[0]["text"] == "What is the anion gap normal range?"


def test_a_body_line_ending_in_a_time_is_not_a_header():
    page = [(0, "Rachel Tan", ["Exam is on", "Friday we meet 12 Mar"], 3), (1, "Lim Jia Hui", ["ok"], 1)]
    posts, _ = layout.read_page(phone_page(page, sep=" "), 1080)
    assert [p["author"] for p in posts] == ["Rachel Tan", "Lim Jia Hui"]
    assert posts[0]["text"] == "Exam is on Friday we meet 12 Mar"


def test_roster_cue_finds_a_header_after_a_lost_footer():
    """Without a footer between two posts, only a strict header (or a member's name) starts the next post."""
    df = phone_page(POSTS[:2], sep=" ")
    df = df[df["text"] != "♥ 3"]
    posts, _ = layout.read_page(df, 1080)
    assert len(posts) == 1
    members = {"Rachel Tan", "Lim Jia Hui"}
    posts, _ = layout.read_page(df, 1080, is_member=lambda a: a in members)
    assert [p["author"] for p in posts] == ["Rachel Tan", "Lim Jia Hui"]


def test_reply_box_and_nav_bar_are_never_posts():
    """The failure of issue 9: a reply box or navigation bar under the last post became a post by an unknown
    member. Here they are chrome, whatever their wording."""
    for reply in ("Write a reply…", "Write a comment...", "Reply to Marcus Teo…", "Add a comment"):
        df = phone_page(POSTS[:2])
        df.loc[df["text"] == "Write a reply…", "text"] = reply
        posts, lines = layout.read_page(df, 1080)
        assert len(posts) == 2, reply
        assert ("chrome", "reply") in _roles(lines), reply


def test_stray_text_is_unassigned_not_dropped():
    df = phone_page(POSTS[:2], nav=False, reply=False)
    footer_y = int(df.loc[df["text"] == "♥ 3", "y1"].iloc[0])
    df = pd.concat([df, pd.DataFrame([_row("something odd here", 100, footer_y + 8, 500, 20)])])
    posts, lines = layout.read_page(df, 1080)
    assert len(posts) == 2
    un = [ln for ln in lines if ln["role"] == "unassigned"]
    assert [ln["text"] for ln in un] == ["something odd here"] and un[0]["post_index"] == 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("21:14", True),
        ("9:41 LTE 87%", True),
        ("100%", True),
        ("Marcus Teo · 21:14", False),
        ("See you at 21:14 then", False),
    ],
)
def test_status_bar(text, expected):
    assert layout.is_status_bar(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Rachel de Souza", True),
        ("Muhammad Irfan bin Hassan", True),
        ("Anonymous member", True),
        ("Write a reply", False),
        ("see you", False),
        ("Friday we meet", False),
        ("Ang Qi Rui", True),
    ],
)
def test_name_like(text, expected):
    assert layout.name_like(text) is expected


def test_nav_bar_read_in_pieces_and_its_icons():
    """OCR splits a tab label (``No t i fic a t i o n s``), misses one (``Home`` in the accent colour) and reads
    the icons above the labels as a line of stray glyphs (``“ 三``): all of it is the navigation bar."""
    df = phone_page(POSTS[:2], reply=False, nav=False)
    y = int(df["y1"].max()) + 120
    df = pd.concat(
        [
            df,
            pd.DataFrame(
                [
                    _row("“", 424, y, 458, 30),
                    _row("三", 1008, y, 1042, 30),
                    _row("Groups", 375, y + 46, 434, 24),
                    _row("N oti fic ations", 625, y + 46, 726, 24),
                    _row("Menu", 921, y + 46, 970, 24),
                ]
            ),
        ]
    )
    posts, lines = layout.read_page(df, 1080)
    assert len(posts) == 2
    assert _roles(lines)[-2:] == [("chrome", "nav"), ("chrome", "nav")]


def test_a_wrapped_last_word_is_body_not_a_reply_box():
    """A post whose last line is the word ``comments`` (a wrapped sentence) keeps it: inside a body only a
    capitalised prompt of several words is a reply box."""
    page = [
        (0, "Benedict Tan", ["Pinning this reply to the top of the", "comments"], 16),
        (1, "Lim Jia Hui", ["ok"], 1),
    ]
    posts, lines = layout.read_page(phone_page(page, reply=False, nav=False), 1080)
    assert posts[0]["text"] == "Pinning this reply to the top of the comments"
    assert not layout.is_reply_box("comments") and layout.is_reply_box("comments", opening=True)
    assert layout.is_reply_box("Write a reply…") and not layout.is_reply_box("write a reply")


@pytest.mark.parametrize(
    "text, left",
    [
        ("Ana Lim · 2h", "Ana Lim"),
        ("Priyanka Raj 8h", "Priyanka Raj"),  # OCR dropped the separator
        ("Wei Jie @wj_tan Admin · 12 Mar", "Wei Jie @wj_tan Admin"),
        ("no time ends this line", "no time ends this line"),
    ],
)
def test_header_left_with_or_without_the_separator(text, left):
    assert layout.header_left(text) == left


def _posts(*edges, line_height=0.03):
    return [{"x_left": x, "line_height": line_height} for x in edges]


BASE, STEP = 0.033, 0.0695  # as a Chromium-drawn corpus without avatars measured


def test_a_page_whose_text_starts_beside_an_avatar_is_not_pushed_two_levels_down():
    """A mixed corpus (tests/html_pages.py, drawn by Chromium): pages without avatars fix the corpus's base at the
    margin; on a page with a 40 px avatar beside every post the text starts 1.9 steps further right, which the
    corpus model took for two levels and wrote depths 2, 3, 4. The grammar has three levels: such a page is read
    on its own."""
    plain = [_posts(BASE, BASE + STEP, BASE + 2 * STEP), _posts(BASE, BASE + STEP)]
    shift = 1.9 * STEP
    avatar = _posts(*(BASE + shift + d * STEP for d in (0, 1, 2, 1, 0)))
    layout.assign_depths([*plain, avatar])
    assert [p["depth"] for p in avatar] == [0, 1, 2, 1, 0]
    assert max(p["depth"] for page in plain for p in page) == 2


def test_smaller_reply_avatars_make_uneven_steps_and_the_order_of_the_edges_decides():
    """Apps draw smaller avatars beside replies: text moves by one unit for a reply and by two for a reply to a
    reply. With three clusters the page's levels are their order."""
    plain = [_posts(BASE, BASE + STEP, BASE + 2 * STEP)]
    uneven = _posts(*(BASE + 2 * STEP + u * STEP for u in (0, 1, 3, 3, 1, 0)))
    layout.assign_depths([*plain, uneven])
    assert [p["depth"] for p in uneven] == [0, 1, 2, 2, 1, 0]


def test_a_page_that_skips_a_level_still_follows_the_corpus_model():
    """Depths 0 and 2 only: the page's own smallest gap is two steps, a whole multiple of the corpus's, so the
    corpus model keeps the reply to a reply at depth 2 (the page alone would call it 1)."""
    pages = [_posts(BASE, BASE + STEP, BASE + 2 * STEP), _posts(BASE, BASE + STEP), _posts(BASE, BASE + 2 * STEP)]
    layout.assign_depths(pages)
    assert [p["depth"] for p in pages[2]] == [0, 2]


def test_a_page_with_another_apps_step_is_read_on_its_own():
    pages = [_posts(BASE, BASE + STEP, BASE + 2 * STEP), _posts(BASE, BASE + STEP)]
    other = _posts(BASE, BASE + 1.5 * STEP, BASE + 3 * STEP)  # a step half again as wide
    layout.assign_depths([*pages, other])
    assert [p["depth"] for p in other] == [0, 1, 2]


@pytest.mark.parametrize("tail", ["Admin · 2h", "@jiahui.lim · 2h", "· 2h", "Moderator · 12 Mar"])
def test_a_header_that_wraps_keeps_its_time_and_badge_out_of_the_body(tail):
    """On a narrow phone a long header wraps: the name (and handle) on one line, the badge and time on the next.
    That second line is the header's, not the first line of the body."""
    df = fake_page(POSTS)
    i = df.index[df["text"] == "Lim Jia Hui · 2h"][0]
    row = df.loc[i].to_dict()
    df.loc[i, "text"] = "Lim Jia Hui @jiahui.lim" if not tail.startswith("@") else "Lim Jia Hui"
    df.loc[df["y0"] > row["y0"], ["y0", "y1"]] += 48
    more = {**row, "text": tail, "y0": row["y0"] + 48, "y1": row["y1"] + 48, "x1": row["x0"] + 170}
    df = pd.concat([df, pd.DataFrame([more])]).sort_values("y0").reset_index(drop=True)
    posts, lines = layout.read_page(df, 1080)
    p = posts[1]
    assert (p["author"], p["text"]) == ("Lim Jia Hui", "This is 8 to 12.")
    assert p["timestamp"] and p["handle"] == "jiahui.lim"
    assert p["badge"] == ("Admin" if "Admin" in tail else "Moderator" if "Moderator" in tail else "")
    assert [ln["role"] for ln in lines if ln["text"] == tail] == ["header"]
    assert [q["author"] for q in posts] == [q[1] for q in POSTS]
