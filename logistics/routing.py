"""Route planning for a carrier's day: a pickup-and-delivery problem with capacities and
pickup time windows, solved with OR-Tools' routing library.

Each job is one load: picked up at a lot inside its slot, dropped at a yard by the same
vehicle. Vehicles start and end at the carrier's depot. The naive plan is the booking order
on the booked vehicles (pick up, drop, next job); the solver starts from it when it is
feasible, so the plan it proposes is never longer. Distances are road km (logistics.geo);
times are minutes from the day's midnight at LOGISTICS_SPEED_KMH with
LOGISTICS_SERVICE_MINUTES at every stop. Plain data in and out: no ORM here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.conf import settings
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from logistics import geo

Point = tuple[float, float]
HORIZON_MIN = 48 * 60


@dataclass(frozen=True)
class Job:
    booking_id: int
    pickup: Point
    drop: Point
    load_t: float
    window: tuple[int, int] = (0, 24 * 60)  # pickup starts inside [from, until] minutes
    hazardous: bool = False
    vehicle_id: int | None = None  # the vehicle it is booked on (the naive plan)


@dataclass(frozen=True)
class Truck:
    vehicle_id: int
    capacity_t: float
    hazardous_ok: bool = True


@dataclass
class Problem:
    depot: Point
    trucks: list[Truck]
    jobs: list[Job]


@dataclass
class Stop:
    job: Job
    kind: str  # "pickup" | "drop"
    arrive_min: int | None = None


@dataclass
class Plan:
    routes: dict[int, list[Stop]] = field(default_factory=dict)
    distance_km: float = 0.0
    feasible: bool = True
    solver: str = "naive"


def _speed() -> float:
    return float(settings.LOGISTICS_SPEED_KMH)


def _service() -> int:
    return int(settings.LOGISTICS_SERVICE_MINUTES)


def _point(problem: Problem, stop: Stop) -> Point:
    return stop.job.pickup if stop.kind == "pickup" else stop.job.drop


def route_km(problem: Problem, stops: list[Stop]) -> float:
    """Depot → stops → depot in road km (an empty route is 0)."""
    if not stops:
        return 0.0
    points = [problem.depot, *(_point(problem, s) for s in stops), problem.depot]
    return sum(geo.road_km(a, b) for a, b in zip(points, points[1:], strict=False))


def plan_km(problem: Problem, routes: dict[int, list[Stop]]) -> float:
    return sum(route_km(problem, stops) for stops in routes.values())


def _travel_min(a: Point, b: Point) -> int:
    return math.ceil(geo.road_km(a, b) / _speed() * 60)


def check(problem: Problem, routes: dict[int, list[Stop]]) -> bool:
    """Does the plan keep every truck within capacity, permits and every pickup window? (Each
    job's pickup precedes its drop on the same truck.) Fills in arrival minutes."""
    trucks = {t.vehicle_id: t for t in problem.trucks}
    ok = True
    for vehicle_id, stops in routes.items():
        truck = trucks[vehicle_id]
        clock, load, here, aboard = 0, 0.0, problem.depot, set()
        for stop in stops:
            where = _point(problem, stop)
            clock += _travel_min(here, where)
            if stop.kind == "pickup":
                clock = max(clock, stop.job.window[0])
                if clock > stop.job.window[1] or (stop.job.hazardous and not truck.hazardous_ok):
                    ok = False
                load += stop.job.load_t
                aboard.add(id(stop.job))
                if load > truck.capacity_t + 1e-9:
                    ok = False
            else:
                if id(stop.job) not in aboard:
                    ok = False
                load -= stop.job.load_t
            stop.arrive_min = clock
            clock += _service()
            here = where
    return ok


def naive_plan(problem: Problem) -> Plan:
    """Booking order on the booked vehicles: each job picked up and dropped before the next."""
    first = problem.trucks[0].vehicle_id if problem.trucks else None
    routes: dict[int, list[Stop]] = {t.vehicle_id: [] for t in problem.trucks}
    for job in problem.jobs:
        vehicle_id = job.vehicle_id if job.vehicle_id in routes else first
        routes[vehicle_id] += [Stop(job, "pickup"), Stop(job, "drop")]
    routes = {k: v for k, v in routes.items() if v}
    feasible = check(problem, routes)
    return Plan(routes=routes, distance_km=round(plan_km(problem, routes), 1), feasible=feasible, solver="naive")


def optimise(problem: Problem, *, seconds: float | None = None) -> Plan | None:
    """The shortest plan OR-Tools finds within the time limit; None when no plan is feasible
    (a load no truck may carry, windows that cannot all be met)."""
    if not problem.jobs or not problem.trucks:
        return None
    seconds = float(settings.LOGISTICS_ROUTE_SECONDS if seconds is None else seconds)
    points: list[Point] = [problem.depot]
    for job in problem.jobs:
        points += [job.pickup, job.drop]
    n = len(points)
    metres = [[round(geo.road_km(points[i], points[j]) * 1000) for j in range(n)] for i in range(n)]
    minutes = [[0 if i == j else _travel_min(points[i], points[j]) for j in range(n)] for i in range(n)]
    service = [0] + [_service()] * (n - 1)
    demand = [0]
    for job in problem.jobs:
        kg = round(job.load_t * 1000)
        demand += [kg, -kg]

    manager = pywrapcp.RoutingIndexManager(n, len(problem.trucks), 0)
    model = pywrapcp.RoutingModel(manager)

    def distance(i: int, j: int) -> int:
        return metres[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def duration(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return service[a] + minutes[a][b]

    def load(i: int) -> int:
        return demand[manager.IndexToNode(i)]

    distance_cb = model.RegisterTransitCallback(distance)
    model.SetArcCostEvaluatorOfAllVehicles(distance_cb)
    model.AddDimension(distance_cb, 0, 10**9, True, "Distance")
    distance_dim = model.GetDimensionOrDie("Distance")
    time_cb = model.RegisterTransitCallback(duration)
    model.AddDimension(time_cb, HORIZON_MIN, HORIZON_MIN, False, "Time")
    time_dim = model.GetDimensionOrDie("Time")
    load_cb = model.RegisterUnaryTransitCallback(load)
    model.AddDimensionWithVehicleCapacity(
        load_cb, 0, [round(t.capacity_t * 1000) for t in problem.trucks], True, "Capacity"
    )
    solver = model.solver()
    for number, job in enumerate(problem.jobs):
        pickup = manager.NodeToIndex(1 + 2 * number)
        drop = manager.NodeToIndex(2 + 2 * number)
        model.AddPickupAndDelivery(pickup, drop)
        solver.Add(model.VehicleVar(pickup) == model.VehicleVar(drop))
        solver.Add(distance_dim.CumulVar(pickup) <= distance_dim.CumulVar(drop))
        time_dim.CumulVar(pickup).SetRange(int(job.window[0]), int(job.window[1]))
        allowed = [
            k
            for k, truck in enumerate(problem.trucks)
            if truck.capacity_t + 1e-9 >= job.load_t and (truck.hazardous_ok or not job.hazardous)
        ]
        if not allowed:
            return None
        forbidden = [k for k in range(len(problem.trucks)) if k not in allowed]
        if forbidden:
            # (SetAllowedVehiclesForIndex refuses Python lists in this OR-Tools build.)
            model.VehicleVar(pickup).RemoveValues(forbidden)
            model.VehicleVar(drop).RemoveValues(forbidden)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(50, int(seconds * 1000)))
    model.CloseModelWithParameters(params)

    naive = naive_plan(problem)
    start = None
    if naive.feasible:
        index_of = {id(job): number for number, job in enumerate(problem.jobs)}
        columns = {t.vehicle_id: k for k, t in enumerate(problem.trucks)}
        routes: list[list[int]] = [[] for _ in problem.trucks]
        for vehicle_id, stops in naive.routes.items():
            for stop in stops:
                node = 1 + 2 * index_of[id(stop.job)] + (0 if stop.kind == "pickup" else 1)
                routes[columns[vehicle_id]].append(node)
        start = model.ReadAssignmentFromRoutes(routes, True)
    solution = model.SolveFromAssignmentWithParameters(start, params) if start else model.SolveWithParameters(params)
    if solution is None:
        return None
    plan_routes: dict[int, list[Stop]] = {}
    for k, truck in enumerate(problem.trucks):
        stops = []
        index = model.Start(k)
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            if node:
                job = problem.jobs[(node - 1) // 2]
                stops.append(Stop(job, "pickup" if node % 2 else "drop", solution.Min(time_dim.CumulVar(index))))
            index = solution.Value(model.NextVar(index))
        if stops:
            plan_routes[truck.vehicle_id] = stops
    km = plan_km(problem, plan_routes)
    if naive.feasible and km > plan_km(problem, naive.routes) + 1e-9:
        # Rounding arcs to whole metres can make the solver's choice a hair longer in real km.
        return Plan(routes=naive.routes, distance_km=naive.distance_km, feasible=True, solver="naive")
    return Plan(routes=plan_routes, distance_km=round(km, 1), feasible=True, solver="or-tools")
