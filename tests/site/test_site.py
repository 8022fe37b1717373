"""The kit as a website (`make site`): built once into a temporary folder by the same script, then
read as a visitor would. Every internal link and anchor resolves, every lesson and exercise of the
course catalogue has its page with a Binder link, no answer reaches the site, a real Chromium shows
the home page and a lesson (title, outputs, search), and axe-core finds no serious or critical
accessibility problem on any page.

Needs Node.js (Jupyter Book runs on it) and, for the browser tests, Debian's Chromium (chromium.py)
and npm (axe-core is installed, pinned, into .cache/npm-axe/ of the repository).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from chromium import chromium, needs_chromium
from mlops_clinic import catalogue, paths

pytestmark = pytest.mark.slow

NODE_HELP = "install Node.js 18 or newer (Debian: `apt-get install nodejs npm`; .ci/run does it as root)"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason=f"Node.js is not installed: {NODE_HELP}")

AXE_VERSION = "4.14.1"
AXE_DIR = paths.REPO_ROOT / ".cache" / "npm-axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
# Serious or critical findings are allowed nowhere: the course's figures carry alt text
# (mlops_clinic/figures.py), and the rest of the site is the kit's own template.
BINDER_PREFIX = "https://mybinder.org/v2/gh/"
GITHUB_FILE = re.compile(rf"^https://github\.com/{re.escape(paths.repository())}/(?:blob|tree)/HEAD/(?P<path>.+)$")


# --- the site, built once -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if shutil.which("node") is None:
        pytest.skip(f"Node.js is not installed: {NODE_HELP}")
    out = tmp_path_factory.mktemp("website") / "site"
    done = subprocess.run([sys.executable, str(paths.REPO_ROOT / "site" / "build.py"), str(out)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"the site did not build:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def pages(site) -> dict[str, BeautifulSoup]:
    """Every HTML page of the site, parsed, by its path in the site ("notebooks/serving.html")."""
    return {p.relative_to(site).as_posix(): BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser")
            for p in sorted(site.rglob("*.html"))}


def binder_target(page: BeautifulSoup) -> str | None:
    """The repository file a page's Binder link opens ("notebooks/03_serving.ipynb")."""
    link = page.select_one("a.launch-binder")
    if link is None:
        return None
    return link["href"].partition("urlpath=lab/tree/")[2] or None


def source_of(page: BeautifulSoup) -> str | None:
    """The repository file a page shows, from its "See the source" link ("notebooks/03_serving.ipynb")."""
    link = page.select_one("a.source")
    match = GITHUB_FILE.match(link["href"]) if link else None
    return match["path"] if match else None


def page_of(pages: dict[str, BeautifulSoup], notebook: Path) -> tuple[str, BeautifulSoup]:
    """The page of the site that shows a file of the repository."""
    wanted = notebook.relative_to(paths.REPO_ROOT).as_posix()
    found = [(name, page) for name, page in pages.items() if source_of(page) == wanted]
    assert len(found) == 1, f"{wanted}: expected one page of the site, found {[n for n, _ in found]}"
    return found[0]


# --- the pages and their links --------------------------------------------------------------------------
@needs_node
def test_every_lesson_and_exercise_of_the_catalogue_has_its_page(site, pages):
    modules = catalogue.course().modules().values()
    assert modules, "the course catalogue lists no module"
    for module in modules:
        for notebook in (module.lesson.path, module.exercise_path):
            if notebook is None:
                continue
            name, page = page_of(pages, notebook)
            assert page.h1.get_text().startswith(module.id), f"{name}: the heading does not name module {module.id}"
            assert page.select("main .cell.code pre.highlight"), f"{name}: shows no code cell of {notebook.name}"
            download = page.select_one("a[download]")
            assert download is not None, f"{name}: no link to download the notebook"
            offered = (site / name).parent / download["href"]
            assert offered.read_bytes() == notebook.read_bytes(), f"{name}: offers another notebook than {notebook.name}"
    for extra in ("datasets/README.md", "docs/setup.md", "docs/instructors/guide.md",
                  "docs/instructors/agenda-one-day.md", "docs/instructors/agenda-half-day.md"):
        page_of(pages, paths.REPO_ROOT / extra)


