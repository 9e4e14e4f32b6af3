"""Entry script of the PyInstaller bundle: the same as ``python -m desktop_qa``."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen child process must not rerun the CLI
    from desktop_qa.cli import main

    sys.exit(main())
