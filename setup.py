# Metadata lives in setup.cfg; this file exists for `pip install -e .` with old tooling.
from setuptools import setup

setup()
