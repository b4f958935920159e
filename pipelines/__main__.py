"""``python -m vaekit.pipelines ...`` (what ``torchrun`` launches): the ``vaekit`` CLI."""
import sys

from .cli import main

sys.exit(main())
