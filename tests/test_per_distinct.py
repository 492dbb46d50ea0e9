"""per_distinct: a message field computed once per distinct value says what Series.map says."""

import numpy as np
import pandas as pd

from toolkit.checks.base import per_distinct


def test_minus_zero_and_zero_are_written_apart_as_map_writes_them():
    days = pd.Series([0.0, -0.0, 3.0, 0.0, np.nan], index=[10, 11, 12, 13, 14])
    got = per_distinct(lambda d: f"{d:g}", days)
    assert got.tolist() == days.map(lambda d: f"{d:g}").tolist() == ["0", "-0", "3", "0", "nan"]
    assert got.index.tolist() == [10, 11, 12, 13, 14]


def test_none_and_nan_are_told_apart_in_text_columns():
    values = pd.Series(["a", None, np.nan, "a", None], dtype=object)
    assert per_distinct(repr, values).tolist() == ["'a'", "None", "nan", "'a'", "None"]


def test_combinations_of_columns_and_dates():
    dates = pd.Series(pd.to_datetime(["2026-01-02", None, "2026-01-02", "2026-01-03"]))
    kinds = pd.Series(["x", "x", "y", "x"], dtype=object)
    got = per_distinct(lambda d, k: f"{k}:{d.strftime('%d') if pd.notna(d) else '-'}", dates, kinds)
    assert got.tolist() == ["x:02", "x:-", "y:02", "x:03"]


def test_no_lines():
    assert per_distinct(str, pd.Series([], dtype=float)).empty


def test_object_ids_are_the_ids_of_the_items_even_of_a_strided_view():
    from toolkit.values import object_ids

    shared = "the same sentence"
    values = np.array([shared, "other", shared, None, 1.5, shared], dtype=object)
    assert object_ids(values).tolist() == [id(v) for v in values]
    assert object_ids(values[::2]).tolist() == [id(v) for v in values[::2]]
    assert object_ids(values[:0]).tolist() == []


def test_first_positions_are_what_np_unique_returns_for_factorized_numbers():
    from toolkit.values import first_positions

    codes = pd.factorize(np.array(["b", "a", "b", "c", "a", "d", "d"], dtype=object))[0]
    assert first_positions(codes).tolist() == np.unique(codes, return_index=True)[1].tolist() == [0, 1, 3, 5]
    assert first_positions(np.zeros(4, dtype=np.int64)).tolist() == [0]
    assert first_positions(np.empty(0, dtype=np.int64)).tolist() == []


def test_id_columns_read_in_one_pass_say_what_to_text_says_of_each_id():
    """Claim and Patient IDs (all different) skip the per-value test when no ID needs stripping or
    is a not-applicable word; any that does sends the column through the per-value test."""
    from toolkit.values import _text_of_strings, to_text

    ids = [f"MRN{i:06d}" for i in range(3000)]
    for extra in ([], ["N/A", "NULL", "Unknown", "?", "--", "n.a."], [" MRN1 ", "MRN2\t"], ["\u212aelvin", "NONE"]):
        column = pd.Series(ids + extra, dtype=object)
        assert _text_of_strings(column).tolist() == [to_text(v) for v in ids + extra]


def test_numbering_by_object_gives_pandas_numbers_for_shared_and_for_distinct_objects():
    from toolkit.values import factorize_objects

    shared = ["M17.11", "M54.50", "M17.11", None, float("nan"), "M54.50", "".join(["M17", ".11"])] * 400
    copies = [("x" + str(i % 7))[1:] for i in range(3000)]  # equal texts, each its own object
    for values in (np.array(shared, dtype=object), np.array(copies, dtype=object)):
        codes, uniques = factorize_objects(values)
        want_codes, want_uniques = pd.factorize(values, use_na_sentinel=True)
        assert codes.tolist() == want_codes.tolist()
        assert list(uniques) == list(want_uniques)


def test_joined_runs_join_each_run_as_a_plain_join_would():
    from toolkit.validation import _joined_runs

    rng = np.random.default_rng(3)
    texts = [f"t{i}" for i in range(50)]
    sizes = rng.integers(2, 9, size=400)
    starts = np.cumsum(sizes) - sizes
    numbers = rng.integers(0, 50, size=int(sizes.sum()))
    items = [texts[k] for k in numbers.tolist()]
    got = _joined_runs(numbers, items, starts, sizes, "; ")
    assert got.tolist() == ["; ".join(items[a:a + k]) for a, k in zip(starts.tolist(), sizes.tolist())]
