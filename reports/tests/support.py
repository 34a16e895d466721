"""Helpers of the report tests: read a PDF back, write its pages as PNG for a person to look at."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

from django.conf import settings
from pypdf import PdfReader


def artefact_dir() -> Path:
    """Where report tests leave PDFs and PNG pages (REPORT_ARTEFACTS_DIR, else var/)."""
    folder = Path(
        os.environ.get("REPORT_ARTEFACTS_DIR")
        or Path(settings.BASE_DIR) / "var" / "test-artefacts" / "reports"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_metadata_text(pdf: bytes) -> str:
    """The document information and the XMP packet, as text."""
    reader = PdfReader(io.BytesIO(pdf))
    info = " ".join(f"{k}={v}" for k, v in (reader.metadata or {}).items())
    xmp = reader.trailer["/Root"].get("/Metadata")
    return info + "\n" + (xmp.get_object().get_data().decode() if xmp is not None else "")


def attached_json(pdf: bytes, name: str):
    reader = PdfReader(io.BytesIO(pdf))
    (data,) = reader.attachments[name]
    return json.loads(data)


def write_pngs(pdf: bytes, stem: str, *, dpi: int = 80) -> list[Path]:
    """The PDF and its pages as PNG (pdftoppm, Debian poppler-utils) in the artefact folder."""
    folder = artefact_dir()
    pdf_path = folder / f"{stem}.pdf"
    pdf_path.write_bytes(pdf)
    for old in folder.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(  # noqa: S603 - fixed arguments, our own file
        ["pdftoppm", "-r", str(dpi), "-png", str(pdf_path), str(folder / stem)],  # noqa: S607
        check=True,
        timeout=120,
    )
    return sorted(folder.glob(f"{stem}-*.png"))


def _fonts(resources, seen) -> list:
    """Every font dictionary reachable from a resources dictionary (forms included)."""
    fonts = []
    if resources is None:
        return fonts
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        fonts.append(font)
        fonts.extend(d.get_object() for d in font.get("/DescendantFonts") or [])
    for xobject in (resources.get("/XObject") or {}).values():
        ref = getattr(xobject, "idnum", None)
        if ref in seen:
            continue
        seen.add(ref)
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            fonts.extend(_fonts(xobject.get("/Resources"), seen))
    return fonts


def pdfa_problems(pdf: bytes) -> list[str]:
    """What breaks PDF/A-3b (ISO 19005-3) among the rules we can check without veraPDF.

    veraPDF (the reference validator) is Java and in no package registry we may use; this
    checks the clauses a renderer most often gets wrong: the header's binary comment (6.1.2),
    the file identifier and no encryption (6.1.3), the XMP identification part 3 / level B
    (6.6.4) in a metadata stream of the right type (6.6.2.1), the document information agreeing
    with the XMP (6.6.3), a PDF/A output intent with an ICC profile (6.2.3), every font
    embedded (6.2.11.4), no JavaScript or additional actions (6.6.1), and associated files
    with their relationship, MIME type and modification date (6.8).
    """
    problems = []
    if not pdf.startswith(b"%PDF-1.") and not pdf.startswith(b"%PDF-2."):
        problems.append("no %PDF header")
    second = pdf.split(b"\n", 2)[1] if pdf.count(b"\n") >= 2 else b""
    if not (second.startswith(b"%") and sum(1 for b in second[1:5] if b > 127) == 4):
        problems.append("6.1.2: no binary comment after the header")
    reader = PdfReader(io.BytesIO(pdf))
    trailer, root = reader.trailer, reader.trailer["/Root"]
    if "/ID" not in trailer:
        problems.append("6.1.3: no file identifier")
    if "/Encrypt" in trailer:
        problems.append("6.1.3: encrypted")
    metadata = root.get("/Metadata")
    xmp = ""
    if metadata is None:
        problems.append("6.6.2: no XMP metadata")
    else:
        metadata = metadata.get_object()
        if metadata.get("/Type") != "/Metadata" or metadata.get("/Subtype") != "/XML":
            problems.append("6.6.2.1: the metadata stream is not /Type /Metadata /Subtype /XML")
        xmp = metadata.get_data().decode("utf-8", "replace")
        if "bytes=" in xmp.split("?>", 1)[0] or "encoding=" in xmp.split("?>", 1)[0]:
            problems.append("6.6.2.1: the XMP packet header has a bytes or encoding attribute")
    part = "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    level = "<pdfaid:conformance>B</pdfaid:conformance>" in xmp or 'pdfaid:conformance="B"' in xmp
    if not (part and level):
        problems.append("6.6.4: XMP does not identify PDF/A-3B")
    info = trailer.get("/Info")
    for key in ("/Title", "/Producer", "/Creator", "/Author"):
        value = info.get_object().get(key) if info is not None else None
        if value and str(value) not in xmp.replace("&lt;", "<").replace("&amp;", "&"):
            problems.append(f"6.6.3: document information {key} is not in the XMP")
    intents = [i.get_object() for i in root.get("/OutputIntents") or []]
    if not any(
        i.get("/S") == "/GTS_PDFA1" and i.get("/DestOutputProfile") is not None for i in intents
    ):
        problems.append("6.2.3: no PDF/A output intent with an ICC profile")
    if "/AA" in root or "/JavaScript" in (root.get("/Names") or {}):
        problems.append("6.6.1: JavaScript or additional actions")
    seen: set = set()
    for number, page in enumerate(reader.pages, start=1):
        if "/AA" in page:
            problems.append(f"6.6.1: page {number} has additional actions")
        for font in _fonts(page.get("/Resources"), seen):
            if font.get("/Subtype") in ("/Type0", "/Type3"):
                continue  # a Type0's glyphs are its descendant's; Type3 glyphs are content
            descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"6.2.11.4: font {font.get('/BaseFont')} is not embedded")
    for spec in root.get("/AF") or []:
        spec = spec.get_object()
        if "/AFRelationship" not in spec:
            problems.append("6.8: an associated file has no AFRelationship")
        if "/F" not in spec or "/UF" not in spec:
            problems.append("6.8: an associated file has no /F and /UF names")
        stream = (spec.get("/EF") or {}).get("/F")
        stream = stream.get_object() if stream is not None else {}
        if "/Subtype" not in stream:
            problems.append("6.8: an embedded file has no MIME type")
        if "/ModDate" not in (stream.get("/Params") or {}):
            problems.append("6.8: an embedded file has no modification date")
    return sorted(set(problems))
