"""ProjectIndex: lookups on open documents, edits, scopes and limits."""

from __future__ import annotations

from server.project import Candidate, IndexLimits, ProjectIndex

A = "file:///work/pkg/a.py"
B = "file:///work/pkg/b.py"

LOADERS = """\
import json


def load(path):
    with open(path) as handle:
        return json.load(handle)


def save(path, data):
    with open(path, "w") as handle:
        json.dump(data, handle)


def load_again(path):
    with open(path) as handle:
"""


def cursor_at_end(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


def lookup(index: ProjectIndex, uri: str, text: str, **kwargs) -> list[Candidate]:
    line, character = cursor_at_end(text)
    return index.lookup(uri, line, character, **kwargs)


def test_statement_start_proposes_what_followed_last_time() -> None:
    index = ProjectIndex()
    text = LOADERS + "        "
    index.open(A, text, "python")
    best = lookup(index, A, text)[0]
    assert best.text == "return json.load(handle)"
    assert best.scope == "file"
    assert best.uri == A and best.line == 5
    assert best.tokens >= 4


def test_mid_line_and_a_partly_typed_word() -> None:
    index = ProjectIndex()
    text = LOADERS + "        return js"
    index.open(A, text, "python")
    assert lookup(index, A, text)[0].text == "on.load(handle)"
    text = LOADERS + "        return "
    index.change(A, text)
    assert lookup(index, A, text)[0].text == "json.load(handle)"
    text = LOADERS + "        return"
    index.change(A, text)
    assert lookup(index, A, text)[0].text == " json.load(handle)"


def test_the_cursors_own_place_is_not_a_candidate_but_the_rest_of_the_file_is() -> None:
    index = ProjectIndex()
    index.open(A, "x = compute(alpha, beta)\n", "python")
    assert index.lookup(A, 0, len("x = compute(")) == []  # only its own place
    # The same tokens below the cursor (the rest of the file) count.
    index.change(A, "x = compute(alpha, beta)\ny = 1\nx = compute(alpha, gamma)\n")
    found = index.lookup(A, 0, len("x = compute("))
    assert [(c.text, c.line) for c in found] == [("alpha, gamma)", 2)]


def test_did_change_updates_the_lookup_and_close_removes_a_tab() -> None:
    index = ProjectIndex()
    index.open(B, "def area(shape):\n    return shape.width * shape.height\n", "python")
    text = "def area(shape):\n    return "
    index.open(A, text, "python")
    assert lookup(index, A, text)[0].text == "shape.width * shape.height"
    assert lookup(index, A, text)[0].scope == "tab"
    index.change(B, "def area(shape):\n    return shape.size ** 2\n")
    assert [c.text for c in lookup(index, A, text)] == ["shape.size ** 2"]
    index.close(B)
    assert lookup(index, A, text) == []
    assert index.lookup("file:///not/open.py", 0, 0) == []


def test_scope_setting_limits_where_lookup_reaches(tmp_path) -> None:
    (tmp_path / "lib.py").write_text("def area(shape):\n    return shape.radius * 3.14\n")
    index = ProjectIndex()
    index.add_workspace(tmp_path, [".py"], background=False)
    index.open(B, "def area(shape):\n    return shape.width * shape.height\n", "python")
    text = "def area(shape):\n    return "
    index.open(A, text, "python")
    texts = {c.text: c.scope for c in lookup(index, A, text, scope="workspace")}
    assert texts == {"shape.width * shape.height": "tab", "shape.radius * 3.14": "workspace"}
    assert {c.scope for c in lookup(index, A, text, scope="tabs")} == {"tab"}
    assert lookup(index, A, text, scope="file") == []
    assert lookup(index, A, text, scope="off") == []


def test_nested_scopes_and_agreement() -> None:
    index = ProjectIndex()
    text = (
        "def first(items):\n"
        "    total = sum(item.price for item in items)\n"
        "    total = sum(item.price for item in items)\n"
        "\n"
        "\n"
        "def second(items):\n"
        "    total = sum(item.cost for item in items)\n"
        "    count = 0\n"
        "    total = sum("
    )
    index.open(A, text, "python")
    found = lookup(index, A, text)
    assert [(c.text, c.scope, c.count) for c in found] == [
        ("item.cost for item in items)", "function", 1),
        ("item.price for item in items)", "file", 2),
    ]


def test_a_match_shorter_than_the_minimum_is_not_proposed() -> None:
    index = ProjectIndex(IndexLimits(min_tokens=4))
    text = "a = b\nq = b\nz = "
    index.open(A, text, "python")
    assert lookup(index, A, text) == []  # "NEWLINE z =" is only 3 tokens
    index = ProjectIndex(IndexLimits(min_tokens=2))
    index.open(A, text, "python")
    assert lookup(index, A, text) == []  # `z =` never occurred before
    text = "a = b\nq = b\nq = "
    index.change(A, text)
    assert lookup(index, A, text)[0].text == "b"


def test_extra_lines_are_reindented() -> None:
    index = ProjectIndex()
    index.open(B, "def f(x):\n    if x:\n        return 1\n    return 2\n", "python")
    text = "class C:\n    def f(x):\n        if x:\n            "
    index.open(A, text, "python")
    best = lookup(index, A, text, extra_lines=1)[0]
    assert best.text == "return 1\n        return 2"


def test_tabs_of_another_language_are_not_used() -> None:
    index = ProjectIndex()
    index.open("file:///work/x.js", "function area(shape) {\n  return shape.w;\n}\n", "javascript")
    text = "function area(shape) {\n  return "
    index.open("file:///work/y.ts", text, "typescript")
    assert lookup(index, "file:///work/y.ts", text) == []
    index.open("file:///work/z.ts", "function area(shape) {\n  return shape.h;\n}\n", "typescript")
    assert lookup(index, "file:///work/y.ts", text)[0].text == "shape.h;"


def test_a_denied_document_is_never_indexed_nor_answered(tmp_path) -> None:
    secret = "API_KEY = make_key('sk-live-1234')\nAPI_KEY = make_key("
    for name in (".env", "server.pem", ".ssh/config.py"):
        uri = (tmp_path / name).as_uri()
        index = ProjectIndex()
        index.open(uri, secret, "python")
        assert index.lookup(uri, 1, len("API_KEY = make_key(")) == []
        text = "API_KEY = make_key("
        index.open(A, text, "python")
        assert lookup(index, A, text) == []
        assert index.describe()["skipped"] == {"denied (open)": 1}
        assert index.describe()["open_documents"] == 1


def test_a_link_to_a_denied_file_opened_as_a_tab_is_denied(tmp_path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("x")
    (tmp_path / "config.py").symlink_to(tmp_path / ".aws" / "credentials")
    index = ProjectIndex()
    index.open((tmp_path / "config.py").as_uri(), "token = read_token('abc')\n", "python")
    assert index.describe()["open_documents"] == 0


def test_an_ignored_tab_is_not_used_for_other_documents(tmp_path) -> None:
    (tmp_path / ".gitignore").write_text("local_settings.py\n")
    index = ProjectIndex()
    index.add_workspace(tmp_path, [".py"], background=False)
    ignored = (tmp_path / "local_settings.py").as_uri()
    index.open(ignored, "PASSWORD = lookup('hunter2')\nPASSWORD = lookup(", "python")
    text = "PASSWORD = lookup("
    index.open(A, text, "python")
    assert lookup(index, A, text) == []
    # Its own rest of file still serves the document itself.
    assert index.lookup(ignored, 1, len(text))[0].text == "'hunter2')"


def test_limits_on_open_documents() -> None:
    index = ProjectIndex(IndexLimits(max_open_documents=2, max_document_chars=100))
    index.open("file:///1.py", "a = 1\n")
    index.open("file:///2.py", "x" * 101)
    index.open("file:///3.py", "b = 2\n")
    index.open("file:///4.py", "c = 3\n")
    described = index.describe()
    assert described["open_documents"] == 2
    assert described["skipped"] == {"huge (open)": 1, "over the open-document limit": 1}
    index.change("file:///1.py", "y" * 101)
    assert index.describe()["open_documents"] == 1


def test_untitled_documents_and_odd_cursors() -> None:
    index = ProjectIndex()
    uri = "untitled:Untitled-1"
    text = "print('hello', end='')\nprint('hello', "
    index.open(uri, text)
    assert lookup(index, uri, text)[0].text == "end='')"
    assert index.lookup(uri, 99, 0) == []
    assert index.lookup(uri, 0, 999) == []  # past the end of a line: the whole line is typed
    assert index.lookup(uri, 0, 0) == []


def test_describe_reports_what_it_holds_and_the_last_lookup() -> None:
    index = ProjectIndex()
    text = LOADERS + "        "
    index.open(A, text, "python")
    lookup(index, A, text)
    described = index.describe()
    assert described["open_documents"] == 1
    assert described["tokens"] > 50
    assert described["memory_bytes"] > len(text)
    assert described["last_lookup"]["candidates"][0]["text"] == "return json.load(handle)"


def test_incremental_edits_update_the_lookup() -> None:
    index = ProjectIndex()
    index.open(B, "def area(shape):\n    return shape.width * shape.height\n", "python")
    index.open(A, "def area(shape):\n    x = 1\n", "python")
    index.edit(A, (1, 4), (1, 9), "return ")  # "    x = 1" -> "    return "
    found = index.lookup(A, 1, len("    return "))
    assert [c.text for c in found] == ["shape.width * shape.height"]
    index.edit(B, (1, 11), (1, 37), "shape.size")
    assert [c.text for c in index.lookup(A, 1, len("    return "))] == ["shape.size"]
    index.edit("file:///not/open.py", (0, 0), (0, 0), "x")  # ignored


def test_at_a_statement_start_the_indentation_must_step_the_same_way() -> None:
    index = ProjectIndex()
    body = (
        "def f(x):\n    if x:\n        y = 1\n    return y\n\n\n"
        "def g(x):\n    if x:\n        y = 1\n"
    )
    text = body + "    "  # one level out, as after `y = 1` above: `return y`
    index.open(A, text, "python")
    assert [c.text for c in lookup(index, A, text)] == ["return y"]
    text = body + "        "  # still inside the `if`: what followed `y = 1` does not fit
    index.change(A, text)
    assert lookup(index, A, text) == []
    text = body + "    ret"
    index.change(A, text)
    assert [c.text for c in lookup(index, A, text)] == ["urn y"]


def test_a_longer_place_with_nothing_after_it_does_not_hide_a_shorter_one() -> None:
    index = ProjectIndex()
    index.open(B, "value = table.lookup(key, 0)\n", "python")
    text = "    key)\nvalue = table.lookup(\n    key)\nvalue = table.lookup("
    index.open(A, text, "python")
    # In the file the longer match ends its line (nothing to propose); the tab's shorter one does.
    assert [(c.text, c.scope) for c in lookup(index, A, text)] == [("key, 0)", "tab")]
