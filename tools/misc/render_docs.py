#!/usr/bin/env python
"""Render the docs' results tables from ``results/*.json`` (or check that they are fresh).

A table in a markdown file is marked::

    <!-- results:NAME -->
    | ... the table, rewritten by this tool ... |
    <!-- /results:NAME -->

``NAME`` is ``FILE`` or ``FILE:VIEW``: the results file ``results/FILE.json`` and a view of
it (``default`` when omitted): ``results/views.yml``'s ``FILE: {VIEW: spec}`` (the docs'
layouts, kept apart so that a tool may rewrite its results file), else the file's own
``views``, else one column per metric. A view may ``merge`` rows of other results files
into every row, or the rows listed in ``into`` (``merge: [{file: student_cost, row:
UniRemovalNetS, prefix: "cost/", into: [student released]}]``).
The layouts are in ``docs/development.md``.
Every ``*.md`` under the repository root, ``docs/`` and ``configs/`` is scanned.

Usage:
    python tools/misc/render_docs.py            # rewrite every marked table
    python tools/misc/render_docs.py --check    # exit 1 listing the stale ones

``--check`` (on the default files) also checks that the metafiles of ``model-index.yml``
and the results files name their weights by the files' true SHA-256.
"""
import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run from a clone, uninstalled
from uniremoval_mm.utils.results import load_results, render_view  # noqa: E402

MARKER = re.compile(r'<!-- results:(?P<name>[\w.-]+(?::[\w.-]+)?) -->\n'
                    r'(?P<body>.*?)'
                    r'<!-- /results:(?P=name) -->', re.S)
FENCE = re.compile(r'^```.*?^```', re.S | re.M)


def markdown_files(root: Path = REPO) -> List[Path]:
    """The markdown files that may hold marked tables."""
    files = sorted(root.glob('*.md'))
    for sub in ('docs', 'configs'):
        files += sorted((root / sub).rglob('*.md'))
    return files


def table_for(name: str, results_dir: Path) -> str:
    """The rendered table of a marker's ``NAME``.

    Raises:
        ValueError: No such results file or view (named).
    """
    import yaml
    stem, _, view = name.partition(':')
    view = view or 'default'
    path = results_dir / f'{stem}.json'
    if not path.is_file():
        raise ValueError(f'results:{name}: {path} does not exist')
    views_file = results_dir / 'views.yml'
    views = yaml.safe_load(views_file.read_text()) if views_file.is_file() else {}
    spec = ((views or {}).get(stem) or {}).get(view)
    results = load_results(path)
    for merge in (spec or {}).get('merge', []):
        other = load_results(results_dir / f"{merge['file']}.json")
        rows = {r['label']: r for r in other['rows']}
        if merge['row'] not in rows:
            raise ValueError(f"results:{name}: merge: {merge['file']} has no row "
                             f"{merge['row']!r}")
        extra = {merge.get('prefix', '') + k: v for k, v in rows[merge['row']]['metrics'].items()}
        for row in results['rows']:
            if row['label'] in merge.get('into', [row['label']]):
                row['metrics'].update(extra)
    try:
        return render_view(results, view, spec)
    except (KeyError, ValueError) as e:
        raise ValueError(f'results:{name}: {path}: {e.args[0]}') from None


def render_text(text: str, results_dir: Path) -> Tuple[str, List[str]]:
    """``text`` with every marked table rendered, and the names of those that changed
    (markers inside fenced code are left alone)."""
    changed: List[str] = []
    fences = [m.span() for m in FENCE.finditer(text)]

    def sub(match: re.Match) -> str:
        if any(start <= match.start() < end for start, end in fences):
            return match.group(0)
        name = match['name']
        body = table_for(name, results_dir) + '\n'
        if match['body'] != body:
            changed.append(name)
        return f'<!-- results:{name} -->\n{body}<!-- /results:{name} -->'

    return MARKER.sub(sub, text), changed


def render(files: List[Path], results_dir: Path, check: bool) -> Dict[Path, List[str]]:
    """Render (or with ``check``, only compare) the marked tables of ``files``.

    Returns:
        dict[Path, list[str]]: Per file, the tables that were (or would be) rewritten.
    """
    stale: Dict[Path, List[str]] = {}
    for path in files:
        text = path.read_text()
        new, changed = render_text(text, results_dir)
        if changed:
            stale[path] = changed
            if not check:
                path.write_text(new)
    return stale


def weight_problems(root: Path = REPO) -> List[str]:
    """Weights named with a SHA-256 that differs from the file's: the models of the
    metafiles in ``model-index.yml`` (``Weights`` and ``Metadata: Weights SHA-256``) and
    the ``checkpoints`` of ``results/*.json`` (where the file is in the repository)."""
    import yaml

    from uniremoval_mm.utils.results import sha256_of
    problems = []
    index = root / 'model-index.yml'
    imports = yaml.safe_load(index.read_text()).get('Import', []) if index.is_file() else []
    for rel in imports:
        for model in yaml.safe_load((root / rel).read_text()).get('Models', []):
            name, weights = model.get('Name'), root / str(model.get('Weights'))
            sha = (model.get('Metadata') or {}).get('Weights SHA-256')
            if not (root / str(model.get('Config'))).is_file():
                problems.append(f'{rel}: {name}: config {model.get("Config")} not found')
            if not weights.is_file():
                problems.append(f'{rel}: {name}: weights {model.get("Weights")} not found')
            elif sha != sha256_of(weights):
                problems.append(f'{rel}: {name}: Weights SHA-256 {sha} is not the SHA-256 of '
                                f'{model.get("Weights")} ({sha256_of(weights)})')
    for path in sorted((root / 'results').glob('*.json')):
        for name, ckpt in (load_results(path).get('checkpoints') or {}).items():
            file = root / ckpt['path']
            if file.is_file() and sha256_of(file) != ckpt['sha256']:
                problems.append(f'results/{path.name}: checkpoints.{name}: sha256 '
                                f'{ckpt["sha256"]} is not the SHA-256 of {ckpt["path"]}')
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='change nothing; exit 1 listing every stale table')
    parser.add_argument('--results-dir', type=Path, default=REPO / 'results')
    parser.add_argument('files', nargs='*', type=Path,
                        help='markdown files (default: README, CHANGELOG, docs/, configs/)')
    args = parser.parse_args(argv)
    try:
        stale = render(args.files or markdown_files(), args.results_dir, args.check)
    except ValueError as e:
        print(f'render_docs: {e}', file=sys.stderr)
        return 2
    for path, names in stale.items():
        rel = path.resolve().relative_to(REPO) if path.resolve().is_relative_to(REPO) else path
        verb = 'stale' if args.check else 'rendered'
        print(f'{rel}: {verb}: ' + ', '.join(names))
    problems = weight_problems() if args.check and not args.files else []
    for problem in problems:
        print(problem)
    return 1 if args.check and (stale or problems) else 0


if __name__ == '__main__':
    sys.exit(main())
