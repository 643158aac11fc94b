"""JAX baselines for `tlens bench train` and `tlens bench lens` (development only, not run in CI).

Times, on this machine, JAX's jit-compiled CPU versions of the computations tlens benchmarks on
the MLP [64, 512, 512, 1] (ReLU, He init): one SGD step with batch 128, a forward+JVP over 2,000
points, and the empirical tangent kernel between 1,000 and 128 points by Jacobian contraction.
Best of several repetitions after compilation, like the tlens benchmarks.

    pip install jax jaxlib && python3 scripts/jax_baseline.py
"""
import time

import jax
import jax.numpy as jnp


def best(f, repetitions=20):
    f()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def init(key, widths):
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (fan_out, fan_in)) * jnp.sqrt(2.0 / fan_in), jnp.zeros(fan_out)))
    return params


def forward(params, x):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w.T + b
        if i < len(params) - 1:
            h = jax.nn.relu(h)
    return h


def main():
    key = jax.random.PRNGKey(0)
    params = init(key, [64, 512, 512, 1])
    x2000 = jax.random.normal(key, (2000, 64))
    xb, yb = x2000[:128], jnp.ones((128, 1))
    direction = jax.tree_util.tree_map(lambda p: 1e-3 * jnp.ones_like(p), params)

    @jax.jit
    def forward_jvp(params, direction, x):
        return jax.jvp(lambda p: forward(p, x), (params,), (direction,))

    @jax.jit
    def sgd_step(params, x, y):
        loss = lambda p: 0.5 * jnp.mean(jnp.sum((forward(p, x) - y) ** 2, axis=1))
        g = jax.grad(loss)(params)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, g)

    @jax.jit
    def kernel(params, xa, xb):
        ja = jax.jacrev(lambda p: forward(p, xa))(params)
        jb = jax.jacrev(lambda p: forward(p, xb))(params)
        flat = lambda j, m: jnp.concatenate([leaf.reshape(m, -1) for leaf in jax.tree_util.tree_leaves(j)], axis=1)
        return flat(ja, xa.shape[0]) @ flat(jb, xb.shape[0]).T

    @jax.jit
    def matmul(a, b):
        return a @ b

    a = jax.random.normal(key, (2048, 2048))
    sgemm = best(lambda: matmul(a, a).block_until_ready(), 5)
    print(f"jax sgemm 2048^3          {sgemm:8.2f} ms  {2 * 2048**3 / sgemm / 1e6:7.1f} GFLOP/s")
    print(f"jax SGD step, batch 128   {best(lambda: jax.block_until_ready(sgd_step(params, xb, yb))):8.2f} ms")
    print(f"jax forward+JVP, 2000 pts {best(lambda: jax.block_until_ready(forward_jvp(params, direction, x2000))):8.2f} ms")
    print(f"jax kernel 1000x128       {best(lambda: jax.block_until_ready(kernel(params, x2000[:1000], x2000[1000:1128])), 3):8.2f} ms")


if __name__ == "__main__":
    main()
