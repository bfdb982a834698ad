"""OCR wrapper: bad images, caching, dark themes, determinism."""


import numpy as np
import pytest


from compendium import ocr, render  # noqa: E402
from compendium.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def page_png(tmp_path_factory):
    members, threads = render.demo_bank(n_threads=12, seed=2)
    d = tmp_path_factory.mktemp("ocr")
    page = render.paginate(threads, members, n_pages=4, seed=0)[0]
    light, dark = d / "light.png", d / "dark.png"
    light.write_bytes(render.png_bytes(render.draw_page(page, render.Style(theme="light"))))
    dark.write_bytes(render.png_bytes(render.draw_page(page, render.Style(theme="dark"))))
    return light, dark, render.transcribe_page(page)


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"GIF89a not a png", "not a PNG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt or truncated"),
])
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
