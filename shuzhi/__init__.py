"""shuzhi (数治): govern a public-health emergency with data — one map, one code, one index."""

__version__ = "0.1.0"
