"""OCR wrapper: bad images, caching, dark themes, determinism."""

import numpy as np
import pytest


from compendium import ocr, render  # noqa: E402
from compendium.errors import InputError  # noqa: E402

from conftest import RAW  # noqa: E402

RAW_SHOTS = RAW / "private" / "screenshots"


@pytest.fixture(scope="module")
def page_png(tmp_path_factory):
    members, threads = render.demo_bank(n_threads=12, seed=2)
    d = tmp_path_factory.mktemp("ocr")
    page = render.paginate(threads, members, n_pages=4, seed=0)[0]
    light, dark = d / "light.png", d / "dark.png"
    light.write_bytes(render.png_bytes(render.draw_page(page, render.Style(theme="light"))))
    dark.write_bytes(render.png_bytes(render.draw_page(page, render.Style(theme="dark"))))
    return light, dark, render.transcribe_page(page)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"GIF89a not a png", "not a PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt or truncated"),
    ],
)
def test_bad_images(tmp_path, content, reason):
    bad = tmp_path / "WITI-009.png"
    bad.write_bytes(content)
    with pytest.raises(InputError) as err:
        ocr.read_words(bad)
    assert "WITI-009.png" in str(err.value) and reason in str(err.value)


def test_truncated_png(tmp_path, page_png):
    data = page_png[0].read_bytes()
    bad = tmp_path / "cut.png"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.png.*truncated"):
        ocr.read_words(bad)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.png"):
        ocr.read_words(tmp_path / "nope.png")


def test_read_and_cache(tmp_path, page_png, monkeypatch):
    light, _, rows = page_png
    words = ocr.read_words(light, cache_dir=tmp_path / "cache")
    assert list(words.columns) == ["text", "x0", "y0", "x1", "y1", "conf"]
    assert (words["x1"] > words["x0"]).all() and (words["y1"] > words["y0"]).all()
    text = " ".join(words["text"])
    assert rows[0]["author"].split()[0] in text
    files = list((tmp_path / "cache").glob("*.json"))
    assert len(files) == 1 and "rapidocr" in files[0].name

    def boom(arr):
        raise AssertionError("OCR ran although the result is cached")

    monkeypatch.setattr(ocr, "_run_rapidocr", boom)
    again = ocr.read_words(light, cache_dir=tmp_path / "cache")
    assert again.equals(words)


def test_dark_theme_is_inverted_and_read(page_png):
    light, dark, _ = page_png
    arr, _ = ocr.load_image(dark)
    assert ocr.is_dark(arr) and not ocr.is_dark(ocr.preprocess(arr))
    a = ocr.read_words(light)
    b = ocr.read_words(dark)
    assert abs(len(a) - len(b)) <= 1
    assert " ".join(b["text"]).count(" ") > 20


def test_array_input_and_determinism(page_png):
    light, _, _ = page_png
    arr, _ = ocr.load_image(light)
    assert ocr.read_words(arr).equals(ocr.read_words(np.array(arr)))


def test_unknown_engine(page_png):
    with pytest.raises(ValueError):
        ocr.read_words(page_png[0], engine="nonesuch")


def test_blank_image_has_no_ink():
    assert not ocr.has_ink(np.full((200, 100, 3), 24, dtype=np.uint8))
    arr = np.full((200, 100, 3), 255, dtype=np.uint8)
    arr[50:60, 10:40] = 0
    assert ocr.has_ink(arr)


def test_tesseract_missing_says_how_to_install(page_png, monkeypatch):
    monkeypatch.setattr(ocr, "_tesseract_exe", lambda: None)
    with pytest.raises(InputError) as err:
        ocr.read_words(page_png[0], engine="tesseract")
    msg = str(err.value)
    assert msg.startswith("parameter ocr_engine: ") and "not installed" in msg
    assert "apt-get install tesseract-ocr" in msg and "\n" not in msg


def test_engines_are_cached_apart(tmp_path, page_png):
    if ocr._tesseract_exe() is None:
        pytest.skip("tesseract not installed (apt-get install tesseract-ocr)")
    light = page_png[0]
    a = ocr.read_words(light, cache_dir=tmp_path)
    b = ocr.read_words(light, engine="tesseract", cache_dir=tmp_path)
    names = sorted(p.name.split("-")[0] for p in tmp_path.glob("*.json"))
    assert names == ["rapidocr", "tesseract"]
    assert list(b.columns) == list(a.columns) and len(b) >= len(a) - 3
    assert ocr.read_words(light, engine="tesseract", cache_dir=tmp_path).equals(b)


def _text_crop(words: list[str], gap: int, letter_gap: int = 2) -> np.ndarray:
    """A synthetic line: each word a run of 8-px-wide 'letters' 2 px apart, words ``gap`` px apart."""
    cols = []
    for k, w in enumerate(words):
        for j, _ in enumerate(w):
            cols += [1] * 8 + ([0] * letter_gap if j < len(w) - 1 else [])
        if k < len(words) - 1:
            cols += [0] * gap
    crop = np.full((30, len(cols) + 8, 3), 255, dtype=np.uint8)
    for x, c in enumerate(cols):
        if c:
            crop[5:25, x + 4] = 0
    return crop


