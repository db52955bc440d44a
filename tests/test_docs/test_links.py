"""Relative links in README and docs/ resolve (anchors are not checked)."""
import re

import pytest

from ..conftest import REPO_ROOT
from ..helpers import load_tool

LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
FENCE = re.compile(r'^```.*?^```', re.S | re.M)


def relative_links(text: str):
    """The link targets of a markdown text outside fenced code, without anchors, that are
    neither absolute URLs nor pure anchors."""
    text = FENCE.sub('', text)
    for target in LINK.findall(text):
        if re.match(r'[a-z]+:', target) or target.startswith('#'):
            continue
        yield target.split('#')[0]


def test_relative_links_finds_files_and_skips_urls_and_anchors():
    text = ('[a](docs/x.md#sec) ![p](images/p.jpg) [u](https://x.org) [s](#top)\n'
            '```\n[in code](nowhere.md)\n```\n')
    assert list(relative_links(text)) == ['docs/x.md', 'images/p.jpg']


@pytest.mark.parametrize('doc', load_tool('misc/render_docs.py').markdown_files(),
                         ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_resolve(doc):
    missing = [t for t in relative_links(doc.read_text())
               if not (doc.parent / t).exists()]
    assert not missing, f'{doc.relative_to(REPO_ROOT)}: dead links {missing}'
