"""Hints teach the method and never paste the answer.

Each question's hints go from gentle to specific, and the most specific one shows the method (the
API, what it takes and returns, where the lesson did the same), not a line to copy. The test reads
the answers from the solution notebooks themselves: the code between the solution markers that
comes before the question's `qN.check(...)`. From each line of it (comments, imports and
signatures left out) it takes the line, the value of an assignment or a return, and the command
of a sh("..."). A hint tier that holds one of them, give or take spaces and the kind of quotes,
gives the answer away. The same answer written with other names is for the reviewer to see.

The "Not yet" messages follow the same rule: they name the mistake and the method, and may quote an
answer line only where the exercise notebook shows it anyway (a command its instructions give).
"""

from __future__ import annotations

import ast
import copy
import importlib
import io
import json
import pkgutil
import re
import textwrap
import tokenize
from functools import cache
from pathlib import Path

import pytest

import mlops_clinic.checks as checks_package
from mlops_clinic import catalogue, paths
from mlops_clinic.checks import Question
from mlops_clinic.checks.core import solution_code

# Shorter than this ("dvc push", "house = {}"), a line says too little to give an exercise away;
# "run.info.run_id" is just long enough.
MIN_CHARS = 15
CHECK_CALL = re.compile(r"\b(\w+)\.check\(")
# `name = value`, `a, b = value`, `table["key"] = value`, `total += value`: the value is the answer too.
ASSIGNMENT = re.compile(r"^[A-Za-z_][\w.]*(?:\[[^\]]*\])*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*[-+*/%]?=\s+(.+)$")
RETURN = re.compile(r"^return\s+(.+)$")
# The solutions write a shell command as sh("..."); an exercise types it as !...
SHELL = re.compile(r"""\bsh\(f?(["'])(.+?)\1\)""")
TRIVIAL = re.compile(r"^(?:import\s|from\s+\S+\s+import\s|def\s|async\s+def\s|class\s|@)")
# A value that only calls a function without arguments names the API to use: the method, which a
# hint may name (the whole line, `log = inference_log.read_predictions()`, it may not write).
API_NAME = re.compile(r"^[A-Za-z_][\w.]*\(\)$")


def registered_questions() -> list[Question]:
    questions = []
    for info in pkgutil.iter_modules(checks_package.__path__):
        if info.name.startswith("m") and info.name[1:].isdigit():
            questions += importlib.import_module(f"mlops_clinic.checks.{info.name}").QUESTIONS
    return questions


QUESTIONS = registered_questions()


def _ids(questions):
    return [question.id for question in questions]


@cache
def solution_regions(module: str) -> dict[str, tuple[str, ...]]:
    """{question name: the lines of the solution regions that its check follows} for a module:
    each region belongs to the first `name.check(` after it, in its own cell or a later one."""
    found = sorted(paths.SOLUTIONS_DIR.glob(f"{module}_*.ipynb"))
    assert len(found) == 1, f"module {module}: expected one solution notebook, found {len(found)}"
    notebook = found[0]
    regions: dict[str, list[str]] = {}
    pending: list[str] = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        inside = False
        for line in "".join(cell["source"]).splitlines():
            marker = line.strip()
            if marker in (catalogue.BEGIN, catalogue.END):
                inside = marker == catalogue.BEGIN
            elif inside:
                pending.append(line)
            else:
                for name in CHECK_CALL.findall(line):
                    if pending:
                        regions.setdefault(name, []).extend(pending)
                        pending = []
    return {name: tuple(lines) for name, lines in regions.items()}


def _without_comments(code: str) -> list[str]:
    """The lines of `code` with their comments removed (a # inside a string stays)."""
    lines = code.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code + "\n").readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):  # then only whole-line comments go
        return ["" if line.lstrip().startswith("#") else line for line in lines]
    for token in reversed(tokens):  # from the end: a cut never shifts an earlier column
        if token.type == tokenize.COMMENT:
            row, column = token.start
            lines[row - 1] = lines[row - 1][:column]
    return lines


