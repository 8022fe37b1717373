"""Figures everyone can read: alt text and a caption on every figure, a colour-blind-safe palette
with markers and hatches beside the colours, and text large enough to read at 200% zoom.

    from mlops_clinic import figures
    figures.use_style()                          # the kit's fonts and colour/marker cycle, in this kernel
    fig, ax = plt.subplots()
    ax.plot(x, y, **figures.series(0))           # colour + marker + line style: never colour alone
    figures.show(fig, alt="Line chart: ...", caption="Figure 1. ...")

Where the alt text goes, and why there: a notebook output carries the figure as PNG, and each tool
reads its text equivalent from a different place.
- The output's metadata for "image/png", key `alt`: read by the kit's website (site/template),
  nbconvert's classic HTML template (`--template classic`) and nbsphinx.
- The output's `text/plain`: MyST's own theme (Jupyter Book 2) writes it as the `alt` of the
  <img>, so `show` puts the alt text there too (matplotlib's own is "<Figure size ...>").
- JupyterLab 4, and nbconvert's default "lab" HTML template, show an image output without any alt
  attribute, whatever the metadata says: there the caption, printed as text right under the
  figure, is what a screen reader reads. So the caption says what the figure shows and what to
  take from it, not only its title.

One palette for the whole kit: Okabe and Ito's eight colours (2008), distinguishable with the common
colour-vision deficiencies, always paired with a marker, a line style or a hatch.
"""

from __future__ import annotations

import base64
import contextlib
import io
from typing import Iterator

from mlops_clinic.errors import ClinicError

# Okabe, M. and Ito, K. (2008) Color Universal Design: How to make figures and presentations that
# are friendly to colorblind people. The order is the cycle's: strong contrast between neighbours.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish green": "#009E73",
    "vermillion": "#D55E00",
    "sky blue": "#56B4E9",
    "reddish purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLOURS = tuple(PALETTE.values())
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3)))
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
GREY = "#595959"  # text and edges that are not data: 7:1 on white
TEXT = "#111827"

# Text sizes in points. At 100 dpi, 11 pt is 15 pixels: still legible when the page is zoomed to
# 200% and the PNG is scaled with it.
MIN_FONT_PT = 11
STYLE = {
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.title_fontsize": 11,
    "figure.titlesize": 14,
    "axes.titleweight": "bold",
    "lines.linewidth": 2,
    "lines.markersize": 7,
    "axes.edgecolor": GREY,
}
DPI = 100


class FigureTextMissing(ClinicError):
    """A figure shown without its alt text or caption."""


def series(index: int) -> dict:
    """Matplotlib keywords for the index-th series of a line chart: colour, marker and line style
    all change together, so two series differ in shape even in black and white."""
    return {"color": COLOURS[index % len(COLOURS)], "marker": MARKERS[index % len(MARKERS)],
            "linestyle": LINESTYLES[index % len(LINESTYLES)]}


def bar_style(index: int) -> dict:
    """Keywords for the index-th group of bars (or areas): colour and hatch change together."""
    return {"color": COLOURS[index % len(COLOURS)], "hatch": HATCHES[index % len(HATCHES)],
            "edgecolor": "white" if HATCHES[index % len(HATCHES)] == "" else "#1f1f1f"}


def sequential_colormap():
    """For counts and intensities (heatmaps): white to the palette's blue, one hue, so the order
    reads in lightness alone (and in grey). Write the numbers in the cells as well."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("clinic-sequential", ["#ffffff", PALETTE["blue"]])


def text_colour_on(background) -> str:
    """Black or white, whichever contrasts more with `background` (any matplotlib colour): for
    numbers written on the cells of a heatmap. Pure black, not TEXT: with it the worst background
    still gives 4.5:1 (WCAG AA for normal text), with TEXT's dark grey mid-blues fall to about 4:1."""
    from matplotlib.colors import to_rgb

    def luminance(rgb) -> float:  # WCAG 2 relative luminance
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lum = luminance(to_rgb(background))
    on_black_text = (lum + 0.05) / 0.05
    on_white_text = 1.05 / (lum + 0.05)
    return "#000000" if on_black_text >= on_white_text else "#ffffff"


def _rc() -> dict:
    from cycler import cycler

    n = 7  # the yellow and black stay out of the cycle: yellow is faint on white, black reads as text
    return {**STYLE, "axes.prop_cycle": cycler(color=COLOURS[:n]) + cycler(marker=MARKERS[:n])
            + cycler(linestyle=LINESTYLES[:n])}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The kit's style for the figures drawn inside the block (the library's own figures)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(_rc()):
        yield


def use_style() -> None:
    """The kit's style for every figure drawn from now on in this kernel (a lesson's first figure cell)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(_rc())


def small_text(fig, minimum: float = MIN_FONT_PT) -> list[str]:
    """The texts of `fig` smaller than `minimum` points, as "'text' (size pt)" (tests use it)."""
    from matplotlib.text import Text

    found = []
    for artist in fig.findobj(Text):
        if artist.get_visible() and artist.get_text().strip() and artist.get_fontsize() < minimum:
            found.append(f"{artist.get_text()!r} ({artist.get_fontsize():g} pt)")
    return found


def png(fig, dpi: int = DPI, colors: int | None = 64) -> bytes:
    """The figure as PNG bytes, and the figure closed. No software/date metadata, so the same chart
    gives the same bytes; reduced to a palette of `colors` (a chart has few), which makes the PNG
    about four times smaller in a committed notebook or an e-mailed report."""
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    if colors is None:
        return buffer.getvalue()
    small = io.BytesIO()
    Image.open(buffer).convert("RGB").quantize(colors=colors).save(small, format="PNG", optimize=True)
    return small.getvalue()


def output(fig, alt: str, dpi: int = DPI) -> tuple[dict, dict]:
    """The figure as a notebook output: (data, metadata) with the PNG, the alt text as text/plain
    and as the image's `alt` metadata. Closes the figure."""
    data = {"image/png": base64.b64encode(png(fig, dpi)).decode("ascii"), "text/plain": alt}
    return data, {"image/png": {"alt": alt}}


def show(fig, *, alt: str, caption: str, dpi: int = DPI) -> None:
    """Show `fig` under the cell with its alt text (a short description of what it shows, for
    screen readers and the website) and its caption as text below it. Outside a notebook, prints
    both."""
    alt, caption = _required(alt, "alt"), _required(caption, "caption")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        data, metadata = output(fig, alt, dpi)
        display(data, raw=True, metadata=metadata)
    else:
        import matplotlib.pyplot as plt

        plt.close(fig)
        print(f"[Figure: {alt}]")
    print(caption)


def _required(text: str, name: str) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        what = ("a sentence that says what the figure shows (the chart type, the axes, the pattern)"
                if name == "alt" else "the sentence under the figure: what to take from it")
        raise FigureTextMissing(f"figures.show() needs its {name} text, and it is empty.", fix=f"give {name}=\"...\": {what}.")
    return text
