"""Layout: header/footer grammar, depth clustering at any width and step, threads across pages.

These tests build OCR-like line boxes directly (no OCR), so they are fast and exact.
"""


import pandas as pd
import pytest


from compendium import layout  # noqa: E402


@pytest.mark.parametrize("line, author, handle, badge, time", [
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
])
def test_parse_header(line, author, handle, badge, time):
    h = layout.parse_header(line)
    assert (h["author"], h["handle"], h["badge"], h["timestamp"]) == (author, handle, badge, time)


@pytest.mark.parametrize("line", ["Exam in 2 weeks and I am panicking.", "never mention.", "WITI · What is, this is",
                                  "8 to 12 mmol/L"])
def test_not_header(line):
    assert layout.parse_header(line) is None


@pytest.mark.parametrize("line, author, handle, time", [
    ("Priyanka Raj @priyanka.raj 6 Feb 2023, 22:12", "Priyanka Raj", "priyanka.raj", "6 Feb 2023, 22:12"),
    ("Priyanka Raj 3d", "Priyanka Raj", "", "3d"),
    ("Priyanka Raj · 3d", "Priyanka Raj", "", "3d"),
    ("Priyanka Raj", "Priyanka Raj", "", ""),
])
def test_parse_header_lenient_where_a_header_must_be(line, author, handle, time):
    """Right after a footer a header must follow: a lost separator still splits name and time."""
    h = layout.parse_header_lenient(line)
    assert (h["author"], h["handle"], h["timestamp"]) == (author, handle, time)


@pytest.mark.parametrize("line, reactions, replies", [
    ("♥ 14", 14, 0), ("♥ 14 · 3 replies", 14, 3), ("?38", 38, 0), ("51·lreply", 51, 1), ("33·3replies", 33, 3),
    ("25 · 1 reply", 25, 1), ("V 7", 7, 0),
])
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


POSTS = [(0, "Rachel Tan", ["What is the anion gap", "normal range?"], 3),
         (1, "Lim Jia Hui", ["This is 8 to 12."], 5),
         (2, "Rachel Tan", ["Thanks!"], 1),
         (1, "Daniel Koh", ["Careful, the lab", "uses another one."], 9),
         (0, "Priya Nair", ["Next question"], 0)]


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
    p1 = layout.parse_page(fake_page(POSTS[:3]), 1080)                 # 0 1 2
    p2 = layout.parse_page(fake_page(POSTS[3:], title=False), 1080)    # 1 0
    p3 = layout.parse_page(fake_page([(2, "A B", ["x"], 1)], title=False), 1080)  # 2 after a 0: unknown
    layout.assign_depths([p1, p2, p3])
    stream, threads = layout.link_threads([("WITI-001", p1), ("WITI-002", p2), ("WITI-003", p3)])
    by_id = {p["post_id"]: p for p in stream}
    assert by_id["WITI-001#2"]["parent_post_id"] == "WITI-001#1"
    assert by_id["WITI-001#3"]["parent_post_id"] == "WITI-001#2"
    assert by_id["WITI-002#1"]["parent_post_id"] == "WITI-001#1"  # continues from the previous page
    assert by_id["WITI-002#1"]["thread_id"] == by_id["WITI-001#1"]["thread_id"]
    assert by_id["WITI-002#2"]["parent_post_id"] == ""
    assert by_id["WITI-003#1"]["parent_post_id"] == ""              # cannot be known
    assert by_id["WITI-003#1"]["thread_id"] != by_id["WITI-002#2"]["thread_id"]
    assert [t["n_posts"] for t in threads] == [4, 1, 1]
    assert threads[0]["screenshot_ids"] == "WITI-001;WITI-002"
    assert threads[2]["root_post_id"] == ""


@pytest.mark.parametrize("read, fixed", [
    ("Thank you, | was wondering", "Thank you, I was wondering"),
    ("l'm in Yl and i think so", "I'm in Y1 and I think so"),
    ("the WiTl OsCE answer.One more", "the WITI OSCE answer. One more"),
])
def test_fix_text(read, fixed):
    assert layout.fix_text(read) == fixed