@needs_node
def test_every_internal_link_and_anchor_resolves(site, pages):
    ids = {name: {tag["id"] for tag in page.find_all(id=True)} for name, page in pages.items()}
    broken, checked = [], 0
    for name, page in pages.items():
        for tag, attribute in [("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")]:
            for element in page.find_all(tag, attrs={attribute: True}):
                url = element[attribute]
                checked += 1
                problem = link_problem(site, name, url, ids)
                if problem:
                    broken.append(f"{name}: {url} ({problem})")
    assert checked > 500, f"only {checked} links found: is the site empty?"
    assert not broken, "broken links:\n" + "\n".join(broken)


def link_problem(site: Path, page: str, url: str, ids: dict[str, set[str]]) -> str | None:
    """Why a link of the page does not resolve, or None when it does."""
    github = GITHUB_FILE.match(url)
    if github:  # a repository file the site does not publish: it must exist in the repository
        return None if (paths.REPO_ROOT / github["path"]).exists() else "no such file in the repository"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None  # the web: not checked offline
    target = page if not parts.path else os.path.normpath(os.path.join(os.path.dirname(page), unquote(parts.path)))
    if target.startswith(".."):
        return "outside the site"
    if not (site / target).is_file():
        return "no such file in the site"
    if parts.fragment and parts.fragment not in ids.get(target, set()):
        return f"no id {parts.fragment!r} on {target}"
    return None


@needs_node
def test_every_page_has_a_binder_link_to_what_it_shows(pages):
    for name, page in pages.items():
        link = page.select_one("a.launch-binder")
        assert link is not None, f"{name}: no Binder link"
        target = binder_target(page)
        assert target and (paths.REPO_ROOT / target).is_file(), f"{name}: the Binder link opens {target!r}"
        assert link["href"] == paths.binder_url(target), f"{name}: not the link paths.binder_url gives"
        # A page opens its own file; the home and search pages open the course's first notebook.
        assert target == (source_of(page) or "notebooks/00_welcome.ipynb"), f"{name}: opens {target}"
        assert not target.startswith("solutions/"), f"{name}: the Binder link opens a solution"


@needs_node
def test_no_answer_reaches_the_site(site, pages):
    # Not a marker anywhere: pages, search index, notebooks to download.
    for file in site.rglob("*"):
        if file.is_file() and file.suffix in (".html", ".js", ".json", ".ipynb"):
            text = file.read_text(encoding="utf-8", errors="replace")
            for marker in (catalogue.BEGIN, catalogue.END, "BEGIN SOLUTION"):
                assert marker not in text, f"{file.relative_to(site)} contains {marker!r}"
    # And not a line of a solution region on an exercise page, unless the exercise itself has it.
    for module in catalogue.course().modules().values():
        if module.solution is None:
            continue
        name, page = page_of(pages, module.exercise_path)
        shown = page.main.get_text()
        exercise = "\n".join("".join(cell["source"]) for cell in
                             json.loads(module.exercise_path.read_text(encoding="utf-8"))["cells"])
        leaked = [line for line in solution_lines(module.solution.path) if line in shown and line not in exercise]
        assert not leaked, f"{name} shows lines of the solution: {leaked}"


def solution_lines(solution: Path) -> set[str]:
    cells = json.loads(solution.read_text(encoding="utf-8"))["cells"]
    return {line.strip() for i, cell in enumerate(cells) if cell["cell_type"] == "code"
            for line in catalogue.region_lines("".join(cell["source"]), f"{solution.name} cell {i}")
            if line.strip()}


