"""Tests of contact tracing (shuzhi.tracing): spec tables run on every engine, SocioPatterns, evaluation."""
