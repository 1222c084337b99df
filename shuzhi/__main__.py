"""``python -m shuzhi``: the same command line as the ``shuzhi`` script."""

from shuzhi.cli import app

app(prog_name="shuzhi")
