"""The project index's parts: the lexer, the ignore rules and deny list, incremental updates."""

from __future__ import annotations

import random

import pytest

from server.project.documents import OpenDocument, common_prefix, common_suffix
from server.project.ignore import IgnoreRules, is_denied, parse_rules
from server.project.lexer import KEY_BYTES, lex_line, split_partial
from server.project.matching import enclosing_function, find_places


def test_lexer_tokens_and_columns() -> None:
    texts, ends = lex_line('    x_1 = f(a, "s, t") ** 2.5e3  # note')
    assert texts == ["x_1", "=", "f", "(", "a", ",", '"s, t"', ")", "**", "2.5e3", "#", "note"]
    line = '    x_1 = f(a, "s, t") ** 2.5e3  # note'
    assert [line[e - len(t) : e] for t, e in zip(texts, ends, strict=True)] == texts


def test_lexer_survives_incomplete_code() -> None:
    assert lex_line('print("unclosed') == (["print", "(", '"', "unclosed"], [5, 6, 7, 15])
    assert lex_line("") == ([], [])
    assert lex_line("ünïcode_name → 1")[0] == ["ünïcode_name", "→", "1"]


def test_split_partial_keeps_an_unfinished_word_apart() -> None:
    assert split_partial("    return self.na") == (["return", "self", "."], [10, 15, 16], "na")
    assert split_partial("x = ")[2] == ""
    assert split_partial("f(")[2] == ""


@pytest.mark.parametrize(
    ("path", "denied"),
    [
        (".env", True),
        ("app/.env.local", True),
        ("config/prod.env", True),
        ("certs/server.pem", True),
        ("tls/site.key", True),
        ("home/.ssh/config", True),
        ("id_rsa.pub", True),
        (".git/config", True),
        ("deploy/.aws/credentials", True),
        ("store.p12", True),
        (".netrc", True),
        ("src/app.py", False),
        ("src/environment.py", False),
        ("docs/keys.md", False),
    ],
)
def test_deny_list(path: str, denied: bool) -> None:
    assert is_denied(path) is denied


def _verdict(rules_text: str, path: str, is_dir: bool = False) -> bool | None:
    verdict = None
    for rule in parse_rules(rules_text):
        if rule.matches(path, is_dir):
            verdict = not rule.negated
    return verdict


@pytest.mark.parametrize(
    ("rules", "path", "is_dir", "ignored"),
    [
        ("*.log", "a/b/x.log", False, True),
        ("*.log\n!keep.log", "keep.log", False, False),
        ("/build", "build", True, True),
        ("/build", "src/build", True, None),
        ("docs/*.md", "docs/a.md", False, True),
        ("docs/*.md", "docs/sub/a.md", False, None),
        ("out/", "out", False, None),
        ("out/", "x/out", True, True),
        ("**/gen/**", "a/gen/b/c.py", False, True),
        ("a/**/b", "a/x/y/b", False, True),
        ("a/**/b", "a/b", False, True),
        ("[ab].py", "b.py", False, True),
        ("[!ab].py", "b.py", False, None),
        ("\\#x", "#x", False, True),
        ("# comment\n\n", "comment", False, None),
    ],
)
def test_gitignore_patterns(rules: str, path: str, is_dir: bool, ignored: bool | None) -> None:
    assert _verdict(rules, path, is_dir) is ignored


def test_nested_gitignore_and_our_file_which_wins(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".gitignore").write_text("*.gen.py\ngenerated/\n")
    (tmp_path / "sub" / ".gitignore").write_text("!keep.gen.py\nlocal.py\n")
    (tmp_path / ".nanopilotignore").write_text("!generated/\nsecret_*.py\n")
    rules = IgnoreRules(tmp_path)
    rules.load_folder("sub")
    assert rules.is_ignored("x.gen.py")
    assert not rules.is_ignored("sub/keep.gen.py")  # a deeper file's rule wins
    assert rules.is_ignored("sub/local.py")
    assert not rules.is_ignored("local.py")
    assert not rules.is_ignored("generated/a.py")  # .nanopilotignore brings it back
    assert rules.is_ignored("sub/secret_x.py")


