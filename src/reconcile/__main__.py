"""`python -m reconcile ...` runs the command line (the same as `reconcile ...`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
