"""Screenshots as a real study's folder holds them (issue 9, item 6): PNG and JPEG in any case, free file names,
ids from ``screenshots.csv`` or from the file names, and bad or duplicate ids refused with one line."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from compendium import manifest, ocr, screenshots
from compendium.errors import InputError

from conftest import DERIVED, RAW, compendium, one_line_exit_2

SHOTS = RAW / "private" / "screenshots"


def _jpeg(src: Path, dest: Path, quality: int = 85, exif_rotate: bool = False) -> None:
    with Image.open(src) as im:
        img = im.convert("RGB")
    exif = None
    if exif_rotate:  # stored turned a quarter, with the EXIF tag that says how to turn it back up
        img = img.transpose(Image.Transpose.ROTATE_90)
        ex = Image.Exif()
        ex[0x0112] = 6
        exif = ex.tobytes()
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, **({"exif": exif} if exif else {}))
    dest.write_bytes(buf.getvalue())


def test_ids_from_file_names_in_natural_order(tmp_path):
    for name in [
        "IMG_2041.PNG",
        "IMG_998.png",
        "Screenshot 2023-03-12 at 21.14.jpg",
        "capture.JPEG",
        "notes.txt",
        "transcribed.csv",
    ]:
        (tmp_path / name).write_bytes(b"x")
    shots = screenshots.find_screenshots(tmp_path)
    assert [s.screenshot_id for s in shots] == ["capture", "IMG_998", "IMG_2041", "Screenshot-2023-03-12-at-21.14"]
    assert screenshots.id_from_stem("WITI-007") == "WITI-007"


def test_committed_names_keep_their_ids():
    shots = screenshots.find_screenshots(SHOTS)
    assert [s.screenshot_id for s in shots] == [f"WITI-{i:03d}" for i in range(1, 36)]


def test_ids_from_screenshots_csv_in_its_order(tmp_path):
    for name in ["a.png", "b.jpg"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "screenshots.csv").write_text(
        "file,screenshot_id,captured_at\nb.jpg,WITI-001,2023-03-12\na.png,WITI-002,2023-03-13\n"
    )
    assert [(s.screenshot_id, s.path.name) for s in screenshots.find_screenshots(tmp_path)] == [
        ("WITI-001", "b.jpg"),
        ("WITI-002", "a.png"),
    ]


@pytest.mark.parametrize(
    "files,index,needle,line",
    [
        (["a.png", "A.PNG"], None, "also the id of", None),
        (["a.png", "a.jpg"], None, "also the id of", None),
        (["a.png", "b.png"], "file,screenshot_id\na.png,P#1\nb.png,B\n", "is not usable", 2),
        (["a.png", "b.png"], "file,screenshot_id\na.png,X\nb.png,X\n", "also the id of a.png", 3),
        (["a.png", "b.png"], "file,screenshot_id\na.png,X\n", "b.png has no row", None),
        (["a.png"], "file,screenshot_id\na.png,X\nc.png,Y\n", "no image file 'c.png'", 3),
        (["a.png"], "file,id\na.png,X\n", "expected the columns file, screenshot_id", 1),
        (["notes.txt"], None, "no screenshots", None),
    ],
)
def test_bad_or_duplicate_ids_are_refused(tmp_path, files, index, needle, line):
    for name in files:
        (tmp_path / name).write_bytes(b"x")
    if index is not None:
        (tmp_path / "screenshots.csv").write_text(index)
    with pytest.raises(InputError) as e:
        screenshots.find_screenshots(tmp_path)
    assert needle in e.value.message and e.value.line == line


def test_jpeg_headers_are_read_and_bombs_refused(tmp_path):
    p = tmp_path / "x.jpg"
    _jpeg(SHOTS / "WITI-001.png", p)
    with Image.open(SHOTS / "WITI-001.png") as im:
        size = im.size
    assert ocr.check_header(p) == size
    big = io.BytesIO()
    Image.new("L", (8, 8)).save(big, format="JPEG")
    data = bytearray(big.getvalue())
    i = data.index(b"\xff\xc0")
    data[i + 5 : i + 9] = (9000).to_bytes(2, "big") * 2  # the frame header says 9000 x 9000
    (tmp_path / "bomb.jpg").write_bytes(bytes(data))
    with pytest.raises(InputError, match="decompression bomb"):
        ocr.check_header(tmp_path / "bomb.jpg")
    (tmp_path / "cut.jpg").write_bytes(p.read_bytes()[:200])
    with pytest.raises(InputError, match="corrupt or truncated JPEG"):
        ocr.load_image(tmp_path / "cut.jpg")


def test_a_rotated_jpeg_is_read_upright(tmp_path):
    p = tmp_path / "r.jpg"
    _jpeg(SHOTS / "WITI-001.png", p, exif_rotate=True)
    arr, _ = ocr.load_image(p)
    with Image.open(SHOTS / "WITI-001.png") as im:
        assert (arr.shape[1], arr.shape[0]) == im.size


@pytest.mark.slow
def test_a_folder_of_jpg_and_png_with_free_names_runs(tmp_path):
    """Five committed pages as a phone gallery would hold them: JPEG and upper-case PNG, free names, one JPEG with
    EXIF rotation; ids from the names; the pages are read as well as the PNGs were, and redacted as PNG."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw, ignore=shutil.ignore_patterns("WITI-*.png", "transcribed.csv"))
    shots = raw / "private" / "screenshots"
    # names whose natural order is the pages' reading order (threads run on from one page to the next)
    names = {
        "WITI-001": "IMG_0998.PNG",
        "WITI-002": "IMG_2041.jpg",
        "WITI-003": "IMG_3000.jpeg",
        "WITI-004": "Screenshot 2023-03-12 at 21.14.JPG",
        "WITI-005": "Screenshot 2023-03-12 at 21.20.jpg",
    }
    for sid, name in names.items():
        if name.lower().endswith(".png"):
            shutil.copyfile(SHOTS / f"{sid}.png", shots / name)
        else:
            _jpeg(SHOTS / f"{sid}.png", shots / name, quality=80, exif_rotate=(sid == "WITI-005"))
    manifest.write(raw)
    derived = tmp_path / "derived"
    r = compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        derived,
        "--reports",
        tmp_path / "reports",
        "--cache",
        tmp_path / "cache",
        "--only",
        "screenshots",
    )
    assert r.returncode == 0, r.stderr
    posts = pd.read_csv(derived / "posts.csv", keep_default_na=False)
    ids = {sid: screenshots.id_from_stem(Path(n).stem) for sid, n in names.items()}
    assert sorted(posts["screenshot_id"].unique()) == sorted(ids.values())
    assert sorted(p.name for p in (derived / "redacted").iterdir()) == sorted(f"{i}.png" for i in ids.values())
    committed = pd.read_csv(DERIVED / "posts.csv", keep_default_na=False)
    for sid, new in ids.items():
        a = committed[committed["screenshot_id"] == sid]
        b = posts[posts["screenshot_id"] == new]
        assert len(a) == len(b), sid
        assert list(a["author"]) == list(b["author"]) and list(a["depth"]) == list(b["depth"]), sid
        from rapidfuzz.distance import Levenshtein

        ref, got = " ".join(a["text"]), " ".join(b["text"])
        assert Levenshtein.distance(ref, got) / max(1, len(ref)) <= 0.01, (sid, ref[:200], got[:200])


def test_a_duplicate_id_stops_the_stage_with_one_line(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    shots = raw / "private" / "screenshots"
    shutil.copyfile(shots / "WITI-001.png", shots / "witi-001.jpg")
    manifest.write(raw)
    shutil.copytree(DERIVED, tmp_path / "derived")
    r = compendium(
        "run",
        "--raw",
        raw,
        "--derived",
        tmp_path / "derived",
        "--reports",
        tmp_path / "reports",
        "--only",
        "screenshots",
    )
    one_line_exit_2(r, "also the id of")
