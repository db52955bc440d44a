"""Results files: the one source of every number the docs show (``results/*.json``).

A results file is JSON of this shape (``docs/development.md`` documents each field)::

    {"schema": 1, "title": "...", "command": "python tools/...", "produced_by": "tool",
     "commit": "a8119e4", "date": "2026-12-08", "split": "...",
     "checkpoints": {"released": {"path": "checkpoints/....pth", "sha256": "..."}},
     "notes": "...",
     "rows": [{"label": "input", "metrics": {"demo haze/PSNR": 10.44, ...}}, ...],
     "views": {"default": {"columns": [...], ...}}}

Tools write it with :func:`write_results`; ``tools/misc/render_docs.py`` renders its
``views`` into the markdown tables marked ``<!-- results:NAME -->``.
"""
import hashlib
import json
import re
import string
import subprocess
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

__all__ = [
    'SCHEMA_VERSION', 'PRODUCED_BY', 'sha256_of', 'git_commit', 'make_results',
    'write_results', 'load_results', 'validate_results', 'render_view'
]

#: The version of the layout this module reads and writes.
SCHEMA_VERSION = 1
#: How the numbers got into the file: written by the command itself (``tool``), or
#: copied by hand from what the command printed (``transcribed``).
PRODUCED_BY = ('tool', 'transcribed')
_REQUIRED = ('schema', 'title', 'command', 'produced_by', 'date', 'rows')


