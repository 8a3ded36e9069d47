#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main():
    # The project config lives in a plain `site/` folder, not a package: the standard
    # library's `site` module shadows any package of that name.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "site"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
