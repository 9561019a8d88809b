#!/usr/bin/env python3
"""The tag check: every ordering tag is unique in the library, and each teaching page and its
header agree on them (docs/design.md, "The tag legend").

    python3 scripts/check-tags.py

A tag is [<prefix><letter><number>], e.g. [EG1]: the prefix names the header that owns it,
from the prefix registry in docs/design.md (a table whose columns start "| prefix | header |").
A header defines the tags with its own prefix that its comments mention; a tag with another
prefix in a header is a citation of the owner's tag. The check fails (one line per problem,
exit 1) when
  - a header labels steps with tags but has no prefix in the registry, a file cites a tag
    whose prefix is not registered, or the registry gives one prefix to two headers;
  - a header labels a step with another header's tag (a comment that starts with [XY1] in a
    header whose prefix is not X), so that the same tag would be defined in two headers;
  - a file cites a tag that its owner header does not define (headers, docs/**/*.md, README.md
    and the comments of tests/, bench/, examples/ are all searched);
  - a page docs/algorithms/<name>.md has no header include/lockless/<name>.hpp, or a tag
    defined by that header (or by another header the page declares with a line
    `<!-- check-tags: also include/lockless/<path>.hpp -->`) does not appear on the page;
  - an old-style tag without a prefix ([G1]) is left anywhere.
A header without a page (detail/parking.hpp today) is checked for uniqueness only.
Python 3 standard library only.
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
INCLUDE = "include/lockless"
PAGES = "docs/algorithms"
DESIGN = "docs/design.md"

TAG = re.compile(r"\[([A-Z])([A-Z])([0-9]+)\]")
OLD_TAG = re.compile(r"\[[A-Z][0-9]+\]")
# A comment whose text starts with one or more tags (joined by "/", ", " or " and ") followed
# by a word labels those steps: "// [TC3] acquire on success", "//   [EY0]/[EY1] synchronize".
LABEL = re.compile(r"^((?:\[[A-Z]{2}[0-9]+\](?:/|, | and |-)?)+)\s+[A-Za-z(]")
ALSO = re.compile(r"<!--\s*check-tags:\s*also\s+(\S+)\s*-->")
REGISTRY_ROW = re.compile(r"^\|\s*`([A-Z])`\s*\|\s*`([^`]+\.hpp)`\s*\|")

problems = []


def problem(where, text):
    problems.append(f"check-tags: {where}: {text}")


def rel(path):
    return os.path.relpath(path, ROOT)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read().split("\n")


def code_comments(lines):
    """(line number, text after //) of each line of C++ that has a // comment."""
    for n, line in enumerate(lines, 1):
        i = line.find("//")
        if i >= 0:
            yield n, line[i + 2:]


def whole_lines(lines):
    """A CMake file's mutant REPLACE texts are code with // comments: search every line."""
    return enumerate(lines, 1)


def walk(top, exts):
    out = []
    for d, dirs, files in os.walk(os.path.join(ROOT, top)):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(files):
            if f.endswith(exts):
                out.append(rel(os.path.join(d, f)))
    return out


def tags_in(texts):
    """{tag: first line number} for the tags in (line number, text) pairs."""
    found = {}
    for n, text in texts:
        for m in TAG.finditer(text):
            found.setdefault(m.group(0), n)
    return found


def old_tags(path, texts):
    for n, text in texts:
        for m in OLD_TAG.finditer(text):
            problem(f"{path}:{n}", f"old-style tag {m.group(0)} without a header prefix "
                    f"(the registry is in {DESIGN}, \"The tag legend\")")


def main():
    # The prefix registry.
    registry = {}  # prefix -> header path under include/lockless
    owner_of = {}  # header path -> prefix
    for n, line in enumerate(read(DESIGN), 1):
        m = REGISTRY_ROW.match(line)
        if not m:
            continue
        prefix, header = m.group(1), m.group(2)
        if prefix in registry and registry[prefix] != header:
            problem(f"{DESIGN}:{n}", f"prefix {prefix} registered for both {registry[prefix]} "
                    f"and {header}")
            continue
        if header in owner_of and owner_of[header] != prefix:
            problem(f"{DESIGN}:{n}", f"{header} registered with two prefixes, "
                    f"{owner_of[header]} and {prefix}")
            continue
        registry[prefix] = header
        owner_of[header] = prefix
    if not registry:
        problem(DESIGN, "no prefix registry found (rows like \"| `E` | `epoch.hpp` | ... |\")")

    # Headers: what each defines and cites.
    headers = walk(INCLUDE, (".hpp",))
    defined = {}  # tag -> (header, line)
    citations = []  # (path, line, tag)
    for path in headers:
        name = os.path.relpath(path, INCLUDE)
        lines = read(path)
        comments = list(code_comments(lines))
        old_tags(path, comments)
        own = owner_of.get(name)
        labelled_unregistered = []
        for n, text in comments:
            label = LABEL.match(text.strip())
            if label:
                for m in TAG.finditer(label.group(1)):
                    if own is None:
                        labelled_unregistered.append((n, m.group(0)))
                    elif m.group(1) != own:
                        owner = registry.get(m.group(1), "no header (unregistered prefix)")
                        problem(f"{path}:{n}", f"labels a step {m.group(0)}, but prefix "
                                f"{m.group(1)} belongs to {owner}; a tag is defined in one "
                                f"header only (give this step its header's prefix {own})")
            for m in TAG.finditer(text):
                tag = m.group(0)
                if m.group(1) == own:
                    defined.setdefault(tag, (path, n))
                else:
                    citations.append((path, n, tag))
        if labelled_unregistered:
            n = labelled_unregistered[0][0]
            problem(f"{path}:{n}", f"labels steps with tags "
                    f"({', '.join(sorted({t for _, t in labelled_unregistered}))}) but has no "
                    f"prefix in the registry of {DESIGN} (\"The tag legend\"): register one")

    def check_cited(path, n, tag):
        prefix = tag[1]
        if prefix not in registry:
            problem(f"{path}:{n}", f"cites {tag}, whose prefix {prefix} is not registered "
                    f"in {DESIGN}")
        elif tag not in defined:
            problem(f"{path}:{n}", f"cites {tag}, which {INCLUDE}/{registry[prefix]} does "
                    f"not define")

    for path, n, tag in citations:
        check_cited(path, n, tag)

    # Teaching pages: every cited tag exists; every tag of the page's headers appears.
    pages = [p for p in walk(PAGES, (".md",)) if os.path.dirname(p) == PAGES]
    documented = set()
    for page in pages:
        name = os.path.splitext(os.path.basename(page))[0]
        lines = read(page)
        own = [f"{INCLUDE}/{name}.hpp"]
        for n, line in enumerate(lines, 1):
            m = ALSO.search(line)
            if m:
                if not os.path.isfile(os.path.join(ROOT, m.group(1))):
                    problem(f"{page}:{n}", f"declares {m.group(1)}, which does not exist")
                else:
                    own.append(os.path.normpath(m.group(1)))
        if not os.path.isfile(os.path.join(ROOT, own[0])):
            problem(page, f"no header {own[0]} for this page")
        cited = tags_in(enumerate(lines, 1))
        for tag, n in cited.items():
            check_cited(page, n, tag)
        for header in own:
            documented.add(header)
            for tag, (hpath, hline) in sorted(defined.items()):
                if hpath == header and tag not in cited:
                    problem(page, f"does not mention {tag}, defined at {hpath}:{hline}")
        old_tags(page, enumerate(lines, 1))

    # Everything else that may cite a tag: the other docs, README, tests, benchmarks, examples.
    others = ["README.md"] + [p for p in walk("docs", (".md",)) if p not in pages]
    for path in others:
        lines = read(path)
        for tag, n in tags_in(enumerate(lines, 1)).items():
            check_cited(path, n, tag)
        old_tags(path, enumerate(lines, 1))
    for top in ("tests", "bench", "examples"):
        for path in walk(top, (".cpp", ".hpp", ".h", ".cmake", "CMakeLists.txt")):
            lines = read(path)
            texts = list(whole_lines(lines) if path.endswith((".cmake", ".txt"))
                         else code_comments(lines))
            for tag, n in tags_in(texts).items():
                check_cited(path, n, tag)
            old_tags(path, texts)

    if problems:
        print("\n".join(problems))
        print(f"check-tags: {len(problems)} problem(s); the tag rules are in {DESIGN}, "
              f"\"The tag legend\"", file=sys.stderr)
        return 1
    by_header = {}
    for tag, (hpath, _) in defined.items():
        by_header[hpath] = by_header.get(hpath, 0) + 1
    summary = ", ".join(f"{os.path.relpath(h, INCLUDE)} {c}" for h, c in sorted(by_header.items()))
    unpaged = sorted(os.path.relpath(h, INCLUDE) for h in by_header if h not in documented)
    print(f"check-tags: {len(defined)} tags, each defined once ({summary}); "
          f"{len(pages)} page(s) cite every tag of their headers"
          + (f"; uniqueness only: {', '.join(unpaged)}" if unpaged else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
