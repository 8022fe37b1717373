"""Figures everyone can read, and check feedback in words.

figures.show puts a figure's alt text where the kit's website and nbconvert's classic template (the
output's "image/png" metadata) and MyST's own theme (the image output's text/plain) read it, and its
caption as text under it; a figure without either is refused. The palette never rests on colour
alone. Every figure the library draws is listed here, goes out with alt text and a caption, and has
no text under MIN_FONT_PT. A check's feedback says its outcome in words, in a role="status" region.
"""

import ast
import html
import itertools
import re
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pytest

from mlops_clinic import figures
from mlops_clinic.checks.core import Outcome, Status
from mlops_clinic.errors import ClinicError
from mlops_clinic.execute import ExecutionOptions, execute_notebook
from mlops_clinic.maturity import ENV_VAR
from mlops_clinic.maturity.answers import Answers
from mlops_clinic.maturity.cohort import heatmap, heatmap_alt, heatmap_caption, load_cohort, write_cohort_report
from mlops_clinic.maturity.report import gather, radar_alt, radar_caption, radar_chart, show_radar
from mlops_clinic.maturity.storage import AnswerStore
from mlops_clinic.workspace import Workspace

SRC = Path(figures.__file__).parent
ALT = "Line chart: validation error per month, falling from 30 to 12 thousand pounds"
CAPTION = "Figure 1. The error falls every month: retraining works."
# Every function of the library that draws a figure (module, function), and how it is described.
LIBRARY_FIGURES = {("maturity/report.py", "radar_chart"), ("maturity/cohort.py", "heatmap")}
ANSWERS = {"business": {"use_cases": 2, "value": 2, "continuity": 2},
           "data_versioning": {"exact_data": 1, "quality": 2, "lineage": 1, "retraining_data": 2}}


@pytest.fixture(autouse=True)
def no_answers_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def a_figure():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [30, 20, 12], **figures.series(0))
    return fig


# --- figures.show ----------------------------------------------------------------------------------


def test_show_in_a_real_kernel_puts_the_alt_text_where_the_website_and_nbconvert_read_it(workspace, tmp_path):
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nfrom mlops_clinic import figures\n\nfigures.use_style()\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2, 3], [30, 20, 12], **figures.series(0))\n"
        f"figures.show(fig, alt={ALT!r}, caption={CAPTION!r})")]
    source = tmp_path / "figure.ipynb"
    nbformat.write(notebook, source)
    result = execute_notebook(source, tmp_path / "out.ipynb", parameters={}, env=workspace.env(), cwd=tmp_path,
                              options=ExecutionOptions(cell_timeout_s=300))
    assert result.ok, f"{result.status}: {result.error} (log {result.log_path})"
    executed = nbformat.read(result.output_path, as_version=4)
    image, caption = executed.cells[0].outputs
    assert image["output_type"] == "display_data" and image["data"]["image/png"]
    assert image["data"]["text/plain"] == ALT, "MyST's theme writes text/plain as the <img> alt"
    assert image["metadata"]["image/png"]["alt"] == ALT
    assert caption["output_type"] == "stream" and caption["text"] == CAPTION + "\n"
    assert "<Figure size" not in nbformat.writes(executed), "matplotlib's own text/plain would be the alt"

    page, _ = HTMLExporter(template_name="classic").from_notebook_node(executed)
    [image_tag] = re.findall(r"<img\b[^>]*>", page)
    assert f'alt="{html.escape(ALT)}"' in image_tag and 'src="data:image/png;base64,' in image_tag
    lab_page, _ = HTMLExporter(template_name="lab").from_notebook_node(executed)
    assert CAPTION in lab_page, "the lab template drops the alt: the caption is the text there"


def test_show_outside_a_notebook_prints_the_alt_text_and_the_caption(capsys):
    figures.show(a_figure(), alt=ALT, caption=CAPTION)
    assert capsys.readouterr().out == f"[Figure: {ALT}]\n{CAPTION}\n"
    assert plt.get_fignums() == [], "the figure is closed, not left for a second display"


@pytest.mark.parametrize("missing", ["alt", "caption"])
@pytest.mark.parametrize("empty", ["", "   \n", None])
def test_a_figure_without_alt_text_or_caption_is_refused_in_words(missing, empty):
    texts = {"alt": ALT, "caption": CAPTION, missing: empty}
    fig = a_figure()
    with pytest.raises(figures.FigureTextMissing) as raised:
        figures.show(fig, **texts)
    assert isinstance(raised.value, ClinicError)
    assert raised.value.message == f"figures.show() needs its {missing} text, and it is empty."
    assert raised.value.fix.startswith(f'give {missing}="...": ')
    plt.close(fig)


def test_the_output_bundle_replaces_matplotlibs_text(capsys):
    data, metadata = figures.output(a_figure(), ALT)
    assert data["text/plain"] == ALT and metadata == {"image/png": {"alt": ALT}}
    assert data["image/png"].startswith("iVBORw0KGgo")  # base64 of a PNG's signature


# --- colour never alone, text large enough ---------------------------------------------------------


