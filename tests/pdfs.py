"""Real PDFs for tests, made with PyMuPDF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pymupdf

if TYPE_CHECKING:
    from desk.index.matter import Matter


def make_pdf(path: Path, pages: list[str], fontsize: float = 10) -> Path:
    """One string per page, laid out in a text box with line wrapping."""
    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page(width=612, height=792)
        if text:
            rect = pymupdf.Rect(72, 72, 540, 740)
            page.insert_textbox(rect, text, fontsize=fontsize, fontname="helv")
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()
    return path


def make_scanned_pdf(path: Path, with_text_page: bool = False) -> Path:
    """A page that is only an image (as a scanner makes), optionally after a page of text."""
    doc = pymupdf.open()
    if with_text_page:
        doc.new_page().insert_text((72, 72), "This page has a text layer about indemnification.")
    page = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pix.clear_with(200)
    page.insert_image(pymupdf.Rect(72, 72, 472, 272), pixmap=pix)
    doc.save(path)
    doc.close()
    return path


def _ccitt_g4(pix: pymupdf.Pixmap) -> bytes:
    """A grey pixmap as one strip of CCITT Group 4 fax data (as office scanners write it), made
    with Pillow's libtiff."""
    import io

    import numpy as np
    from PIL import Image

    grey = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, :pix.width]
    bilevel = Image.fromarray(((grey > 128) * 255).astype(np.uint8)).convert("1")
    buffer = io.BytesIO()
    bilevel.save(buffer, format="TIFF", compression="group4", tiffinfo={278: pix.height})
    tiff = Image.open(io.BytesIO(buffer.getvalue()))
    start, length = tiff.tag_v2[273][0], tiff.tag_v2[279][0]  # the one strip
    return buffer.getvalue()[start:start + length]


def _insert_ccitt(doc: pymupdf.Document, page: pymupdf.Page, pix: pymupdf.Pixmap) -> None:
    xref = doc.get_new_xref()
    doc.update_object(xref, f"<< /Type /XObject /Subtype /Image /Width {pix.width} /Height "
                            f"{pix.height} /ColorSpace /DeviceGray /BitsPerComponent 1 >>")
    doc.update_stream(xref, _ccitt_g4(pix), compress=False)
    doc.xref_set_key(xref, "Filter", "/CCITTFaxDecode")
    doc.xref_set_key(xref, "DecodeParms", f"<< /K -1 /Columns {pix.width} /Rows {pix.height} "
                                          "/BlackIs1 true >>")
    page.insert_image(page.rect, xref=xref)


def make_image_pdf(path: Path, pages: list[str | None], rotate: int = 0, dpi: int = 200,
                   encoding: str = "png") -> Path:
    """Pages as a scanner makes them: each text is laid out, rendered to a grey image and only
    the image is kept, turned by `rotate` degrees and stored as PNG, JPEG or CCITT G4 fax
    (`encoding`). A None page keeps its text layer: a mixed document."""
    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page(width=612, height=792)
        if text is None:
            page.insert_textbox(pymupdf.Rect(72, 72, 540, 740), CONTRACT_PAGES[0], fontsize=11)
            continue
        source = pymupdf.open()
        drawn = source.new_page(width=612, height=792)
        drawn.insert_textbox(pymupdf.Rect(72, 72, 540, 740), text, fontsize=11)
        pix = drawn.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        if rotate:
            # a page fed in sideways: the image (and the page) turned, the text with it
            turned = pymupdf.open()
            shown = turned.new_page(width=792, height=612) if rotate % 180 else \
                turned.new_page(width=612, height=792)
            shown.show_pdf_page(shown.rect, source, 0, rotate=rotate)
            pix = shown.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
            page.set_mediabox(shown.rect)
        if encoding == "ccitt":
            _insert_ccitt(doc, page, pix)
            continue
        image = pix.tobytes("jpeg", jpg_quality=80) if encoding == "jpeg" else pix.tobytes("png")
        page.insert_image(page.rect, stream=image)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    doc.close()
    return path


def make_encrypted_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Privileged and confidential settlement terms.")
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="secret")
    doc.close()
    return path


CONTRACT_PAGES = [
    "MASTER SERVICES AGREEMENT\n\nThis Master Services Agreement is entered into between "
    "Acme Widgets, Inc. (\"Supplier\") and Blue River Holdings LLC (\"Customer\").\n\n"
    "1. Definitions. \"Confidential Information\" means any non-public information disclosed "
    "by either party.",
    "12. Term and Termination.\n\n12.3 Termination for Convenience. Either party may terminate "
    "this Agreement for convenience upon ninety (90) days prior written notice to the other "
    "party.\n\n12.4 Effect of Termination. Upon termination Customer shall pay all fees accrued.",
    "18. Governing Law. This Agreement shall be governed by the laws of the State of Delaware. "
    "Any dispute shall be brought in the court handling case No. 2:21-cv-01234 or, for civil "
    "rights claims under 42 U.S.C. § 1983, in federal court.\n\n19. Notices. All notices shall "
    "be in writing.",
]

# An opinion's pages: citations as the Court prints them (one broken across lines), short
# forms, Id. and supra pointing back, a statute and a regulation; then section numbers and a
# garbled line that must not become citations.
OPINION_PAGES = [
    # page 1: full citations, one of them broken across lines as a slip opinion prints it;
    # Grutter last, so that the Id. heading page 2 points back to it
    "SUPREME COURT OF THE UNITED STATES\n\nThe claims arise under 42 U.S.C. § 1983, and the "
    "employer invokes 29 C.F.R. § 1630.2(g). The Court of Appeals relied on Fisher v. "
    "University of Texas at Austin, 631 F.3d 213 (5th Cir. 2011), which followed Grutter v. "
    "Bollinger, 539 U.\nS. 306 (2003), where the Court upheld a law school's admissions plan.",
    # page 2: Id., short forms and supra pointing back to page 1
    "Id., at 328. The Court of Appeals found the plan narrowly tailored. 631 F. 3d, at 230. "
    "That reading is consistent with Grutter, supra, at 330, and with the remedy 42 U.S.C. "
    "§ 1983 provides.",
    # page 3: nothing that is a citation, some that looks like one
    "Under Section 12.3 of the Agreement and § 4.1 of this Agreement, notice is due within "
    "10 days. Sec. 5 and Article 7.2 apply. A garbled line: 539 U.S. ,, U.S. 306 §§ 5",
]


def contract_matter(folder: Path, file_name: str = "MSA Acme.pdf", name: str = "msa") -> Matter:
    """A matter holding one imported contract (CONTRACT_PAGES), open; the caller closes it."""
    from desk.index.matter import open_matter
    from desk.ingest.importer import ImportJob

    matter = open_matter(name)
    for _ in ImportJob(matter, [make_pdf(folder / file_name, CONTRACT_PAGES)], 500, 100).run():
        pass
    return matter
