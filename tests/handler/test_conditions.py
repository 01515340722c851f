"""Conditions: a tokenizer and a comparison, never eval; each result explains itself."""

from __future__ import annotations

import pytest

from octorelease.errors import InvalidInput
from octorelease.handler.conditions import evaluate, parse_condition

VALUES = {"branch": "feature/x", "number": "12", "version": "1.10.0", "trigger": "manual run", "quote": "it's"}


def explain(condition: str) -> str:
    return evaluate(condition, VALUES).text


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ("{build.branch} == main", "{build.branch} == main: 'feature/x' == 'main' is false"),
        ("{build.branch} != main", "{build.branch} != main: 'feature/x' != 'main' is true"),
        ("{build.branch} == 'feature/x'", "{build.branch} == 'feature/x': 'feature/x' == 'feature/x' is true"),
        ('{build.branch} == "feature/x"', '{build.branch} == "feature/x": \'feature/x\' == \'feature/x\' is true'),
    ],
)
def test_equality_compares_the_expanded_text(condition: str, text: str) -> None:
    assert explain(condition) == text


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ("{build.number} > 9", "{build.number} > 9: 12 > 9 is true"),
        ("{build.number} <= 9", "{build.number} <= 9: 12 <= 9 is false"),
        ("{build.number} == 12.0", "{build.number} == 12.0: 12 == 12.0 is true"),
        ("-3 < 2", "-3 < 2: -3 < 2 is true"),
    ],
)
def test_numbers_compare_as_numbers_not_text(condition: str, text: str) -> None:
    assert explain(condition) == text


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ("{build.version} > 1.9.0", True),
        ("{build.version} >= 1.10", True),
        ("1.0.0-beta < 1.0.0", True),
        ("1.0.0-beta.2 < 1.0.0-beta.11", True),
        ("1.0.0-alpha < 1.0.0-beta", True),
        ("v2.0.0 == 2.0.0", True),
        ("1.0.0+build5 == 1.0.0", True),
    ],
)
def test_versions_compare_part_by_part(condition: str, holds: bool) -> None:
    assert evaluate(condition, VALUES).holds is holds


def test_a_version_comparison_says_it_compared_versions() -> None:
    assert explain("{build.version} > 1.9.0") == "{build.version} > 1.9.0: 1.10.0 > 1.9.0 (as versions) is true"


def test_mixed_values_compare_as_text() -> None:
    assert explain("{build.branch} < main") == "{build.branch} < main: 'feature/x' < 'main' is true"


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ("{build.branch} contains /", "{build.branch} contains /: 'feature/x' contains '/' is true"),
        (
            "{build.branch} starts with feature/",
            "{build.branch} starts with feature/: 'feature/x' starts with 'feature/' is true",
        ),
        ("{build.branch} ends with /y", "{build.branch} ends with /y: 'feature/x' ends with '/y' is false"),
        ("{build.branch} not contains x", "{build.branch} not contains x: 'feature/x' not contains 'x' is false"),
        (
            "{build.branch} not starts with release/",
            "{build.branch} not starts with release/: 'feature/x' not starts with 'release/' is true",
        ),
    ],
)
def test_text_operators(condition: str, text: str) -> None:
    assert explain(condition) == text


def test_text_comparisons_are_case_sensitive() -> None:
    assert evaluate("{build.branch} == Feature/X", VALUES).holds is False
    assert evaluate("{build.branch} contains X", VALUES).holds is False


def test_matches_searches_and_takes_the_rest_of_the_condition_as_the_pattern() -> None:
    assert explain("{build.branch} matches ^feature/[a-z]+$") == (
        "{build.branch} matches ^feature/[a-z]+$: 'feature/x' matches '^feature/[a-z]+$' is true"
    )
    assert evaluate("{build.branch} matches x", VALUES).holds is True  # found anywhere: re.search
    assert evaluate("{build.branch} matches '^x'", VALUES).holds is False
    assert evaluate("{build.number} matches \\d{2}", VALUES).holds is True  # lone braces need no escape


def test_in_and_not_in_take_a_list_with_quoted_items() -> None:
    assert explain("{build.branch} in [main, develop, 'feature/x']") == (
        "{build.branch} in [main, develop, 'feature/x']: 'feature/x' in ['main', 'develop', 'feature/x'] is true"
    )
    assert evaluate("{build.branch} not in [main, develop]", VALUES).holds is True
    assert evaluate("{build.number} in [10, 12.0]", VALUES).holds is True
    assert evaluate("{build.branch} in []", VALUES).holds is False


def test_not_before_a_condition_negates_it() -> None:
    assert explain("not {build.branch} == main") == "not {build.branch} == main: not ('feature/x' == 'main') is true"


def test_a_value_with_spaces_or_quotes_stays_one_operand() -> None:
    assert evaluate("{build.trigger} == 'manual run'", VALUES).holds is True
    assert evaluate('{build.quote} == "it\'s"', VALUES).holds is True


def test_a_build_value_cannot_inject_an_operator() -> None:
    hostile = {"branch": "x == x"}
    assert evaluate("{build.branch} == main", hostile).text == "{build.branch} == main: 'x == x' == 'main' is false"


def test_placeholders_work_inside_words_and_quotes() -> None:
    assert evaluate("release/{build.number} == 'release/{build.number}'", VALUES).holds is True


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("", "it is empty"),
        ("{build.branch}", "expected an operator after '{build.branch}'"),
        ("{build.branch} = main", "unknown operator '=' (did you mean '=='?)"),
        ("{build.branch} <> main", "unknown operator '<>' (did you mean '!='?)"),
        ("{build.branch} contain x", "unknown operator 'contain' (did you mean 'contains'?)"),
        ("{build.branch} startswith x", "unknown operator 'startswith' (did you mean 'starts with'?)"),
        ("{build.branch} starts x", "expected 'starts with'"),
        ("{build.branch} == manual run", "unexpected 'run' (quote values with spaces)"),
        ("{build.branch} == 'main", "a quote (') is not closed"),
        ("{build.branch} ==", "expected a value after '=='"),
        ("{build.branch} in main", "expected a list like [a, b] after 'in'"),
        ("{build.branch} in [a b]", "expected ',' or ']' in the list"),
        ("{build.branch} not == main", "'not' cannot negate '=='; use the opposite operator"),
        ("{build.branch} matches", "expected a regular expression after 'matches'"),
        (
            "{build.branch} matches (",
            "bad regular expression '(': missing ), unterminated subpattern at position 0",
        ),
    ],
)
def test_parse_errors_name_the_condition_and_the_problem(condition: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_condition(condition)
    assert str(caught.value) == f"invalid condition {condition!r}: {problem}"


def test_a_pattern_made_of_build_values_is_checked_when_evaluated() -> None:
    with pytest.raises(InvalidInput) as caught:
        evaluate("x matches {build.pattern}", {"pattern": "["})
    assert str(caught.value) == (
        "invalid condition 'x matches {build.pattern}': "
        "bad regular expression '[': unterminated character set at position 0"
    )


def test_an_unknown_build_value_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(InvalidInput) as caught:
        evaluate("{build.brnch} == main", VALUES)
    assert str(caught.value) == "unknown build value {build.brnch} (did you mean {build.branch}?)"
