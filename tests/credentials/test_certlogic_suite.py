"""Every assertion of the CertLogic test suite (tests/data/certlogic/testSuite), including skipped ones."""

import json
from pathlib import Path

import pytest

from shuzhi.credentials import certlogic

SUITE = Path(__file__).parent.parent / "data" / "certlogic" / "testSuite"


def _assertions():
    for path in sorted(SUITE.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for case_number, case in enumerate(suite["cases"]):
            for number, assertion in enumerate(case["assertions"]):
                expression = assertion.get("certLogicExpression", case.get("certLogicExpression"))
                label = f"{path.stem}[{case_number}]{case['name'][:40]}#{number}"
                yield pytest.param(expression, assertion["data"], assertion["expected"], id=label)


ASSERTIONS = list(_assertions())


def test_the_suite_is_complete():
    assert len(list(SUITE.glob("*.json"))) == 14
    assert len(ASSERTIONS) == 232


@pytest.mark.parametrize(("expression", "data", "expected"), ASSERTIONS)
def test_assertion(expression, data, expected):
    result = certlogic.evaluate(expression, data)
    assert result == expected
    assert type(result) is type(expected) or (isinstance(result, int) and isinstance(expected, int))
