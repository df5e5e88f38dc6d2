"""Number series hand out numbers without duplicates or gaps, also under concurrency."""

import threading

import pytest
from django.db import connection, transaction

from contacts.models import NumberSeries

pytestmark = pytest.mark.django_db(transaction=True)


def test_numbers_are_formatted_with_prefix_and_width():
    series = NumberSeries.objects.create(code="SEG", prefix="SEG", width=5)
    with transaction.atomic():
        assert series.take() == ["SEG00001"]
        assert series.take(3) == ["SEG00002", "SEG00003", "SEG00004"]
    series.refresh_from_db()
    assert series.last_number == 4


def test_a_rolled_back_number_is_handed_out_again():
    series = NumberSeries.objects.create(code="SEG", prefix="S", width=3)

    class Abort(Exception):
        pass

    def take_then_fail() -> None:
        with transaction.atomic():
            assert series.take() == ["S001"]
            raise Abort

    with pytest.raises(Abort):
        take_then_fail()

    with transaction.atomic():
        assert NumberSeries.objects.get(pk=series.pk).take() == ["S001"]


def test_two_connections_get_distinct_consecutive_numbers():
    series = NumberSeries.objects.create(code="CONT", prefix="C", width=4)
    per_thread = 25
    taken: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                # Each number in its own transaction, interleaving with the other connection.
                with transaction.atomic():
                    taken[index].extend(NumberSeries.objects.get(pk=series.pk).take())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = taken[0] + taken[1]
    assert len(everything) == 2 * per_thread
    assert sorted(everything) == [f"C{n:04d}" for n in range(1, 2 * per_thread + 1)]
    # Each connection saw its own numbers strictly increasing.
    assert taken[0] == sorted(taken[0])
    assert taken[1] == sorted(taken[1])


def test_a_second_taker_waits_for_the_first_to_commit():
    series = NumberSeries.objects.create(code="WAIT", prefix="", width=1)
    first_took = threading.Event()
    release_first = threading.Event()
    results: dict[str, list[str]] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = NumberSeries.objects.get(pk=series.pk).take()
                first_took.set()
                release_first.wait(timeout=10)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_took.wait(timeout=10)
            with transaction.atomic():
                results["second"] = NumberSeries.objects.get(pk=series.pk).take()
        finally:
            connection.close()

    t1 = threading.Thread(target=first)
    t2 = threading.Thread(target=second)
    t1.start()
    t2.start()
    first_took.wait(timeout=10)
    t2.join(timeout=0.5)
    assert t2.is_alive(), "the second taker must block on the row lock"
    release_first.set()
    t1.join()
    t2.join()
    assert results == {"first": ["1"], "second": ["2"]}