def test_no_two_series_differ_by_colour_alone():
    n = len(figures.COLOURS)
    assert figures.COLOURS == ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
                               "#000000"), "Okabe and Ito's palette, defined once"
    for i, j in itertools.combinations(range(n), 2):
        a, b = figures.series(i), figures.series(j)
        assert a["marker"] != b["marker"] and a["linestyle"] != b["linestyle"], (i, j)
        assert figures.bar_style(i)["hatch"] != figures.bar_style(j)["hatch"], (i, j)


def test_lines_drawn_in_the_kits_style_get_a_marker_and_line_style_each():
    with figures.style():
        fig, ax = plt.subplots()
        lines = [ax.plot([0, 1], [k, k + 1])[0] for k in range(4)]
    shapes = {(line.get_marker(), str(line.get_linestyle())) for line in lines}
    assert len(shapes) == 4 and all(line.get_marker() not in ("None", "", None) for line in lines)
    plt.close(fig)


def test_numbers_on_a_heatmap_cell_keep_a_readable_contrast():
    from matplotlib.colors import to_rgb

    def luminance(colour):
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    cmap = figures.sequential_colormap()
    for step in range(11):
        background = cmap(step / 10)
        light, dark = sorted([luminance(background), luminance(figures.text_colour_on(background))])
        assert (dark + 0.05) / (light + 0.05) >= 4.5, f"contrast too low at {step / 10:.1f}"


def test_small_text_finds_text_under_the_minimum():
    fig, ax = plt.subplots()
    ax.set_title("readable", fontsize=figures.MIN_FONT_PT)
    ax.text(0, 0, "tiny", fontsize=8)
    assert figures.small_text(fig) == ["'tiny' (8 pt)"]
    plt.close(fig)


# --- the library's own figures ---------------------------------------------------------------------


def _functions_drawing_figures() -> set[tuple[str, str]]:
    """(module path, function) of every function under src/mlops_clinic that creates a figure."""
    found = set()
    for path in SRC.rglob("*.py"):
        if path.name == "figures.py":
            continue
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                        and call.func.attr in ("subplots", "figure", "subplot_mosaic"):
                    found.add((path.relative_to(SRC).as_posix(), function.name))
    return found


def test_every_figure_the_library_draws_is_described_here():
    """A new figure function must join LIBRARY_FIGURES, and so the tests below, with alt text and
    a caption of its own."""
    assert _functions_drawing_figures() == LIBRARY_FIGURES


def a_cohort(tmp_path):
    inputs = []
    for name, level in (("alice", 1), ("bilal", 3)):
        workspace = Workspace(tmp_path / name).create()
        AnswerStore(workspace).update(Answers({"business": {"use_cases": level, "value": 2, "continuity": level}}))
        inputs.append(workspace.root)
    return load_cohort(inputs)


@pytest.mark.parametrize("answers", [None, ANSWERS], ids=["example", "answered"])
def test_the_radar_chart_has_alt_text_a_caption_and_readable_text(workspace, answers, capsys):
    profile = gather(answers, workspace=workspace).profile
    fig = radar_chart(profile)
    assert figures.small_text(fig) == []
    level, average = fig.axes[0].get_lines()[:2]
    assert (level.get_marker(), level.get_linestyle()) != (average.get_marker(), average.get_linestyle())
    plt.close(fig)
    alt, caption = radar_alt(profile), radar_caption(profile)
    for dimension in profile.dimensions:
        assert dimension.dimension.name in alt, "the alt text gives every dimension"
    assert caption.startswith("Figure: ") and profile.weakest().dimension.name in caption
    show_radar(profile)
    assert capsys.readouterr().out == f"[Figure: {alt}]\n{caption}\n"


def test_the_cohort_heatmap_has_alt_text_a_caption_and_readable_text(tmp_path):
    cohort = a_cohort(tmp_path)
    fig = heatmap(cohort)
    assert figures.small_text(fig) == []
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert len(cells) == len(cohort.bank.dimensions) * (len(cohort.bank.levels) + 1), "a number in every cell"
    plt.close(fig)
    alt, caption = heatmap_alt(cohort), heatmap_caption(cohort)
    assert alt.startswith("Heatmap of 2 participants") and "Business alignment and AI strategy: " in alt
    page = (write_cohort_report(cohort, tmp_path / "report").html).read_text()
    assert f"alt='{html.escape(alt)}'" in page and html.escape(caption) in page


# --- a check's feedback ----------------------------------------------------------------------------


@pytest.mark.parametrize("status, words", [(Status.CORRECT, "✓ Correct"), (Status.WRONG, "✗ Not yet"),
                                           (Status.NOT_ATTEMPTED, "○ Not attempted")])
def test_a_checks_feedback_is_words_in_a_status_region(status, words):
    outcome = Outcome("m00.q1", status, "Look at the median, not the mean.")
    markup = outcome._repr_html_()
    assert markup.startswith('<div role="status" ')
    without_tags = html.unescape(re.sub(r"<[^>]+>", "", markup))
    assert without_tags == outcome.text() and without_tags.startswith(words + " (m00.q1)"), \
        "the words carry the outcome; the colour only repeats them"
