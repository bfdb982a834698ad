"""OCR behind one function: an image -> text lines with boxes and confidence, cached by image hash.

The default engine is RapidOCR (``rapidocr_onnxruntime``: PaddleOCR's PP-OCRv4 models, which ship
inside the wheel, so nothing is downloaded at run time), with its two models run by OpenVINO rather
than ONNX Runtime: the same ONNX files, the same text, about 1.75 times faster on a CPU. It returns one box per
text line, which is what :mod:`compendium.layout` needs. ``engine="tesseract"`` runs the system's
Tesseract 5 instead (``apt-get install tesseract-ocr``), about 1.5 times faster but less accurate on
this grammar; docs/ocr.md has the comparison and benchmarks/ocr_engines.py the measurement.

Choices that make the RapidOCR output stable and accurate on phone screenshots:

- dark-theme captures are inverted to dark-on-light before OCR (the models were trained on that);
- the empty part at the bottom of a capture is cropped away (less to detect, same coordinates);
- text detection runs on a copy scaled so that lines of text are about 24 px high (about a third
  less time on a 1080 px capture, same lines found); recognition reads crops of the full image;
- lines are recognised one at a time (``rec_batch_num = 1``): in batches, lines are padded to the
  widest line of the batch, which is slower here and sometimes drops spaces between words;
- spaces the recogniser drops between tightly set words are put back where the image shows a gap as
  wide as a word space (:func:`restore_spaces`);
- one ONNX Runtime thread per process (parallelism comes from processes), so results do not depend
  on the number of cores; the text-direction classifier is off (screenshots are upright).

Results are cached as JSON under ``cache_dir`` keyed by the sha256 of the image bytes, the engine
name, the engine version and :data:`PIPELINE_VERSION`, so a rerun does no OCR at all.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import math
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from compendium.errors import InputError

PIPELINE_VERSION = "8"  # bump when preprocessing or engine settings change (invalidates the cache)
COLUMNS = ["text", "x0", "y0", "x1", "y1", "conf"]
REC_WIDTH_STEP = 64  # px: recognition inputs are padded to a multiple of this width (few shapes, see OpenVINOSession)
DET_LINE_HEIGHT = 24  # px: text detection runs on a copy scaled so that lines of text are about this high
# share of a line crop's height added above and below it (its edge rows repeated) before recognition: a taller crop
# is a narrower model input (every line is scaled to 48 px high), so it reads faster, but pages the corpus never
# used read worse: measured and left off (docs/ocr.md, "A margin around each line")
REC_MARGIN = 0.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The largest image opened, in pixels, checked from the PNG header before anything is decoded. Phone screenshots
# are 2-6 megapixels (1080 x 2340 is 2.5; a tablet's 2048 x 2732 is 5.6) and a long scrolling capture reaches
# 20-30; 40 megapixels (120 MB as RGB) leaves room for those. Anything larger is refused as a likely decompression
# bomb (a few kilobytes of PNG that inflate to gigabytes), well below Pillow's own limit (MAX_IMAGE_PIXELS, 89
# megapixels, an error only above twice that).
MAX_PIXELS = 40_000_000
# Confidences are kept to 2 decimals (every engine's, in read_words). The models' arithmetic differs in its last bits from one CPU to another
# (OpenVINO and ONNX Runtime pick kernels for the instruction set they find), and at 4 decimals that was enough
# to move one line's confidence by 0.0001 between two development machines, so posts.csv was not reproduced byte
# for byte. At 2 decimals a difference of that size crosses a rounding boundary about 100 times less often.
CONF_DECIMALS = 2

_ENGINES: dict = {}
_VERSIONS: dict = {}


ENGINE_NAMES = ("rapidocr", "tesseract")
TESSERACT_INSTALL = (
    "Debian/Ubuntu: sudo apt-get install tesseract-ocr; conda: conda install -c conda-forge "
    "tesseract; or use the default engine, ocr_engine=rapidocr"
)


def _tesseract_exe() -> str | None:
    return shutil.which("tesseract")


def check_engine(engine: str) -> None:
    """InputError (one line, naming the parameter) for an unknown engine or one that is not installed."""
    if engine not in ENGINE_NAMES:
        raise InputError(f"unknown OCR engine {engine!r}; available: {', '.join(ENGINE_NAMES)}", "parameter ocr_engine")
    if engine == "tesseract" and _tesseract_exe() is None:
        raise InputError(f"OCR engine 'tesseract' is not installed ({TESSERACT_INSTALL})", "parameter ocr_engine")


def engine_version(engine: str = "rapidocr") -> str:
    check_engine(engine)
    if engine == "rapidocr":
        from importlib.metadata import version

        return f"{version('rapidocr_onnxruntime')}+openvino-{version('openvino')}"
    if "tesseract" not in _VERSIONS:
        out = subprocess.run([_tesseract_exe(), "--version"], capture_output=True, text=True).stdout
        _VERSIONS["tesseract"] = (out.split() or ["unknown", "unknown"])[1]
    return _VERSIONS["tesseract"]


class OpenVINOSession:
    """One of RapidOCR's ONNX models run by OpenVINO instead of ONNX Runtime, with the call interface of
    RapidOCR's own session (an input array -> ``[output]``). OpenVINO reads the same ONNX file and runs it
    about 1.75 times faster on a CPU (benchmarks/ocr_engines.py).

    - One thread and 32-bit floats, so a result does not depend on the number of cores or on whether the CPU
      offers bfloat16. Thread pinning is off: OpenVINO would otherwise pin every single-threaded worker
      process to the same core.
    - Few input shapes. OpenVINO keeps prepared kernels for every input shape it has seen, and a page of
      text brings dozens of new ones (every line its width, every capture its height): a worker grew by
      about 45 MiB a screenshot. So detection input is padded with zeros to a multiple of ``map_step`` px
      both ways and the probability map cropped back to the image, and :func:`recognise` pads each line to
      a multiple of :data:`REC_WIDTH_STEP` px. A worker then levels off at about 850 MiB.
    """

    def __init__(self, model: Path, map_step: int = 0):
        import openvino as ov

        core = ov.Core()
        config = {
            "INFERENCE_NUM_THREADS": 1,
            "NUM_STREAMS": 1,
            "INFERENCE_PRECISION_HINT": "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "ENABLE_CPU_PINNING": False,
        }
        self._request = core.compile_model(core.read_model(str(model)), "CPU", config).create_infer_request()
        self.map_step = map_step

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        h, w = x.shape[-2:]
        if self.map_step:
            x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, -h % self.map_step), (0, -w % self.map_step)])
            return [self._request.infer({0: x})[0][..., :h, :w].copy()]
        return [self._request.infer({0: x})[0].copy()]


def _fast_det_preprocess():
    """RapidOCR's detection preprocessing with its per-pixel normalisation, ``(x / 255 - mean) / std``, read from a
    256-entry table per channel instead of computed over float copies of the whole image: the same float32
    values bit for bit (each table entry is the same expression on the same value; tests/test_ocr.py compares
    them), in a fraction of the time (it was a sixth of the time outside the models)."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    class TableDetPreProcess(DetPreProcess):
        def __call__(self, img: np.ndarray):
            resized = self.resize(img)
            if resized is None:
                return None
            levels = np.arange(256, dtype=np.uint8)
            table = ((levels.astype("float32") * self.scale)[:, None] - self.mean) / self.std
            table = table.astype(np.float32)
            out = np.empty((1, 3) + resized.shape[:2], dtype=np.float32)
            for c in range(3):
                np.take(table[:, c], resized[..., c], out=out[0, c])
            return out

    return TableDetPreProcess


