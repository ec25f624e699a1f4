"""``python -m genphys``: what the package holds, its commands, and which extras are installed."""

import sys

from genphys.commands import main

if __name__ == "__main__":
    sys.exit(main())