def test_a_missing_node_is_named_with_the_fix(tmp_path):
    out = tmp_path / "site"
    env = {**os.environ, "PATH": str(tmp_path / "empty")}  # no node, no npm
    done = subprocess.run([sys.executable, str(paths.REPO_ROOT / "site" / "build.py"), str(out)],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert "Node.js" in done.stderr and "apt-get install nodejs" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and not (tmp_path / "site-src").exists(), "wrote something before the check"


# --- in a real browser ----------------------------------------------------------------------------------
@contextlib.contextmanager
def served(site: Path):
    """The site over HTTP on the loopback, as a web host serves it (a thread of this process)."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser_page(site, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with served(site) as url, sync_playwright() as playwright, \
            chromium(playwright, tmp_path_factory.mktemp("browser")) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield url, page


@needs_node
@needs_chromium
def test_the_home_page_renders_and_searches(browser_page):
    from playwright.sync_api import expect

    url, page = browser_page
    page.goto(url)
    expect(page).to_have_title("MLOps Clinic")
    expect(page.locator("h1")).to_have_text("MLOps Clinic")
    expect(page.get_by_role("link", name=catalogue.course().modules()["03"].lesson.title, exact=True)).to_be_visible()
    search = page.get_by_role("searchbox", name="Search the course")
    expect(search).to_be_visible()
    search.fill("champion alias")
    search.press("Enter")
    page.wait_for_url(re.compile(r"/search\.html\?q="))
    results = page.locator("#search-results li a")
    expect(results.first).to_be_visible()
    assert results.count() > 3, "a search for the champion alias found almost nothing"
    results.first.click()
    expect(page.locator("main h1")).to_be_visible()


@needs_node
@needs_chromium
def test_a_lesson_page_renders_its_code_and_outputs(browser_page, pages):
    from playwright.sync_api import expect

    url, page = browser_page
    lesson = catalogue.course().modules()["02"].lesson
    name, _ = page_of(pages, lesson.path)
    page.goto(url + name)
    expect(page).to_have_title(re.compile(re.escape(lesson.title)))
    expect(page.locator("h1")).to_contain_text(lesson.title)
    expect(page.get_by_role("link", name="Launch this notebook on Binder")).to_be_visible()
    expect(page.locator("pre.highlight").first).to_be_visible()
    output = page.locator(".outputs pre.output").first
    expect(output).to_be_visible()
    assert output.inner_text().strip(), "the first output is empty"
    expect(page.locator(".outputs img").first).to_be_visible()  # the figure the lesson draws
    expect(page.get_by_role("searchbox", name="Search the course")).to_be_visible()


# --- the accessibility audit ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core from the npm registry, pinned, installed once into .cache/npm-axe/."""
    installed = AXE_DIR / "node_modules" / "axe-core" / "package.json"
    if installed.is_file() and json.loads(installed.read_text())["version"] == AXE_VERSION:
        return AXE_SCRIPT
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(f"npm is not installed: {NODE_HELP}")
    env = {**os.environ, "npm_config_cache": str(paths.REPO_ROOT / ".cache" / "npm"),
           "npm_config_update_notifier": "false"}
    done = subprocess.run([npm, "install", "--prefix", str(AXE_DIR), "--no-save", "--no-audit", "--no-fund",
                           f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        message = f"axe-core {AXE_VERSION} could not be installed from the npm registry:\n{done.stderr[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI reaches the registry: a skipped audit there would hide a failure
        pytest.skip(message + "\n(offline? the audit needs the npm registry once)")
    return AXE_SCRIPT


@needs_node
@needs_chromium
def test_no_page_has_a_serious_or_critical_accessibility_violation(browser_page, pages, axe_script):
    url, page = browser_page
    found: dict[tuple[str, str], list[str]] = {}
    counts: dict[str, int] = {}
    for name in pages:
        page.goto(url + name)
        page.add_script_tag(path=str(axe_script))
        for violation in page.evaluate("() => axe.run({resultTypes: ['violations']}).then(r => r.violations)"):
            counts[violation["impact"]] = counts.get(violation["impact"], 0) + len(violation["nodes"])
            if violation["impact"] in BLOCKING_IMPACTS:
                found[(violation["id"], name)] = [" ".join(node["target"]) for node in violation["nodes"]]
    print(f"axe-core {AXE_VERSION} on {len(pages)} pages, elements by impact: {counts}")
    assert not found, "serious or critical accessibility violations:\n" + "\n".join(
        f"{rule} on {name}: {targets}" for (rule, name), targets in found.items())