def _rapidocr(runtime: str = "openvino"):
    """The RapidOCR engine, its models run by ``runtime``: "openvino" (the pipeline's) or "onnxruntime"
    (RapidOCR's own, kept for the comparison in benchmarks/ocr_engines.py)."""
    if runtime not in _ENGINES:
        import logging

        from rapidocr_onnxruntime import RapidOCR

        eng = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1, use_cls=False, print_verbose=False)
        eng.text_rec.rec_batch_num = 1
        if runtime == "openvino":
            models = Path(inspect.getfile(RapidOCR)).parent / "models"
            eng.text_det.infer = OpenVINOSession(models / "ch_PP-OCRv4_det_infer.onnx", map_step=128)
            table_class, plain = _fast_det_preprocess(), eng.text_det.get_preprocess

            def get_preprocess(max_wh, plain=plain, table_class=table_class):
                op = plain(max_wh)
                op.__class__ = table_class
                return op

            eng.text_det.get_preprocess = get_preprocess
            eng.text_rec.session = OpenVINOSession(models / "ch_PP-OCRv4_rec_infer.onnx")
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        _ENGINES[runtime] = eng
    return _ENGINES[runtime]


def png_size(data: bytes, path) -> tuple[int, int]:
    """``(width, height)`` of a PNG from its header (the first 24 bytes), before anything is decoded.

    InputError naming ``path``: an empty file, not a PNG, no header, or more than :data:`MAX_PIXELS` pixels
    ("image too large (W x H pixels, a decompression bomb?)").
    """
    if not data:
        raise InputError("empty image file", path)
    if not data.startswith(PNG_SIGNATURE):
        raise InputError("not a PNG image (bad signature)", path)
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise InputError("corrupt or truncated PNG image (no IHDR header)", path)
    width, height = struct.unpack(">II", data[16:24])
    if width * height > MAX_PIXELS:
        raise InputError(
            f"image too large ({width} x {height} pixels, a decompression bomb?); the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels",
            path,
        )
    return width, height