def answer_lines(region: tuple[str, ...] | list[str]) -> list[str]:
    """What a hint must not hold: each line of the solution (comments, imports and signatures
    left out), the value of each assignment or return (unless it only names a function to call),
    and the command of each sh("...")."""
    found: dict[str, None] = {}
    for line in _without_comments(textwrap.dedent("\n".join(region))):
        text = " ".join(line.split())
        if not text or TRIVIAL.match(text):
            continue
        pieces = [text]
        for pattern in (ASSIGNMENT, RETURN):
            matched = pattern.match(text)
            if matched and not API_NAME.match(matched.group(1).strip()):
                pieces.append(matched.group(1))
        pieces += [command for _, command in SHELL.findall(text)]
        for piece in pieces:
            piece = piece.strip()
            if len(piece) >= MIN_CHARS:
                found.setdefault(piece, None)
    return list(found)


def _squeezed(text: str) -> str:
    """Text as it is compared: no whitespace at all, and one kind of quote."""
    return re.sub(r"\s+", "", text).replace("'", '"')


def pasted_lines(question: Question, answers: list[str]) -> list[str]:
    """Each answer line that a hint tier of `question` holds, with the tier's number."""
    found = []
    for tier, hint in enumerate(question.hints, 1):
        for line in answers:
            if _squeezed(line) in _squeezed(hint):
                found.append(f"hint {tier}/{len(question.hints)} holds: {line}")
    return found


def answers_of(question: Question) -> list[str]:
    return answer_lines(solution_regions(question.module).get(question.name, ()))


# --- the real hints ---------------------------------------------------------------------------------


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_the_regions_read_here_are_the_questions_solutions(question):
    region = solution_regions(question.module).get(question.name)
    assert region, f"{question.id}: no solution region before {question.name}.check( in its notebook"
    assert "\n".join(region) == solution_code(question)
    assert answers_of(question), f"{question.id}: its solution has no line long enough to compare"


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_no_hint_pastes_a_line_of_the_solution(question):
    leaks = pasted_lines(question, answers_of(question))
    assert not leaks, (f"{question.id}: a hint gives the answer away; show the method instead "
                       "(the API, what it takes and returns, where the lesson does it):\n"
                       + "\n".join(leaks))


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_each_question_has_tiers_that_hint_shows_in_order(question, capsys):
    hints = question.hints
    assert len(hints) >= 2, f"{question.id}: {len(hints)} hint tier(s); give at least 2, gentle then specific"
    assert all(hint.strip() for hint in hints) and len(set(hints)) == len(hints)
    fresh = copy.copy(question)  # a copy: the registered question's count of hints shown stays as it is
    for _ in range(len(hints) + 1):
        fresh.hint()
    shown = capsys.readouterr().out.splitlines()
    tiers = list(range(1, len(hints) + 1)) + [len(hints)]  # once at the last tier, it stays there
    assert len(shown) == len(tiers)
    for line, tier in zip(shown, tiers):
        tier_text = f"Hint {tier}/{len(hints)} ({question.id}): {hints[tier - 1]}"
        assert line.startswith(tier_text), line
        # below the last tier, the line ends by pointing to the next one; at the last, it ends there
        assert bool(line.removeprefix(tier_text)) == (tier < len(hints)), line


# --- the detector itself ------------------------------------------------------------------------------


def _pasting(question: Question, hint: str) -> Question:
    """A question like `question` whose last tier is `hint`."""
    return Question(question.name, question.module, lambda *answers: None,
                    hints=[*question.hints[:-1], hint])


def _respelled(line: str) -> str:
    """The same line as a hint may write it: other spaces, other quotes."""
    return line.replace(", ", ",").replace(" = ", "=").replace('"', "'")


@pytest.mark.parametrize("question", QUESTIONS, ids=_ids(QUESTIONS))
def test_the_detector_catches_a_hint_that_pastes_a_solution_line(question):
    line = max(answers_of(question), key=len)  # a real line of this question's solution
    for hint in (f"Write {line}, then run the check.", f"Try `{_respelled(line)}`."):
        assert pasted_lines(_pasting(question, hint), answers_of(question)), hint


