"""reports/svg_text.py reproduces one WeasyPrint release's SVG text drawing for plain runs and
is installed only on that release. Bumping the pin must not silently drop it (and ~0.1 s per
session report with it): this test fails until svg_text has been checked against the new
release and its WEASYPRINT_VERSION updated."""

import re
from pathlib import Path

import weasyprint
from django.conf import settings

from reports import svg_text


def test_the_pinned_weasyprint_is_the_release_svg_text_reproduces():
    requirements = (Path(settings.BASE_DIR) / "requirements" / "base.txt").read_text()
    pinned = re.search(r"^weasyprint==(\S+)$", requirements, re.MULTILINE | re.IGNORECASE)
    assert pinned, "weasyprint is no longer pinned in requirements/base.txt"
    assert pinned.group(1) == svg_text.WEASYPRINT_VERSION, (
        "WeasyPrint's pin changed: compare reports/svg_text.py with the new release's "
        "weasyprint/svg/text.py, then update svg_text.WEASYPRINT_VERSION"
    )
    assert weasyprint.__version__ == svg_text.WEASYPRINT_VERSION