JPEG_SIGNATURE = b"\xff\xd8\xff"
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_kind(data: bytes) -> str | None:
    """``"PNG"`` or ``"JPEG"`` from a file's first bytes; ``None`` for anything else."""
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(JPEG_SIGNATURE):
        return "JPEG"
    return None


def jpeg_size(data: bytes, path) -> tuple[int, int]:
    """``(width, height)`` of a JPEG from its start-of-frame marker, before anything is decoded; the same
    InputErrors as :func:`png_size`."""
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise InputError("corrupt or truncated JPEG image (bad marker)", path)
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _JPEG_SOF:
            if i + 9 > n:
                break
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            if width * height > MAX_PIXELS:
                raise InputError(
                    f"image too large ({width} x {height} pixels, a decompression bomb?); the limit "
                    f"is {MAX_PIXELS // 1_000_000} megapixels",
                    path,
                )
            return width, height
        if marker == 0xD9 or length < 2:
            break
        i += 2 + length
    raise InputError("corrupt or truncated JPEG image (no frame header)", path)


def image_size(data: bytes, path) -> tuple[int, int]:
    """``(width, height)`` of a PNG or JPEG screenshot from its header (:func:`png_size`, :func:`jpeg_size`)."""
    if not data:
        raise InputError("empty image file", path)
    kind = image_kind(data)
    if kind is None:
        raise InputError("not a PNG or JPEG image (bad signature)", path)
    return png_size(data, path) if kind == "PNG" else jpeg_size(data, path)


def check_header(path) -> tuple[int, int]:
    """:func:`image_size` of the file at ``path``, reading only its first bytes (a quick check of many images; a
    JPEG's frame header may follow up to 64 KiB of metadata)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(64)
            if image_kind(data) == "JPEG":
                data += f.read(256 * 1024)
    except OSError as exc:
        raise InputError(f"cannot read image: {exc.strerror or exc}", path) from None
    return image_size(data, path)


def upright(im: Image.Image) -> Image.Image:
    """A phone's JPEG turned as its EXIF orientation says (a PNG, or a JPEG without it, as it is): OCR, layout
    and redaction all see the page the same way up."""
    from PIL import ImageOps

    return ImageOps.exif_transpose(im) if im.format == "JPEG" else im


def upright_size(im: Image.Image) -> tuple[int, int]:
    """``(width, height)`` of the page as :func:`upright` turns it, without decoding the pixels."""
    if im.format == "JPEG" and im.getexif().get(0x0112) in (5, 6, 7, 8):  # a quarter turn: sides swap
        return im.height, im.width
    return im.width, im.height


def load_image(path) -> tuple[np.ndarray, bytes]:
    """Read a PNG or JPEG screenshot as an RGB array; InputError naming the file and the reason if bad."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read image: {exc.strerror or exc}", path) from None
    image_size(data, path)
    kind = image_kind(data)
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as im:
            im.load()
            arr = np.asarray(upright(im).convert("RGB"))
    except Exception as exc:  # PIL raises several types for corrupt/truncated files
        raise InputError(f"corrupt or truncated {kind} image ({exc})", path) from None
    if arr.shape[0] < 16 or arr.shape[1] < 16:
        raise InputError(f"image too small to read ({arr.shape[1]}x{arr.shape[0]} px)", path)
    return arr, data


