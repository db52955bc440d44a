"""Sphinx configuration of the API reference (``make docs``; offline: no intersphinx)."""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)  # this checkout's package, whatever is installed
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')  # no update check at import

with open(os.path.join(ROOT, 'uniremoval_mm', 'version.py'), encoding='utf-8') as f:
    release = re.search(r"__version__\s*=\s*'([^']+)'", f.read()).group(1)
project = 'uniremoval_mm'
copyright = 'uniremoval_mm contributors'
version = release

extensions = ['sphinx.ext.autodoc', 'sphinx.ext.napoleon', 'sphinx.ext.viewcode']
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build', '*.md']
# Google-style docstrings (``Args:``, ``Returns:``, ``Raises:``), as OpenMMLab writes them
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': True}
autodoc_typehints = 'signature'
autoclass_content = 'class'

html_theme = 'alabaster'
html_title = f'uniremoval_mm {release} API reference'
html_static_path = []