def sha256_of(path: Union[str, Path]) -> str:
    """The SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def git_commit(cwd: Union[str, Path, None] = None) -> Optional[str]:
    """The short hash of ``HEAD`` (with ``-dirty`` if the tree has changes), or None."""
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=cwd,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=cwd, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ('-dirty' if dirty else '')


def make_results(title: str, command: str, rows: List[Dict[str, Any]],
                 checkpoints: Optional[Dict[str, Union[str, Path]]] = None,
                 split: str = '', notes: str = '', produced_by: str = 'tool',
                 views: Optional[dict] = None, commit: Optional[str] = None) -> dict:
    """A results dict, checked.

    Args:
        title (str): What the numbers are.
        command (str): The command line that produced them.
        rows (list[dict]): ``{'label': str, 'metrics': {name: number | str | None}}``.
        checkpoints (dict, optional): Name -> weight file measured; each is stored with
            its SHA-256. Defaults to None.
        split (str): Which data, which images. Defaults to ''.
        notes (str): Anything a reader must know. Defaults to ''.
        produced_by (str): One of :data:`PRODUCED_BY`. Defaults to ``'tool'``.
        views (dict, optional): Named table layouts (see :func:`render_view`).
            Defaults to None.
        commit (str, optional): The code's commit. Defaults to None (``git`` is asked).

    Returns:
        dict: The results, valid by :func:`validate_results`.
    """
    results = dict(
        schema=SCHEMA_VERSION, title=title, command=command, produced_by=produced_by,
        commit=commit if commit is not None else git_commit(Path(__file__).parent),
        date=date.today().isoformat(), split=split,
        checkpoints={name: dict(path=str(p), sha256=sha256_of(p))
                     for name, p in (checkpoints or {}).items()},
        notes=notes, rows=rows)
    if views:
        results['views'] = views
    validate_results(results)
    return results


def write_results(path: Union[str, Path], results: dict) -> Path:
    """Validate and write a results dict as indented JSON; returns the path."""
    validate_results(results)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + '\n')
    return path


def load_results(path: Union[str, Path]) -> dict:
    """Read and validate a results file.

    Raises:
        ValueError: The file is not a valid results file (the message names it and the
            field).
    """
    try:
        results = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f'{path}: cannot be read as JSON: {e}') from e
    try:
        validate_results(results)
    except ValueError as e:
        raise ValueError(f'{path}: {e}') from e
    return results


def validate_results(results: Any) -> None:
    """Raise ValueError naming the first field that does not fit the layout."""
    if not isinstance(results, dict):
        raise ValueError('a results file holds a JSON object')
    missing = [k for k in _REQUIRED if k not in results]
    if missing:
        raise ValueError(f'missing field(s): {", ".join(missing)}')
    if results['schema'] != SCHEMA_VERSION:
        raise ValueError(f"schema {results['schema']!r}: only {SCHEMA_VERSION} is known")
    if results['produced_by'] not in PRODUCED_BY:
        raise ValueError(f"produced_by {results['produced_by']!r}: one of {PRODUCED_BY}")
    if not isinstance(results['rows'], list) or not results['rows']:
        raise ValueError('rows: a non-empty list')
    labels = set()
    for i, row in enumerate(results['rows']):
        if not isinstance(row, dict) or not isinstance(row.get('label'), str) \
                or not isinstance(row.get('metrics'), dict):
            raise ValueError(f'rows[{i}]: expected {{"label": str, "metrics": dict}}')
        if row['label'] in labels:
            raise ValueError(f'rows[{i}]: label {row["label"]!r} appears twice')
        labels.add(row['label'])
        for key, value in row['metrics'].items():
            if not (value is None or isinstance(value, (int, float, str))):
                raise ValueError(f'rows[{i}].metrics[{key!r}]: a number, a string or null')
    for name, ckpt in (results.get('checkpoints') or {}).items():
        if not (isinstance(ckpt, dict) and re.fullmatch(r'[0-9a-f]{64}',
                                                        str(ckpt.get('sha256', '')))):
            raise ValueError(f'checkpoints[{name!r}]: expected {{"path", "sha256": 64 hex}}')
    for name, view in (results.get('views') or {}).items():
        columns = view.get('columns') if isinstance(view, dict) else None
        if not isinstance(columns, list) or not all(
                isinstance(c, dict) and 'header' in c and 'format' in c for c in columns):
            raise ValueError(f'views[{name!r}].columns: a list of {{"header", "format"}}')
        unknown = set(view.get('rows') or []) - labels
        if unknown:
            raise ValueError(f'views[{name!r}].rows: no such row(s) {sorted(unknown)}')


def _fields(template: str) -> List[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


def _cell(metrics: dict, formats: Union[str, Sequence[str]]) -> str:
    """The first template whose fields are all present (not null) in ``metrics`` and
    whose format specs fit their values (``{x:+d}`` skips a string ``x``)."""
    for template in [formats] if isinstance(formats, str) else formats:
        if all(metrics.get(f) is not None for f in _fields(template)):
            try:
                return template.format_map(metrics)
            except (ValueError, TypeError):
                continue
    return ''


def render_view(results: dict, view: str = 'default', spec: Optional[dict] = None) -> str:
    """A markdown table of a results dict.

    A view is ``{"columns": [{"header": str, "format": str | [str, ...]}, ...],
    "label_header": str, "rows": [label, ...], "relabel": {label: text},
    "bold_rows": [label, ...]}``; all but ``columns`` are optional. Each cell is the first
    ``format`` (``str.format`` on the row's metrics: ``"{demo haze/PSNR:.2f}"``) whose
    fields the row has and whose format specs fit; a template without fields is literal
    text; none fits: empty.

    Args:
        results (dict): A valid results dict.
        view (str): The name of one of its ``views``; ``'default'`` without views is one
            column per metric, as stored. Defaults to ``'default'``.
        spec (dict, optional): The view itself (then ``view`` is not looked up).
            Defaults to None.

    Returns:
        str: The table, without a trailing newline.

    Raises:
        KeyError: No such view.
        ValueError: The view names a row the results do not have.
    """
    views = results.get('views') or {}
    if spec is None and view in views:
        spec = views[view]
    elif spec is None and view == 'default':
        keys = list(dict.fromkeys(k for r in results['rows'] for k in r['metrics']))
        spec = dict(columns=[dict(header=k, format=['{' + k + '}']) for k in keys])
    elif spec is None:
        raise KeyError(f'no view {view!r} (views: {", ".join(views) or "none"})')
    by_label = {r['label']: r for r in results['rows']}
    labels = spec.get('rows') or list(by_label)
    unknown = [label for label in labels if label not in by_label]
    if unknown:
        raise ValueError(f'view {view!r}: no row(s) {unknown} (rows: {list(by_label)})')
    relabel, bold = spec.get('relabel') or {}, set(spec.get('bold_rows') or [])
    headers = [spec.get('label_header', '')] + [c['header'] for c in spec['columns']]
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + '---|' * len(headers)]
    for label in labels:
        cells = [relabel.get(label, label)]
        cells += [_cell(by_label[label]['metrics'], c['format']) for c in spec['columns']]
        if label in bold:
            cells = [f'**{c}**' if c else c for c in cells]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
