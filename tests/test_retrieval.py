"""Repository context for a request (server/retrieval.py): what the index lets it read, how it
ranks and filters, and that it stays the same while a line is typed."""

from __future__ import annotations

import random

from server.project import ProjectIndex
from server.retrieval import NEAR_ABOVE, Retriever, lines_before
from server.snippets import (
    MIN_SIMILARITY,
    Snippet,
    chunks_of,
    fit,
    jaccard,
    new_lines_only,
    words,
)
from training.code_model.repo_context import RepoContext
from training.code_model.sources import SourceFile

# Another module with the helper the current one is about to call.
HELPERS = (
    "import json\n\n\n"
    "def load_inventory(path):\n"
    "    with open(path) as handle:\n"
    "        records = json.load(handle)\n"
    "    return [Item(record['name'], record['price']) for record in records]\n"
    "\n\n"
    "def save_inventory(path, items):\n"
    "    records = [{'name': item.name, 'price': item.price} for item in items]\n"
    "    with open(path, 'w') as handle:\n"
    "        json.dump(records, handle)\n"
)
UNRELATED = "".join(f"COLOUR_{n} = 'blue'\n" for n in range(30))
CURRENT = (
    "from helpers import load_inventory\n\n\n"
    "def main(path):\n"
    "    records = json.load(handle)\n"
    "    items = load_inventory(path)\n"
    "    for item in items:\n"
    "        print(item.name, item.price)\n"
    "    save_"
)


def index_with(documents: dict[str, str]) -> ProjectIndex:
    index = ProjectIndex()
    for uri, text in documents.items():
        index.open(uri, text, "python")
    return index


def test_texts_reads_what_a_lookup_may_read():
    index = index_with(
        {"file:///w/a.py": "a = 1\n", "file:///w/b.py": "b = 2\n", "file:///w/c.js": "c = 3\n"}
    )
    index.open("file:///w/c.js", "var c = 3\n", "javascript")
    index.open("file:///w/.env", "SECRET = 1\n", "python")  # on the deny list: never held
    assert index.texts("file:///w/a.py", "tabs") == [("a.py", "a = 1\n"), ("b.py", "b = 2\n")]
    assert index.texts("file:///w/a.py", "file") == [("a.py", "a = 1\n")]
    assert index.texts("file:///w/a.py", "off") == []
    assert index.texts("file:///w/unknown.py", "tabs") == []
    assert index.texts("file:///w/a.py", "tabs", limit=1) == [("a.py", "a = 1\n")]


def test_texts_gives_workspace_files_by_relative_path_and_prefers_the_open_buffer(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "shapes.py").write_text("def area(w, h):\n    return w * h\n")
    (tmp_path / "pkg" / "open.py").write_text("OLD = 'on disk'\n")
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    (tmp_path / "ignored.py").write_text("HIDDEN = 1\n")
    index = ProjectIndex()
    current = (tmp_path / "pkg" / "open.py").as_uri()
    index.open(current, "NEW = 'in the editor'\n", "python")
    index.add_workspace(tmp_path, (".py",), background=False)
    assert index.texts(current, "workspace") == [
        ("pkg/open.py", "NEW = 'in the editor'\n"),
        ("pkg/shapes.py", "def area(w, h):\n    return w * h\n"),
    ]
    assert index.texts(current, "tabs") == [("pkg/open.py", "NEW = 'in the editor'\n")]


def test_retrieves_similar_windows_most_similar_last_and_drops_the_rest():
    index = index_with(
        {
            "file:///w/main.py": CURRENT,
            "file:///w/helpers.py": HELPERS,
            "file:///w/colours.py": UNRELATED,
        }
    )
    found = Retriever(index).retrieve("file:///w/main.py", CURRENT, "tabs")
    assert found.path == "main.py"
    assert found.snippets and {s.path for s in found.snippets} == {"helpers.py"}
    query = words(lines_before(CURRENT, 15))
    scores = [jaccard(query, words(s.text)) for s in found.snippets]
    assert scores == sorted(scores) and min(scores) >= MIN_SIMILARITY
    assert Retriever(index).retrieve("file:///w/main.py", CURRENT, "file").snippets == ()


def test_the_context_stays_the_same_while_a_line_is_typed():
    index = index_with({"file:///w/main.py": CURRENT, "file:///w/helpers.py": HELPERS})
    retriever = Retriever(index)
    seen = set()
    for typed in ("", "s", "inventory(", "inventory(path, it"):
        text = CURRENT + typed
        index.change("file:///w/main.py", text)
        seen.add(retriever.retrieve("file:///w/main.py", text, "tabs"))
    assert len(seen) == 1