def test_the_detector_catches_a_pasted_value_or_command_and_lets_the_method_through():
    from mlops_clinic.checks import m01, m02, m07

    answers = answers_of(m02.q1)
    assert "run_id = run.info.run_id" in answers
    caught = pasted_lines(_pasting(m02.q1, "run_id = run.info.run_id, after the with block."), answers)
    assert "hint 3/3 holds: run_id = run.info.run_id" in caught

    answers = answers_of(m02.q4)  # the value of an assignment, written without the name
    hint = "then client.set_registered_model_alias('house-price-sandbox','champion',champion_version)"
    assert pasted_lines(_pasting(m02.q4, hint), answers)
    method = ("client.set_registered_model_alias(name, alias, version) points an alias at one "
              "version, as the lesson did for house-price.")
    assert not pasted_lines(_pasting(m02.q4, method), answers)

    answers = answers_of(m01.q1)  # a shell command, as an exercise types it
    assert pasted_lines(_pasting(m01.q1, "!git add data/houses.csv.dvc data/.gitignore .dvc/config"), answers)

    answers = answers_of(m07.q3)  # naming the functions is the method; writing the line is the answer
    method = "sum() of each section's points, then min() of the sums."
    assert not pasted_lines(_pasting(m07.q3, method), answers)
    assert pasted_lines(_pasting(m07.q3, "ml_score = min(section_sums.values())"), answers)


def test_answer_lines_leave_out_comments_imports_signatures_and_short_lines():
    region = ["# Work out the answer: a comment is never an answer line.",
              "from mlops_clinic.data import COLUMNS, FEATURES",
              "def to_request(record, extra_argument=None):",
              "    n = len(x)",
              "    log = inference_log.read_predictions()",
              "    return {'ref': record['ref'], 'size': total}  # the body",
              """sh('git commit --quiet -m "A # in a string stays"')"""]
    assert answer_lines(region) == [
        "log = inference_log.read_predictions()",
        "return {'ref': record['ref'], 'size': total}",
        "{'ref': record['ref'], 'size': total}",
        """sh('git commit --quiet -m "A # in a string stays"')""",
        'git commit --quiet -m "A # in a string stays"',
    ]


# --- the "Not yet" messages ---------------------------------------------------------------------------


def string_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string in a module's source; an f-string's fields read as {}."""
    nodes = list(ast.walk(ast.parse(source)))
    parts = {id(part) for node in nodes if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in nodes:
        if isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(part.value if isinstance(part, ast.Constant) else "{}"
                                               for part in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            found.append((node.lineno, node.value))
    return found


@cache
def exercise_text(module: str) -> str:
    """Everything the module's exercise notebook shows, squeezed as answers are compared."""
    found = sorted(paths.EXERCISES_DIR.glob(f"{module}_*.ipynb"))
    assert len(found) == 1, f"module {module}: expected one exercise notebook, found {len(found)}"
    cells = json.loads(found[0].read_text(encoding="utf-8"))["cells"]
    return _squeezed("\n".join("".join(cell["source"]) for cell in cells))


def quoted_answers(source: str, answers: list[str], shown: str) -> list[str]:
    """Each answer line that a string of `source` holds and the exercise does not show."""
    return list(dict.fromkeys(f"line {line} holds: {answer}"
                              for line, text in string_literals(source) for answer in answers
                              if _squeezed(answer) in _squeezed(text) and _squeezed(answer) not in shown))


MODULES = sorted({question.module for question in QUESTIONS})


@pytest.mark.parametrize("module", MODULES)
def test_no_feedback_message_pastes_a_line_of_the_solution(module):
    checks_file = Path(checks_package.__file__).parent / f"m{module}.py"
    answers = [answer for question in QUESTIONS if question.module == module for answer in answers_of(question)]
    leaks = quoted_answers(checks_file.read_text(encoding="utf-8"), answers, exercise_text(module))
    assert not leaks, (f"checks/m{module}.py: a message gives an answer line away; name the mistake "
                       "and the method instead:\n" + "\n".join(leaks))


def test_the_message_detector_reads_f_strings_and_lets_shown_commands_through():
    from mlops_clinic.checks import m07

    answers = answers_of(m07.q3)
    source = ('raise Wrong(f"got {value}: the final score is ONE number, min(section_sums.values()).")\n'
              'raise Wrong("take the lowest of the section sums")\n')
    assert quoted_answers(source, answers, shown="") == ["line 1 holds: min(section_sums.values())"]
    # the same line, when the exercise's instructions show it, is not a secret
    assert quoted_answers(source, answers, shown=_squeezed("Use min(section_sums.values()).")) == []
