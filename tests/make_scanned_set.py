"""Make a scanned copy of a folder of PDFs: every page rendered to a grey 200 dpi image with mild
noise, a few pages skewed by 1-2 degrees or fed in turned (90/180/270), rebuilt as image-only
PDFs with the same file names (so an evaluation set's gold pages still apply).

    python -m tests.make_scanned_set --pdfs ../shared/data/cuad-dev/pdf --out /tmp/cuad-dev-scanned
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
import pymupdf

DPI = 200
SKEWED_SHARE = 0.15  # of the pages, tilted by 1-2 degrees either way
TURNED_SHARE = 0.03  # of the pages, lying a quarter or half turn


def scan_page(source: pymupdf.Document, number: int, out: pymupdf.Document,
              rng: random.Random) -> str:
    """Add one scanned page to `out`; return what was done to it."""
    rect = source[number].rect
    draw = rng.random
    angle = 0.0
    turn = 0
    roll = draw()
    if roll < TURNED_SHARE:
        turn = rng.choice([90, 180, 270])
    elif roll < TURNED_SHARE + SKEWED_SHARE:
        angle = rng.choice([-1, 1]) * rng.uniform(1.0, 2.0)
    staged = pymupdf.open()
    width, height = (rect.height, rect.width) if turn in (90, 270) else (rect.width, rect.height)
    page = staged.new_page(width=width, height=height)
    page.show_pdf_page(page.rect, source, number, rotate=turn or angle)
    pix = page.get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY)
    pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
    pixels = pixels[:, :pix.width].astype(np.int16)
    noise = np.random.default_rng(rng.randrange(1 << 30))
    pixels = pixels + noise.normal(0, 10, pixels.shape).round().astype(np.int16)
    specks = noise.random(pixels.shape) < 0.0005
    pixels[specks] = noise.choice([0, 255], int(specks.sum()))
    grey = np.clip(pixels, 0, 255).astype(np.uint8)
    noisy = pymupdf.Pixmap(pymupdf.csGRAY, pix.width, pix.height, grey.tobytes(), False)
    target = out.new_page(width=width, height=height)
    target.insert_image(target.rect, stream=noisy.tobytes("jpeg", jpg_quality=75))
    return f"turned {turn}" if turn else (f"skewed {angle:+.1f}" if angle else "straight")


def make_scanned_copy(pdfs: Path, out: Path, seed: int = 7) -> dict[str, list[str]]:
    """Scan every PDF of `pdfs` into `out`; return what was done to each page."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    log: dict[str, list[str]] = {}
    for path in sorted(p for p in pdfs.iterdir() if p.suffix.lower() == ".pdf"):
        with pymupdf.open(path) as source:
            copy = pymupdf.open()
            log[path.name] = [scan_page(source, i, copy, rng) for i in range(source.page_count)]
            copy.save(out / path.name, garbage=3, deflate=True)
            copy.close()
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pdfs", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    log = make_scanned_copy(args.pdfs, args.out, args.seed)
    pages = [kind for kinds in log.values() for kind in kinds]
    print(f"{len(log)} PDFs, {len(pages)} pages: "
          f"{sum(k.startswith('skewed') for k in pages)} skewed, "
          f"{sum(k.startswith('turned') for k in pages)} turned -> {args.out}")


if __name__ == "__main__":
    main()