def test_the_context_is_kept_until_the_code_above_or_another_document_changes():
    index = index_with({"file:///w/main.py": CURRENT, "file:///w/helpers.py": HELPERS})
    retriever = Retriever(index)
    reads = []
    texts = index.texts
    index.texts = lambda *args: reads.append(args) or texts(*args)  # type: ignore[method-assign]
    for typed in ("", "s", "inventory(", "inventory(path, items)\n    "):
        index.change("file:///w/main.py", CURRENT + typed)
        first = retriever.retrieve("file:///w/main.py", CURRENT + typed, "tabs")
    assert len(reads) == 1  # the next line's query is still about the same
    index.change("file:///w/helpers.py", HELPERS.replace("def save_inventory", "def store"))
    again = retriever.retrieve("file:///w/main.py", CURRENT, "tabs")
    assert len(reads) == 2 and again != first
    elsewhere = CURRENT + "\n\n" + UNRELATED
    retriever.retrieve("file:///w/main.py", elsewhere, "tabs")  # other code above the cursor
    assert len(reads) == 3


def test_rechunking_an_edited_document_gives_the_chunks_of_its_new_text():
    retriever = Retriever(ProjectIndex())
    rng = random.Random(0)
    lines = [f"value_{n} = compute(item_{n % 7})\n" if n % 4 else "\n" for n in range(200)]
    document = None
    for _ in range(30):
        at = rng.randrange(len(lines))
        if rng.random() < 0.3:
            del lines[at]
        else:
            lines[at:at] = rng.choice([["\n"], ["x = 1\n", "y = 2\n"], ["go(item_3)\n"]])
        text = "".join(lines)
        document = retriever._chunked("a.py", text, document)
        assert document.chunks == chunks_of("a.py", text)
        assert document.sizes.tolist() == [len(chunk.words) for chunk in document.chunks]
        assert len(document.word_ids) == len(document.owners) == document.sizes.sum()
    assert retriever._chunked("a.py", "", document).chunks == []  # nothing left: still arrays


def test_every_chunk_is_scored_as_jaccard_scores_it():
    rng = random.Random(1)
    vocabulary = [f"name_{n}" for n in range(40)] + ["self", "return", "1", "2"]
    lines = [" ".join(rng.choices(vocabulary, k=rng.randint(0, 6))) + "\n" for _ in range(300)]
    retriever = Retriever(ProjectIndex())
    document = retriever._document("a.py", "".join(lines))
    for _ in range(5):
        start = rng.randrange(280)
        query = words("".join(lines[start : start + 15])) | {"unseen"}
        scored = retriever._scored(document, query, retriever._indicator(query))
        expected = [
            (jaccard(query, chunk.words), chunk)
            for chunk in document.chunks
            if jaccard(query, chunk.words) >= MIN_SIMILARITY
        ]
        assert scored == expected and expected


def test_the_same_file_gives_context_only_away_from_the_cursor():
    far = "\n".join(f"x{n} = {n}" for n in range(NEAR_ABOVE + 20))
    text = HELPERS + far + "\n" + CURRENT
    index = index_with({"file:///w/main.py": text})
    found = Retriever(index).retrieve("file:///w/main.py", text, "file")
    away = text[: len(HELPERS) + len(far) - 4 * NEAR_ABOVE]  # lines 40 above the cursor and more
    assert found.snippets and all(s.text in away for s in found.snippets)
    near = HELPERS + CURRENT  # the helpers are right above the cursor: in the prompt already
    index.change("file:///w/main.py", near)
    assert Retriever(index).retrieve("file:///w/main.py", near, "file").snippets == ()


def test_a_window_already_above_the_cursor_is_dropped():
    copy = "file:///w/copy.py"
    index = index_with({"file:///w/main.py": CURRENT, copy: lines_before(CURRENT, 15) * 2})
    found = Retriever(index).retrieve("file:///w/main.py", CURRENT, "tabs")
    assert all(s.path != "copy.py" for s in found.snippets)


def test_fit_fills_a_budget_as_training_does():
    files = [SourceFile("pkg/a.py", HELPERS, "pkg"), SourceFile("pkg/b.py", CURRENT, "pkg")]
    for budget in (100, 300, 600, 2000):
        context = RepoContext(files, budget, self_copy_rate=0.0)
        trained = context.snippets(files[1], 0, len(CURRENT), random.Random(0))
        everything = RepoContext(files, 10**9, self_copy_rate=0.0)
        ranked = everything.snippets(files[1], 0, len(CURRENT), random.Random(0))
        assert list(fit(ranked, budget)) == trained


def test_new_lines_only_keeps_snippets_that_add_a_line():
    above = "a = 1\n    b = 2\n"
    kept = Snippet("x.py", "a = 1\nc = 3\n")
    assert new_lines_only([Snippet("x.py", "  a = 1\nb = 2\n"), kept], above) == (kept,)
