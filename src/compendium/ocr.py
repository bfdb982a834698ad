"""OCR behind one function: an image -> text lines with boxes and confidence, cached by image hash.

The default engine is RapidOCR (``rapidocr_onnxruntime``: PaddleOCR's PP-OCRv4 models run by ONNX
Runtime; the models ship inside the wheel, nothing is downloaded at run time). It returns one box per
text line, which is what :mod:`compendium.layout` needs.

Choices that make the output stable and accurate on phone screenshots:

- dark-theme captures are inverted to dark-on-light before OCR (the models were trained on that);
- the empty part at the bottom of a capture is cropped away (less to detect, same coordinates);
- lines are recognised one at a time (``rec_batch_num = 1``): in batches, lines are padded to the
  widest line of the batch and the recogniser then sometimes drops spaces between words;
- one ONNX Runtime thread per process (parallelism comes from processes), so results do not depend
  on the number of cores; the text-direction classifier is off (screenshots are upright).

Results are cached as JSON under ``cache_dir`` keyed by the sha256 of the image bytes, the engine
name, the engine version and :data:`PIPELINE_VERSION`, so a rerun does no OCR at all.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from compendium.errors import InputError

PIPELINE_VERSION = "2"   # bump when preprocessing or engine settings change (invalidates the cache)
COLUMNS = ["text", "x0", "y0", "x1", "y1", "conf"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_ENGINES: dict = {}


def engine_version(engine: str = "rapidocr") -> str:
    if engine == "rapidocr":
        from importlib.metadata import version

        return version("rapidocr_onnxruntime")
    raise InputError(f"unknown OCR engine {engine!r}; available: rapidocr", "parameter ocr_engine")


def _rapidocr():
    if "rapidocr" not in _ENGINES:
        import logging

        from rapidocr_onnxruntime import RapidOCR

        eng = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=False,
                       print_verbose=False)
        eng.text_rec.rec_batch_num = 1
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        _ENGINES["rapidocr"] = eng
    return _ENGINES["rapidocr"]


def load_image(path) -> tuple[np.ndarray, bytes]:
    """Read a PNG screenshot as an RGB array; InputError naming the file and the reason if bad."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read image: {exc.strerror or exc}", path) from None
    if not data:
        raise InputError("empty image file", path)
    if not data.startswith(PNG_SIGNATURE):
        raise InputError("not a PNG image (bad signature)", path)
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            arr = np.asarray(im.convert("RGB"))
    except Exception as exc:  # PIL raises several types for corrupt/truncated files
        raise InputError(f"corrupt or truncated PNG image ({exc})", path) from None
    if arr.shape[0] < 16 or arr.shape[1] < 16:
        raise InputError(f"image too small to read ({arr.shape[1]}x{arr.shape[0]} px)", path)
    return arr, data


def is_dark(arr: np.ndarray) -> bool:
    """A dark-theme capture: the median luminance (the background) is below mid-grey."""
    lum = arr[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return float(np.median(lum)) < 128


def preprocess(arr: np.ndarray) -> np.ndarray:
    """Invert dark captures; crop the empty bottom. Coordinates of what is kept are unchanged."""
    arr = np.ascontiguousarray(arr[..., :3])
    if is_dark(arr):
        arr = 255 - arr
    bg = np.median(arr.reshape(-1, 3), axis=0)
    rows = np.abs(arr.astype(np.int16) - bg.astype(np.int16)).max(axis=2).max(axis=1) > 40
    idx = np.flatnonzero(rows)
    if idx.size:
        bottom = min(arr.shape[0], int(idx[-1]) + 40)
        arr = arr[:bottom]
    return np.ascontiguousarray(arr)


def _ink_bands(arr: np.ndarray, min_height: int = 8) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of horizontal bands of ink (rows that differ from the background)."""
    bg = np.median(arr.reshape(-1, 3), axis=0).astype(np.int16)
    mask = np.abs(arr.astype(np.int16) - bg).max(axis=2) > 60
    rows = mask.any(axis=1)
    bands, y = [], 0
    while y < len(rows):
        if rows[y]:
            y0 = y
            while y < len(rows) and rows[y]:
                y += 1
            if y - y0 >= min_height:
                cols = np.flatnonzero(mask[y0:y].any(axis=0))
                bands.append((int(cols[0]), y0, int(cols[-1]) + 1, y))
        y += 1
    return bands


def _run_rapidocr(arr: np.ndarray) -> list[dict]:
    eng = _rapidocr()
    result, _ = eng(arr)
    rows = []
    for box, text, conf in result or []:
        pts = np.asarray(box, dtype=float)
        rows.append({"text": str(text), "x0": int(round(pts[:, 0].min())), "y0": int(round(pts[:, 1].min())),
                     "x1": int(round(pts[:, 0].max())), "y1": int(round(pts[:, 1].max())),
                     "conf": round(float(conf), 4)})
    # second pass: short texts the detector missed (a lone "♥ 1" footer): recognise bands of ink
    # that no detected box covers, without detection
    for x0, y0, x1, y1 in _ink_bands(arr):
        covered = any(min(y1, r["y1"]) - max(y0, r["y0"]) > 0.4 * (y1 - y0) for r in rows)
        if covered or y1 - y0 > 120:
            continue
        pad = max(4, (y1 - y0) // 3)
        crop = arr[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
        (text, conf), = eng.text_rec([np.ascontiguousarray(crop)])[0]
        if str(text).strip() and conf >= 0.5:
            rows.append({"text": str(text), "x0": x0, "y0": y0, "x1": x1, "y1": y1, "conf": round(float(conf), 4)})
    return rows


def cache_key(data: bytes, engine: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"{engine}-{engine_version(engine)}-p{PIPELINE_VERSION}-{sha}"


def read_words(image, engine: str = "rapidocr", cache_dir=None) -> pd.DataFrame:
    """OCR one image: a DataFrame ``text, x0, y0, x1, y1, conf`` (one row per text line, top to bottom).

    ``image`` is a path to a PNG (validated: InputError names the file and the reason) or an array.
    With ``cache_dir``, results are read from / written to ``<cache_dir>/<key>.json``.
    """
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        data = arr.tobytes() + repr(arr.shape).encode()
    else:
        arr, data = load_image(image)
    key = cache_key(data, engine)
    cache_file = Path(cache_dir) / f"{key}.json" if cache_dir is not None else None
    if cache_file is not None and cache_file.exists():
        rows = json.loads(cache_file.read_text(encoding="utf-8"))
    else:
        if engine != "rapidocr":
            raise InputError(f"unknown OCR engine {engine!r}; available: rapidocr", "parameter ocr_engine")
        rows = _run_rapidocr(preprocess(arr))
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
            tmp.replace(cache_file)
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.sort_values(["y0", "x0"], kind="mergesort").reset_index(drop=True)
