#!/usr/bin/python3
"""The M/M/10 model of BenchmarkMMc10 in SimPy 3, for the speed comparison in BENCHMARKS.md.

Arrivals are Poisson at 8 per second, service is exponential with mean 1 s, ten servers
share one FIFO queue (simpy.Resource). Statistics match what the point of the comparison
needs and no more than the Go model keeps: every customer is counted, and its wait and
sojourn are recorded (sums for the means, the number who waited for P(wait)); the mean wait
is printed beside Erlang C's 204.59 ms to show the model is the same one.

Run with Debian's interpreter, which has python3-simpy3:

    /usr/bin/python3 sim/testdata/simpy_mmc.py [customers] [seed]

It prints one JSON object: customers simulated, wall and CPU seconds of the run (model
construction excluded), customers per second, and the figures.
"""

import json
import random
import sys
import time

import simpy

LAMBDA = 8.0  # arrivals per second
MU = 1.0      # services per second per server
SERVERS = 10


class Stats:
    def __init__(self):
        self.arrived = 0
        self.done = 0
        self.waited = 0
        self.wait_sum = 0.0
        self.sojourn_sum = 0.0


def customer(env, servers, rng, st):
    arrive = env.now
    with servers.request() as req:
        yield req
        wait = env.now - arrive
        st.wait_sum += wait
        if wait > 0:
            st.waited += 1
        yield env.timeout(rng.expovariate(MU))
    st.sojourn_sum += env.now - arrive
    st.done += 1


def source(env, servers, rng, st, customers):
    while st.arrived < customers:
        yield env.timeout(rng.expovariate(LAMBDA))
        st.arrived += 1
        env.process(customer(env, servers, rng, st))


def main():
    customers = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    st = Stats()
    env.process(source(env, servers, rng, st, customers))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    env.run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({
        "model": "M/M/10, lambda 8/s, mu 1/s",
        "simpy": simpy.__version__,
        "python": sys.version.split()[0],
        "customers": st.done,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "customers_per_s": round(st.done / wall),
        "customers_per_cpu_s": round(st.done / cpu),
        "wait_mean_ms": round(1000 * st.wait_sum / st.done, 3),
        "p_wait": round(st.waited / st.done, 5),
        "sojourn_mean_ms": round(1000 * st.sojourn_sum / st.done, 3),
    }))


if __name__ == "__main__":
    main()
