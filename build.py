#!/usr/bin/env python3
"""newsdigest: `python build.py [COMMAND] [--site DIR]`; see `python build.py --help`."""

import os
import sys

from newsdigest.cli import main

if __name__ == "__main__":
    status = main(ending=True)
    # Everything the command wrote is closed by now. Ending here skips freeing each of its objects
    # at exit, ~0.04 s after a build of 10,000 articles; the standard streams are flushed first.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`| head`): nothing more can be said
        pass
    os._exit(status)
