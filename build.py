#!/usr/bin/env python3
"""newsdigest: `python build.py [COMMAND] [--site DIR]`; see `python build.py --help`."""

import sys

from newsdigest.cli import main

if __name__ == "__main__":
    sys.exit(main())