def test_a_file_inside_an_ignored_folder_stays_ignored(tmp_path) -> None:
    (tmp_path / ".gitignore").write_text("cache/\n!cache/a.py\n")
    assert IgnoreRules(tmp_path).is_ignored("cache/a.py")


def test_common_prefix_and_suffix() -> None:
    a = "x" * 10_000 + "abc" + "y" * 9_000
    b = "x" * 10_000 + "aXc" + "y" * 9_000
    assert common_prefix(a, b) == 10_001
    assert common_suffix(a, b, len(a) - 10_001) == 9_001
    assert common_prefix("", "abc") == 0
    assert common_suffix("abc", "abc", 3) == 3


def _same_as_fresh(document: OpenDocument, text: str) -> None:
    fresh = OpenDocument("file:///fresh.py", text)
    assert document.lines == fresh.lines
    assert document.keys == fresh.keys
    assert document.ends == fresh.ends
    assert document.flat == fresh.flat


def test_updates_relex_to_the_same_tokens_as_a_fresh_lex() -> None:
    rng = random.Random(19)
    pieces = ["def f(x):\n", "    return x + 1\n", "\n", "'''doc\n", "s'''\n", " ", "(", ")", "y"]
    text = "".join(rng.choice(pieces) for _ in range(200))
    document = OpenDocument("file:///a.py", text)
    for _ in range(300):
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 0, 1, 3, 20, 200]))
        insert = "".join(rng.choice(pieces) for _ in range(rng.choice([0, 1, 1, 2, 5])))
        text = text[:start] + insert + text[end:]
        document.update(text)
        _same_as_fresh(document, text)
    document.update("")
    _same_as_fresh(document, "")


def test_find_places_grows_the_pattern_when_too_many_places_match() -> None:
    def keys(*values: int) -> bytes:
        return b"".join(v.to_bytes(KEY_BYTES, "little") for v in values)

    flat = keys(*([1, 2, 3, 4] * 50), 9, 1, 2, 3, 4)
    query = keys(9, 1, 2, 3, 4)
    places = find_places(flat, query, least=2, cap=8)
    assert max(length for _, length in places) == 5
    assert find_places(flat, keys(7, 7), least=2, cap=8) == []


def test_enclosing_function_by_indentation() -> None:
    lines = [
        "class A:",
        "    def f(self):",
        "        if x:",
        "            y = 1",
        "        return y",
        "",
        "    def g(self):",
        "        pass",
        "function h(a) {",
        "  return a;",
        "}",
    ]
    assert enclosing_function(lines, 3, 12) == (1, 6)
    assert enclosing_function(lines, 7, 8) == (6, 8)
    assert enclosing_function(lines, 9, 2) == (8, 11)
    assert enclosing_function(lines, 0, 0) is None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def test_incremental_edits_relex_to_the_same_tokens_as_a_fresh_lex() -> None:
    rng = random.Random(20)
    pieces = ["def f(x):\n", "    return x + 1\n", "\n", "s'''\n", " ", "(", "y", "\n\n"]
    text = "".join(rng.choice(pieces) for _ in range(100))
    document = OpenDocument("file:///a.py", text)
    for _ in range(300):
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 0, 1, 3, 20, 200]))
        insert = "".join(rng.choice(pieces) for _ in range(rng.choice([0, 1, 1, 2, 5])))
        document.edit(_position(text, start), _position(text, end), insert)
        text = text[:start] + insert + text[end:]
        _same_as_fresh(document, text)
        if rng.random() < 0.1:  # a full-text change after edits
            text = text.replace("y", "z", 1)
            document.update(text)
            _same_as_fresh(document, text)
    assert document.text == text


def test_the_package_is_torch_free_and_self_contained() -> None:
    import subprocess
    import sys

    code = (
        "import sys, server.project; "
        "print(sorted(m for m in sys.modules if m == 'torch' or "
        "(m.startswith('server.') and not m.startswith('server.project'))))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
