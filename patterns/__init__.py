"""The NumPy -> TensorFlow pattern library, one module per family.

Each module has a `PATTERNS` tuple of `rewriter.pattern.Pattern` records and a `FAMILY_CODE`
from which stable rule codes are made. Shipped inside the wheel as `rewriter.patterns`.
"""
