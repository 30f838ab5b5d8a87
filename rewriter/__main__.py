"""`python -m rewriter` is the `rewriter` command."""
from .cli import main

raise SystemExit(main())
