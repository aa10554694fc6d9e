"""Route planning: OR-Tools finds the brute-force optimum on a small instance, is never longer
than the booking order on generated ones, and keeps capacities, permits and pickup windows."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from logistics import routing, selectors, services
from logistics.routing import Job, Problem, Stop, Truck
from tests.logistics.conftest import book, make_awarded_lot, make_vehicle, quote, slot_for

DEPOT = (45.78, 126.65)


def _brute_force_km(problem: Problem) -> float:
    """Every order of the stops of one truck in which each pickup precedes its drop and the
    load stays within capacity: the shortest."""
    truck = problem.trucks[0]
    stops = [Stop(job, kind) for job in problem.jobs for kind in ("pickup", "drop")]
    best = float("inf")
    for order in itertools.permutations(stops):
        aboard, load, ok = set(), 0.0, True
        for stop in order:
            if stop.kind == "pickup":
                aboard.add(id(stop.job))
                load += stop.job.load_t
                ok = ok and load <= truck.capacity_t + 1e-9
            else:
                ok = ok and id(stop.job) in aboard
                load -= stop.job.load_t
            if not ok:
                break
        if ok:
            best = min(best, routing.route_km(problem, list(order)))
    return best


def test_a_small_instance_reaches_the_brute_force_optimum(settings):
    # Three lots west of the depot, their yards east: the booking order zigzags across town;
    # a 30 t truck can collect all three 8 t loads first.
    jobs = [
        Job(1, pickup=(45.74, 126.55), drop=(45.80, 126.75), load_t=8, vehicle_id=7),
        Job(2, pickup=(45.70, 126.52), drop=(45.82, 126.78), load_t=8, vehicle_id=7),
        Job(3, pickup=(45.76, 126.58), drop=(45.79, 126.72), load_t=8, vehicle_id=7),
    ]
    problem = Problem(depot=DEPOT, trucks=[Truck(7, capacity_t=30)], jobs=jobs)
    optimum = _brute_force_km(problem)

    naive = routing.naive_plan(problem)
    plan = routing.optimise(problem, seconds=1)

    assert plan.distance_km == pytest.approx(optimum, abs=0.05)
    assert optimum < naive.distance_km - 20  # the saving is real here
    assert plan.solver == "or-tools"


def test_capacity_forces_deliveries_between_pickups():
    jobs = [
        Job(1, pickup=(45.74, 126.55), drop=(45.80, 126.75), load_t=8, vehicle_id=7),
        Job(2, pickup=(45.70, 126.52), drop=(45.82, 126.78), load_t=8, vehicle_id=7),
    ]
    problem = Problem(depot=DEPOT, trucks=[Truck(7, capacity_t=10)], jobs=jobs)

    plan = routing.optimise(problem, seconds=0.5)

    [stops] = plan.routes.values()
    loads = itertools.accumulate(s.job.load_t * (1 if s.kind == "pickup" else -1) for s in stops)
    assert max(loads) <= 10
    assert plan.distance_km == pytest.approx(_brute_force_km(problem), abs=0.05)


def test_pickup_windows_are_kept():
    # Job 2's window is early, job 1's late: the plan must visit 2 first although 1 is nearer.
    jobs = [
        Job(1, pickup=(45.77, 126.64), drop=(45.80, 126.70), load_t=5, window=(14 * 60, 15 * 60), vehicle_id=1),
        Job(2, pickup=(45.70, 126.52), drop=(45.72, 126.50), load_t=5, window=(8 * 60, 9 * 60), vehicle_id=1),
    ]
    problem = Problem(depot=DEPOT, trucks=[Truck(1, capacity_t=10)], jobs=jobs)

    plan = routing.optimise(problem, seconds=0.5)

    [stops] = plan.routes.values()
    pickups = [s for s in stops if s.kind == "pickup"]
    assert [s.job.booking_id for s in pickups] == [2, 1]
    assert all(s.job.window[0] <= s.arrive_min <= s.job.window[1] for s in pickups)
    assert routing.check(problem, plan.routes)


def test_hazardous_loads_go_on_permitted_trucks_only():
    jobs = [Job(1, pickup=(45.74, 126.55), drop=(45.80, 126.75), load_t=4, hazardous=True, vehicle_id=1)]
    problem = Problem(depot=DEPOT, trucks=[Truck(1, 20, hazardous_ok=False), Truck(2, 8, hazardous_ok=True)], jobs=jobs)

    plan = routing.optimise(problem, seconds=0.3)

    assert list(plan.routes) == [2]
    assert routing.optimise(Problem(DEPOT, [Truck(1, 20, hazardous_ok=False)], jobs), seconds=0.3) is None


def _generated(seed: int) -> Problem:
    rng = random.Random(seed)
    trucks = [Truck(v, capacity_t=rng.choice([8, 18, 32])) for v in range(1, rng.randint(2, 3) + 1)]
    jobs = []
    for n in range(rng.randint(3, 6)):
        truck = rng.choice(trucks)
        start = rng.randrange(6 * 60, 16 * 60, 30)
        jobs.append(
            Job(
                booking_id=n + 1,
                pickup=(45.6 + rng.random() * 0.3, 126.4 + rng.random() * 0.5),
                drop=(45.6 + rng.random() * 0.3, 126.4 + rng.random() * 0.5),
                load_t=round(rng.uniform(1, truck.capacity_t), 1),
                window=(start, start + rng.choice([120, 240, 480])),
                vehicle_id=truck.vehicle_id,
            )
        )
    return Problem(depot=(45.75, 126.63), trucks=trucks, jobs=jobs)


@pytest.mark.parametrize("seed", range(8))
def test_the_plan_is_never_longer_than_the_booking_order(seed):
    problem = _generated(seed)
    naive = routing.naive_plan(problem)

    plan = routing.optimise(problem, seconds=0.3)

    assert plan is not None
    assert routing.check(problem, plan.routes)
    if naive.feasible:
        assert plan.distance_km <= naive.distance_km
    served = sorted(s.job.booking_id for stops in plan.routes.values() for s in stops if s.kind == "pickup")
    assert served == sorted(job.booking_id for job in problem.jobs)


@pytest.mark.django_db
def test_the_carriers_day_plan_from_accepted_bookings(seller, winner, carrier_user):
    make_vehicle(carrier_user, capacity_t=Decimal("32.00"))
    lots = [make_awarded_lot(seller=seller, winner=winner, quantity=Decimal("10.000")) for _ in range(3)]
    places = [
        (Decimal("45.740000"), Decimal("126.550000")),
        (Decimal("45.700000"), Decimal("126.520000")),
        (Decimal("45.760000"), Decimal("126.580000")),
    ]
    bookings = []
    for hour, (lot, where) in zip((8, 11, 14), zip(lots, places, strict=True), strict=True):
        type(lot).objects.filter(pk=lot.pk).update(latitude=where[0], longitude=where[1])
        lot.refresh_from_db()
        q = quote(winner, lot, slot_for(lot, start_hour=hour, hours=3), where=(Decimal("45.8"), Decimal("126.75")))[0]
        bookings.append(book(winner, lot, q))
        services.booking_accept(actor=carrier_user, booking_id=bookings[-1].pk)
    day = timezone.localtime(bookings[0].slot_start).date()

    assert selectors.plan_days(carrier_user.company_id) == [day]
    plan = selectors.day_plan(carrier_user.company_id, day, seconds=0.5)

    assert [b.pk for b in plan.bookings] == [b.pk for b in bookings]
    assert plan.optimised.distance_km <= plan.naive.distance_km
    assert plan.saving_km == pytest.approx(plan.naive.distance_km - plan.optimised.distance_km, abs=0.1)
    assert {row["booking"].pk for row in plan.optimised_rows} == {b.pk for b in bookings}
    assert selectors.day_plan(carrier_user.company_id, day + dt.timedelta(days=1)) is None
