"""Shim: keep imports of the stack from reaching the network.

Problem. albumentations (imported by mmagic's transforms) asks PyPI for a newer version
every time it is imported, and prints a ``UserWarning`` when it finds one. On a machine
without internet that is a stalled request at import; on any machine it is noise in
every log, and a training job should not phone out.

Fix. Set ``NO_ALBUMENTATIONS_UPDATE=1`` (albumentations' own switch) unless the user set
it, before mmagic is imported. Must run before ``albumentations`` is first imported.
"""
import os

ENV = {'NO_ALBUMENTATIONS_UPDATE': '1'}


def apply() -> None:
    """Set the switches, keeping any value the user already chose."""
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
