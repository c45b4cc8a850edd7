"""`python -m reconcile ...` runs the command line (the same as `reconcile ...`)."""

from .cli import entry

if __name__ == "__main__":
    entry()
