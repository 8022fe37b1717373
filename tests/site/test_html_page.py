"""The one HTML writer of the kit's reports: every text escaped once, one page for every report."""

import html

from mlops_clinic.batch.grade import grades_html
from mlops_clinic.batch.report import summary_html
from mlops_clinic.html_page import STYLE, Cell, element, heading, item_list, page, paragraph, table
from mlops_clinic.maturity.document import to_html

HOSTILE = "<script>alert('x')</script> & \"quoted\""  # a participant's name or error can be anything


def test_every_text_is_escaped_once_and_markup_made_here_is_kept():
    written = page(HOSTILE, [heading(2, HOSTILE), paragraph(HOSTILE), item_list([HOSTILE], ordered=True),
                             table([HOSTILE], [[HOSTILE, Cell(HOSTILE, number=True),
                                                element("a", HOSTILE, href=HOSTILE)]])])
    assert "<script>" not in written
    # title, heading, paragraph, list item, header, two cells, the link's text and its address
    assert written.count(html.escape(HOSTILE)) == 9
    assert "&amp;lt;" not in written  # not escaped twice
    assert "<td class='n'>" in written and "<a href='" in written and "<ol><li>" in written


def test_maturity_batch_and_grade_reports_are_pages_of_the_one_writer():
    record = {"id": "r1", "participant": HOSTILE, "submission": "p01.ipynb", "status": "failed",
              "error": HOSTILE, "questions": {"q1": "correct"}}
    pages = {"maturity": to_html([("h", 1, HOSTILE), ("p", HOSTILE)], images={}, title=HOSTILE),
             "batch summary": summary_html([record]), "grades": grades_html([record])}
    for name, written in pages.items():
        assert written.startswith("<!DOCTYPE html>\n<html lang='en'>"), name
        assert f"<style>{STYLE}</style>" in written, name
        assert html.escape(HOSTILE) in written and "<script>" not in written, name
