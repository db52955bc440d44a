from .data_preprocessors import *  # noqa: F401,F403
from .discriminators import *  # noqa: F401,F403
from .editors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .students import *  # noqa: F401,F403
from .teachers import *  # noqa: F401,F403
