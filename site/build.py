"""Build the kit's website with Jupyter Book 2: `python site/build.py [OUT]` (what `make site` runs).

Jupyter Book writes its `_build/` next to its `myst.yml`, so the book is staged in a folder of its own
beside OUT (`build/site-src/` for `build/site/`): the configuration of site/, a home page with the
table of modules, the lessons and exercises from the course catalogue, and links to the folders the
pages come from. Nothing is written outside OUT and that folder. The notebooks are never executed:
the lessons show their committed outputs. Jupyter Book runs on Node.js, which must be installed; it
is never downloaded (JB_ALLOW_NODEENV=no).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from mlops_clinic import catalogue, paths

SITE_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = SITE_DIR / "template"
# The repository folders the pages come from or link to; solutions/ is deliberately not one of them.
LINKED_FOLDERS = ("notebooks", "exercises", "datasets", "docs", "src")
MODULES_MARKER = "<!-- site/build.py puts the table of modules here, from the notebooks' metadata -->"
NODE_HELP = ("install Node.js 18 or newer from your system's packages (Debian, Ubuntu: "
             "`apt-get install nodejs`; macOS: `brew install node`) and run `make site` again")


class SiteError(Exception):
    """A reason the site cannot be built, with what to do about it."""


def node_version() -> tuple[int, ...]:
    """The version of the `node` on PATH; SiteError when there is none."""
    node = shutil.which("node")
    if node is None:
        raise SiteError(f"Node.js is needed to build the website and `node` is not on PATH: {NODE_HELP}.")
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    match = re.match(r"v(\d+)\.(\d+)", out)
    if not match:
        raise SiteError(f"`{node} --version` said {out!r}, not a Node.js version: {NODE_HELP}.")
    return tuple(int(part) for part in match.groups())


def check_node() -> None:
    # Jupyter Book accepts Node 18, 20 and 22 or newer; with any other it would offer to download one.
    major = node_version()[0]
    if major < 18 or major in (19, 21):
        raise SiteError(f"Jupyter Book needs Node.js 18, 20 or 22 or newer; this one is {major}: {NODE_HELP}.")


def course_toc() -> list[dict]:
    """The "Lessons" and "Exercises" parts of the table of contents, in course order."""
    modules = catalogue.course().modules().values()
    lessons = [{"file": f"notebooks/{m.lesson.name}"} for m in modules]
    exercises = [{"file": f"exercises/{m.exercise_path.name}"} for m in modules if m.exercise_path]
    return [{"title": "Lessons", "children": lessons}, {"title": "Exercises", "children": exercises}]


def book_config() -> dict:
    """site/myst.yml with the course's parts inserted after the setup page and the template's path."""
    config = yaml.safe_load((SITE_DIR / "myst.yml").read_text(encoding="utf-8"))
    toc = config["project"]["toc"]
    after_setup = next(i for i, entry in enumerate(toc) if entry.get("file") == "docs/setup.md") + 1
    toc[after_setup:after_setup] = course_toc()
    config["site"]["template"] = str(TEMPLATE_DIR)
    return config


def modules_table() -> str:
    """The home page's table of modules: lesson, exercises and minutes, from the notebooks' metadata."""
    rows = ["| Module | Lesson | Exercises | Minutes |", "|---|---|---|---|"]
    for module in catalogue.course().modules().values():
        lesson = f"[{module.lesson.title}](notebooks/{module.lesson.name})"
        exercises = f"[Exercises](exercises/{module.exercise_path.name})" if module.exercise_path else "—"
        rows.append(f"| {module.id} | {lesson} | {exercises} | {module.lesson.minutes} |")
    return "## The modules\n\n" + "\n".join(rows)


def home_page() -> str:
    text = (SITE_DIR / "index.md").read_text(encoding="utf-8")
    if MODULES_MARKER not in text:
        raise SiteError(f"site/index.md has lost the line `{MODULES_MARKER}`: put it back where the "
                        "table of modules goes.")
    return text.replace(MODULES_MARKER, modules_table())


def stage(book: Path) -> None:
    """The book's folder: its configuration, its home page, and links to the repository's folders."""
    book.mkdir(parents=True, exist_ok=True)
    (book / "myst.yml").write_text(yaml.safe_dump(book_config(), sort_keys=False, allow_unicode=True),
                                   encoding="utf-8")
    (book / "index.md").write_text(home_page(), encoding="utf-8")
    for name in LINKED_FOLDERS:
        link, target = book / name, paths.REPO_ROOT / name
        if link.is_symlink() and link.readlink() != target:
            link.unlink()  # a copy of the repository elsewhere: follow this one
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)


def run_jupyter_book(book: Path) -> None:
    env = {**os.environ,
           "JB_ALLOW_NODEENV": "no",  # never download Node.js: use the system's or stop
           "CLINIC_SITE_PYTHON": sys.executable}  # runs the template's renderer
    done = subprocess.run([sys.executable, "-m", "jupyter_book", "build", "--html"], cwd=book, env=env,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SiteError(f"Jupyter Book failed (exit {done.returncode}); its messages are above.")


def build(out: Path, book: Path | None = None) -> Path:
    """Build the website into `out` (replaced whole); the book is staged in `book` (default: OUT-src)."""
    out = Path(out).resolve()
    book = Path(book).resolve() if book else out.with_name(out.name + "-src")
    check_node()
    stage(book)
    run_jupyter_book(book)
    html = book / "_build" / "html"
    if not (html / "index.html").is_file():
        raise SiteError(f"Jupyter Book finished but wrote no {html / 'index.html'}; its messages are above.")
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(str(html), str(out))
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else paths.REPO_ROOT / "build" / "site"
    try:
        built = build(out)
    except (SiteError, catalogue.CourseError) as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in built.rglob("*.html"))
    print(f"site: {pages} pages in {built}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