# Whole-image scans run on every screenshot before OCR (is it blank, is it dark, where is the ink), so they use
# OpenCV's per-channel operations on uint8 planes: the same numbers as the plain NumPy formulas (int16
# differences, ``np.median``), a tenth of the time (tests/test_ocr.py checks them against those formulas).


def _rgb(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr[..., :3], dtype=np.uint8)


def _planes(arr: np.ndarray) -> list[np.ndarray]:
    import cv2

    return list(cv2.split(_rgb(arr)))


def median_u8(plane: np.ndarray) -> float:
    """``np.median`` of a uint8 array, from its histogram (the mean of the two middle values of an even count)."""
    counts = np.bincount(plane.ravel(), minlength=256).cumsum()
    n = int(counts[-1])
    lo = int(np.searchsorted(counts, (n - 1) // 2 + 1))
    hi = int(np.searchsorted(counts, n // 2 + 1))
    return (lo + hi) / 2


def background(arr: np.ndarray) -> np.ndarray:
    """Each channel's median level of a uint8 RGB array (the background colour), as ``np.median`` gives it."""
    return np.array([median_u8(p) for p in _planes(arr)])


def ink_distance(arr: np.ndarray) -> np.ndarray:
    """Per pixel, the largest difference from the background colour (each channel's median, truncated to a
    whole level) over the three channels (uint8)."""
    import cv2

    d = [cv2.absdiff(p, int(median_u8(p))) for p in _planes(arr)]
    return cv2.max(cv2.max(d[0], d[1]), d[2])


def _row_max(d: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.reduce(d, 1, cv2.REDUCE_MAX).ravel()


def is_dark(arr: np.ndarray) -> bool:
    """A dark-theme capture: the median grey level (the background) is below mid-grey."""
    import cv2

    return median_u8(cv2.cvtColor(_rgb(arr), cv2.COLOR_RGB2GRAY)) < 128


def ink_rows(arr: np.ndarray, threshold: int = 40) -> np.ndarray:
    """Boolean per row: does the row hold anything that differs from the background (the median colour)?"""
    return _row_max(ink_distance(arr)) > threshold


def has_ink(arr: np.ndarray, threshold: int = 40) -> bool:
    """Is anything drawn on the image at all? Blank means every channel stays within ``threshold`` levels
    (a flat colour, or faint noise): such a capture has no post to read."""
    import cv2

    return any(hi - lo > threshold for lo, hi, _, _ in map(cv2.minMaxLoc, _planes(arr)))


def preprocess(arr: np.ndarray) -> np.ndarray:
    """Invert dark captures; crop the empty bottom. Coordinates of what is kept are unchanged."""
    arr = np.ascontiguousarray(arr[..., :3])
    if is_dark(arr):
        arr = 255 - arr
    idx = np.flatnonzero(ink_rows(arr))
    if idx.size:
        bottom = min(arr.shape[0], int(idx[-1]) + 40)
        arr = arr[:bottom]
    return np.ascontiguousarray(arr)


def _ink_bands(arr: np.ndarray, min_height: int = 8) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) of horizontal bands of ink (rows that differ from the background)."""
    dist = ink_distance(arr)
    rows = _row_max(dist) > 60
    bands, y = [], 0
    while y < len(rows):
        if rows[y]:
            y0 = y
            while y < len(rows) and rows[y]:
                y += 1
            if y - y0 >= min_height:
                cols = np.flatnonzero((dist[y0:y] > 60).any(axis=0))
                bands.append((int(cols[0]), y0, int(cols[-1]) + 1, y))
        y += 1
    return bands


def _ink_gaps(crop: np.ndarray, threshold: int = 60) -> tuple[list[tuple[int, int]], int]:
    """Columns without ink inside a line crop: ``[(x_start, x_end)]``, and the height of the ink."""
    g = crop[..., :3].astype(np.int16)
    # np.median of each channel, read off its histogram (median_u8: the same value, a fraction of the time)
    bg = background(crop) if crop.dtype == np.uint8 else np.median(g.reshape(-1, 3), axis=0)
    ink = np.abs(g - bg).max(axis=2) > threshold
    cols = ink.any(axis=0)
    xs, rows = np.flatnonzero(cols), np.flatnonzero(ink.any(axis=1))
    if xs.size == 0:
        return [], 0
    gaps, x = [], int(xs[0])
    while x <= xs[-1]:
        if not cols[x]:
            start = x
            while not cols[x]:
                x += 1
            gaps.append((start, x))
        x += 1
    return gaps, int(rows[-1] - rows[0] + 1)


def restore_spaces(crop: np.ndarray, text: str, columns: list[int], n_columns: float) -> str:
    """Put back spaces the recogniser dropped, where the image shows a gap as wide as a word space.

    The recogniser (CTC) says where each character is (``columns`` of ``n_columns`` across the crop); the
    crop says where the ink has gaps. A gap at least 3/4 as wide as the spaces it did read in the line
    (and at least 0.22 of the ink height; 0.25 when it read none) that falls between two characters with
    no space near them gets one. Never between two digits, around ``:``, after ``@`` or ``(``, or before
    closing punctuation. Small fonts with tight spacing (Liberation Sans at 24 px) otherwise lose spaces.
    """
    if not text or len(columns) != len(text) or n_columns <= 0:
        return text
    gaps, h = _ink_gaps(crop)
    if not gaps:
        return text
    w = crop.shape[1]
    pos = [(c + 0.5) / n_columns * w for c in columns]
    read = []
    for i, ch in enumerate(text[1:-1], 1):
        if ch == " ":
            inside = [g1 - g0 for g0, g1 in gaps if pos[i - 1] < (g0 + g1) / 2 < pos[i + 1]]
            if inside:
                read.append(max(inside))
    thr = max(0.75 * float(np.median(read)), 0.22 * h) if read else 0.25 * h
    if not read and len(text) < 12:
        return text
    inserts = []
    for g0, g1 in gaps:
        if g1 - g0 < thr:
            continue
        xg = (g0 + g1) / 2
        for i in range(len(text) - 1):
            if pos[i] < xg < pos[i + 1]:
                a, b = text[i], text[i + 1]
                if (
                    " " not in text[max(0, i - 1) : i + 3]
                    and not (a.isdigit() and b.isdigit())
                    and ":" not in (a, b)
                    and a not in "@("
                    and b not in ").,;:!?"
                ):
                    inserts.append(i + 1)
                break
    out = list(text)
    for i in sorted(set(inserts), reverse=True):
        out.insert(i, " ")
    return "".join(out)


def detection_scale(bands: list[tuple[int, int, int, int]]) -> float:
    """Scale for text detection: lines of text about :data:`DET_LINE_HEIGHT` px high, never enlarged."""
    heights = [y1 - y0 for _, y0, _, y1 in bands]
    return min(1.0, DET_LINE_HEIGHT / float(np.median(heights))) if heights else 1.0


def _run_rapidocr(arr: np.ndarray, runtime: str = "openvino") -> list[dict]:
    """Detection on a reduced copy (text lines about 24 px high: the detector needs no more, and it is
    the costly step on a full-resolution capture), recognition on crops of the full-resolution image one
    line at a time, spaces restored from the ink, then a second pass for short texts the detector missed."""
    import cv2

    eng = _rapidocr(runtime)
    bands = _ink_bands(arr)
    scale = detection_scale(bands)
    h, w = arr.shape[:2]
    small = (
        arr
        if scale >= 1.0
        else cv2.resize(arr, (max(32, round(w * scale)), max(32, round(h * scale))), interpolation=cv2.INTER_AREA)
    )
    sx, sy = w / small.shape[1], h / small.shape[0]
    boxes, _ = eng.text_det(np.ascontiguousarray(small))
    rows = []
    if boxes is not None and len(boxes):
        boxes = [
            np.asarray(b, dtype=np.float32) * np.array([sx, sy], dtype=np.float32) for b in eng.sorted_boxes(boxes)
        ]
        crops = eng.get_crop_img_list(arr, boxes)
        rec = recognise(eng, crops)
        for box, crop, (text, conf, info) in zip(boxes, crops, rec):
            if conf < 0.5:
                continue
            columns = [c for word in info[2] for c in word]
            text = restore_spaces(crop, str(text), columns, float(info[0]))
            rows.append(box_row(box, text, conf))
    return rows + read_missed_bands(eng, arr, bands, rows)


def recognise(eng, crops: list[np.ndarray], width_step: int = REC_WIDTH_STEP) -> list:
    """RapidOCR's recogniser, one line at a time, each line's model input padded with zeros (as RapidOCR
    pads the lines of a batch) to a multiple of ``width_step`` px, so that the runtime meets few input
    shapes: ``[(text, conf, info)]``, info holding the character positions (``return_word_box``). Each crop first
    gets :data:`REC_MARGIN` of its height above and below (its edge rows repeated); its width, and so the
    character positions along it, are unchanged."""
    import cv2

    rec = eng.text_rec
    _, img_h, img_w = rec.rec_image_shape[:3]
    out = []
    for crop in crops:
        pad = round(REC_MARGIN * crop.shape[0])
        if pad:
            crop = cv2.copyMakeBorder(crop, pad, pad, 0, 0, cv2.BORDER_REPLICATE)
        ratio = crop.shape[1] / float(crop.shape[0])
        width = -(-math.ceil(img_h * max(img_w / img_h, ratio)) // width_step) * width_step
        norm = rec.resize_norm_img(crop, (width + 0.5) / img_h)[np.newaxis].astype(np.float32)
        preds = rec.session(norm)[0]
        out += rec.postprocess_op(preds, True, wh_ratio_list=[ratio], max_wh_ratio=width / img_h)
    return out


def box_row(box, text: str, conf: float) -> dict:
    """A word-box row (``COLUMNS``) from a detector's four-point box."""
    pts = np.asarray(box, dtype=float)
    return {
        "text": str(text),
        "x0": int(round(pts[:, 0].min())),
        "y0": int(round(pts[:, 1].min())),
        "x1": int(round(pts[:, 0].max())),
        "y1": int(round(pts[:, 1].max())),
        "conf": float(conf),
    }


def read_missed_bands(eng, arr: np.ndarray, bands, rows: list[dict]) -> list[dict]:
    """Second pass: short texts the detector missed (a lone "♥ 1" footer). Bands of ink that no row of
    ``rows`` covers are recognised directly, without detection; returns the new rows."""
    found = []
    for x0, y0, x1, y1 in bands:
        covered = any(min(y1, r["y1"]) - max(y0, r["y0"]) > 0.4 * (y1 - y0) for r in rows + found)
        if covered or y1 - y0 > 120:
            continue
        pad = max(4, (y1 - y0) // 3)
        crop = arr[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
        ((text, conf, _),) = recognise(eng, [np.ascontiguousarray(crop)])
        if str(text).strip() and conf >= 0.5:
            found.append({"text": str(text), "x0": x0, "y0": y0, "x1": x1, "y1": y1, "conf": float(conf)})
    return found


def read_regions(arr: np.ndarray, boxes, engine: str = "rapidocr") -> list[str]:
    """The text in each box ``[x0, y0, x1, y1]`` of an RGB page, read as one line by the recogniser alone (no
    detection: each box is where a line of text is known to be). A dark page is inverted first, as for a full
    reading. With RapidOCR: its recogniser on each crop, spaces restored from the ink (:func:`restore_spaces`);
    with Tesseract: each crop read as one line (``--psm 7``)."""
    check_engine(engine)
    if not boxes:
        return []
    dark, (h, w) = is_dark(arr), arr.shape[:2]
    crops = []
    for x0, y0, x1, y1 in boxes:
        x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(w, int(x1) + 1), min(h, int(y1) + 1)
        crop = np.ascontiguousarray(arr[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1), :3])
        crops.append(255 - crop if dark else crop)
    if engine == "tesseract":
        return [" ".join(r["text"] for r in _run_tesseract(c, psm=7)) for c in crops]
    out = []
    for crop, (text, _conf, info) in zip(crops, recognise(_rapidocr(), crops)):
        columns = [c for word in info[2] for c in word] if info else []
        out.append(restore_spaces(crop, str(text), columns, float(info[0])) if info else str(text))
    return out


def settings_digest() -> str:
    """A short digest of the reading's settings (:data:`PIPELINE_VERSION`, :data:`REC_MARGIN`,
    :data:`REC_WIDTH_STEP`, :data:`DET_LINE_HEIGHT`, :data:`CONF_DECIMALS`): part of the cache key, so a changed
    setting is never answered from the cache even when nobody bumped the version."""
    settings = (PIPELINE_VERSION, REC_MARGIN, REC_WIDTH_STEP, DET_LINE_HEIGHT, CONF_DECIMALS)
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:12]


def cache_key(data: bytes, engine: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    return f"{engine}-{engine_version(engine)}-p{PIPELINE_VERSION}-{settings_digest()}-{sha}"


def read_words(image, engine: str = "rapidocr", cache_dir=None, loaded=None) -> pd.DataFrame:
    """OCR one image: a DataFrame ``text, x0, y0, x1, y1, conf`` (one row per text line, top to bottom).

    ``image`` is a path to a PNG (validated: InputError names the file and the reason) or an array.
    With ``cache_dir``, results are read from / written to ``<cache_dir>/<key>.json``. ``loaded`` is what
    :func:`load_image` returned for the path, when the caller has decoded it already.
    """
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 2:
            arr = np.stack([arr] * 3, axis=-1)
        data = arr.tobytes() + repr(arr.shape).encode()
    else:
        arr, data = loaded if loaded is not None else load_image(image)
    key = cache_key(data, engine)
    cache_file = Path(cache_dir) / f"{key}.json" if cache_dir is not None else None
    if cache_file is not None and cache_file.exists():
        rows = json.loads(cache_file.read_text(encoding="utf-8"))
    else:
        rows = [{**r, "conf": round(r["conf"], CONF_DECIMALS)} for r in _RUNNERS[engine](preprocess(arr))]
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=0), encoding="utf-8")
            tmp.replace(cache_file)
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df.sort_values(["y0", "x0"], kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Tesseract (optional second engine: the system's ``tesseract`` command, run as a subprocess)
# --------------------------------------------------------------------------------------------------


def _run_tesseract(arr: np.ndarray, psm: int = 4) -> list[dict]:
    """Tesseract 5 (LSTM, English) on the preprocessed image: words grouped into its text lines.

    ``--psm 4`` (one column of text of varying sizes) suits a phone capture; one thread
    (``OMP_THREAD_LIMIT=1``) keeps results independent of the machine, as for RapidOCR.
    """
    exe = _tesseract_exe()
    if exe is None:
        check_engine("tesseract")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    proc = subprocess.run(
        [exe, "stdin", "stdout", "-l", "eng", "--psm", str(psm), "tsv"],
        input=buf.getvalue(),
        capture_output=True,
        env=env,
    )
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"tesseract failed: {msg[-1] if msg else proc.returncode}", "parameter ocr_engine")
    lines: dict[tuple, list] = {}
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip():
            continue
        key = (int(f[2]), int(f[3]), int(f[4]))  # block, paragraph, line
        x, y, w, h, conf = int(f[6]), int(f[7]), int(f[8]), int(f[9]), float(f[10])
        lines.setdefault(key, []).append((x, y, x + w, y + h, conf, f[11]))
    rows = []
    for words in lines.values():
        n = sum(len(t) for *_, t in words)
        rows.append(
            {
                "text": " ".join(t for *_, t in words),
                "x0": min(w[0] for w in words),
                "y0": min(w[1] for w in words),
                "x1": max(w[2] for w in words),
                "y1": max(w[3] for w in words),
                "conf": math.fsum(w[4] * len(w[5]) for w in words) / max(1, n) / 100,
            }
        )
    return rows


_RUNNERS = {"rapidocr": lambda arr: _run_rapidocr(arr), "tesseract": lambda arr: _run_tesseract(arr)}
