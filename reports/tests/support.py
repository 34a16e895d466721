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