def _columns(words, gap, letter_gap=2, with_spaces=()):
    """Where a CTC recogniser would put each character (column index of 1 px each), spaces only where told."""
    text, cols, x = "", [], 4
    for k, w in enumerate(words):
        for j, ch in enumerate(w):
            text += ch
            cols.append(x + 4)
            x += 8 + (letter_gap if j < len(w) - 1 else 0)
        if k < len(words) - 1:
            if k in with_spaces:
                text += " "
                cols.append(x + gap // 2)
            x += gap
    return text, cols


def test_restore_spaces_puts_back_dropped_spaces():
    words = ["scared", "to", "ask", "something"]
    crop = _text_crop(words, gap=9)
    text, cols = _columns(words, gap=9, with_spaces={1})
    assert text == "scaredto asksomething"
    assert ocr.restore_spaces(crop, text, cols, crop.shape[1]) == "scared to ask something"
    # nothing to do when the recogniser read every space
    text, cols = _columns(words, gap=9, with_spaces={0, 1, 2})
    assert ocr.restore_spaces(crop, text, cols, crop.shape[1]) == text


def test_restore_spaces_never_splits_numbers_or_letters():
    crop = _text_crop(["2023", "21"], gap=9, letter_gap=7)  # digits set almost a space apart
    text, cols = _columns(["2023", "21"], gap=9, letter_gap=7, with_spaces={0})
    assert ocr.restore_spaces(crop, text, cols, crop.shape[1]) == "2023 21"
    crop = _text_crop(["abcdefghijklm"], gap=0, letter_gap=3)
    text, cols = _columns(["abcdefghijklm"], gap=0, letter_gap=3)
    assert ocr.restore_spaces(crop, text, cols, crop.shape[1]) == text


def _pages():
    """Real captures (light and dark) and random arrays, odd and even pixel counts."""
    rng = np.random.default_rng(7)
    shots = sorted(RAW_SHOTS.glob("WITI-00*.png"))[:4]
    arrays = [ocr.load_image(p)[0] for p in shots]
    arrays += [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for h, w in [(17, 31), (40, 40), (3, 5)]]
    arrays += [np.full((20, 30, 3), 24, dtype=np.uint8), 255 - arrays[0]]
    return arrays


def test_image_scans_equal_the_plain_numpy_formulas():
    """The OpenCV scans give the numbers of the NumPy definitions they replace, on real and random images."""
    for arr in _pages():
        for k in range(3):
            assert ocr.median_u8(arr[..., k]) == np.median(arr[..., k])
        bg = np.median(arr.reshape(-1, 3), axis=0).astype(np.int16)
        dist = np.abs(arr.astype(np.int16) - bg).max(axis=2)
        assert np.array_equal(ocr.ink_distance(arr), dist)
        assert np.array_equal(ocr.ink_rows(arr), dist.max(axis=1) > 40)
        span = (arr.max(axis=(0, 1)).astype(np.int16) - arr.min(axis=(0, 1))).max()
        assert ocr.has_ink(arr) == bool(span > 40)
        lum = arr.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        assert ocr.is_dark(arr) == (float(np.median(lum)) < 128)


def test_table_detection_preprocessing_is_bit_identical():
    """The detector's normalisation read from a table (ocr._fast_det_preprocess) gives RapidOCR's own float32
    values bit for bit, on a committed page and on random pixels."""
    import numpy as np
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    from conftest import RAW

    table = ocr._fast_det_preprocess()
    rng = np.random.default_rng(3)
    for img in (
        ocr.load_image(RAW / "private" / "screenshots" / "WITI-004.png")[0],
        rng.integers(0, 256, (517, 389, 3), dtype=np.uint8),
    ):
        plain, fast = DetPreProcess(736, "min"), DetPreProcess(736, "min")
        fast.__class__ = table
        a, b = plain(img), fast(img)
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
        assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_ink_gaps_median_from_histogram():
    import numpy as np

    rng = np.random.default_rng(5)
    for shape in ((31, 200, 3), (48, 999, 3), (2, 3, 3)):
        crop = rng.integers(0, 256, shape, dtype=np.uint8)
        crop[:, : shape[1] // 2] = 250
        g = crop.astype(np.int16)
        ref = np.median(g.reshape(-1, 3), axis=0)
        got = np.array([ocr.median_u8(np.ascontiguousarray(crop[..., c])) for c in range(3)])
        assert np.array_equal(ref, got)


def test_a_changed_reading_setting_changes_the_cache_key(monkeypatch):
    from compendium import ocr

    key = ocr.cache_key(b"page", "rapidocr")
    for name, value in (("REC_MARGIN", 0.3), ("DET_LINE_HEIGHT", 20), ("REC_WIDTH_STEP", 32), ("CONF_DECIMALS", 3)):
        with monkeypatch.context() as m:
            m.setattr(ocr, name, value)
            assert ocr.cache_key(b"page", "rapidocr") != key, name
    assert ocr.cache_key(b"page", "rapidocr") == key
