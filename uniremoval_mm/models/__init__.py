from .students import *  # noqa: F401,F403
