"""Spaces of observations and actions: Discrete, Box and MultiDiscrete.

The same classes serve environment authors (declaring a spec), the server
(checking and packing values) and the client (Gymnasium-style
`sample()` / `contains()` / `shape` / `n` / `low` / `high`). Gymnasium is not
a dependency; these mirror its basics and the protocol's packing rules:
a Discrete value packs as 1 integer, MultiDiscrete as len(nvec) integers,
Box as prod(shape) floats (row-major); observations always pack as floats.
"""

import numpy as np


class Space:
    """Base class. `flat_size` numbers per packed value."""

    #: True for Discrete and MultiDiscrete (actions travel as integers).
    is_integer = False

    def __init__(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def seed(self, seed=None):
        """Restarts the random stream of sample()."""
        self._rng = np.random.default_rng(seed)

    @property
    def flat_size(self):
        raise NotImplementedError

    def sample(self):
        raise NotImplementedError

    def contains(self, value):
        raise NotImplementedError

    def __contains__(self, value):
        return self.contains(value)

    def check_flat(self, values):
        """Checks packed rows, shape [rows, flat_size].

        Returns None when every row lies in the space, else (row, message)
        for the first row that does not.
        """
        raise NotImplementedError

    def unflatten(self, flat):
        """One value from its packed numbers (for handing to an env)."""
        raise NotImplementedError


class Discrete(Space):
    """Values 0 .. n-1."""

    is_integer = True

    def __init__(self, n, seed=None):
        super().__init__(seed)
        self.n = int(n)
        self.shape = ()
        self.dtype = np.int64

    @property
    def flat_size(self):
        return 1

    def sample(self, mask=None):
        if mask is not None:
            legal = np.flatnonzero(np.asarray(mask, dtype=bool))
            if legal.size == 0:
                raise ValueError("mask allows no action")
            return int(self._rng.choice(legal))
        return int(self._rng.integers(self.n))

    def contains(self, value):
        array = np.asarray(value)
        if array.shape not in ((), (1,)):
            return False
        item = array.reshape(-1)[0]
        if isinstance(item, (np.floating, float)) and \
                not float(item).is_integer():
            return False
        try:
            return 0 <= int(item) < self.n
        except (TypeError, ValueError):
            return False

    def check_flat(self, values):
        values = values.reshape(-1)
        # One reduction for the usual, valid case: as uint64 a negative
        # int64 is at least 2^63, so max < n means every value is in range.
        # (int(): numpy compares a uint64 scalar with a Python int slowly.)
        if values.size == 0 or int(values.astype(
                np.int64, copy=False).view(np.uint64).max()) < self.n:
            return None
        bad = np.flatnonzero((values < 0) | (values >= self.n))
        if bad.size == 0:
            return None
        row = int(bad[0])
        return row, "discrete action %d outside [0, %d)" % (
            values[row], self.n)

    def unflatten(self, flat):
        return int(flat[0])

    def __repr__(self):
        return "Discrete(%d)" % self.n

    def __eq__(self, other):
        return isinstance(other, Discrete) and other.n == self.n


class MultiDiscrete(Space):
    """Element k takes values 0 .. nvec[k]-1."""

    is_integer = True

    def __init__(self, nvec, seed=None):
        super().__init__(seed)
        self.nvec = np.asarray(nvec, dtype=np.int64).reshape(-1)
        self.shape = (self.nvec.size,)
        self.dtype = np.int64

    @property
    def flat_size(self):
        return int(self.nvec.size)

    def sample(self):
        return (self._rng.random(self.nvec.size) * self.nvec).astype(np.int64)

    def contains(self, value):
        array = np.asarray(value)
        if array.shape != self.shape:
            return False
        if array.dtype.kind == "f" and not np.all(np.mod(array, 1) == 0):
            return False
        if array.dtype.kind not in "iuf":
            return False
        return bool(np.all((array >= 0) & (array < self.nvec)))

    def check_flat(self, values):
        values = values.reshape(-1, self.nvec.size)
        # One reduction per component for the usual, valid case (every
        # action of a message channel is MultiDiscrete): as uint64 a
        # negative int64 is at least 2^63, so max < n means every value of
        # the component is in range.
        if values.size == 0:
            return None
        if values.dtype.kind in "iu" and values.dtype.itemsize == 8:
            unsigned = values.view(np.uint64)
            if all(int(unsigned[:, k].max()) < n
                   for k, n in enumerate(self.nvec.tolist())):
                return None
        bad = (values < 0) | (values >= self.nvec)
        rows = np.flatnonzero(bad.any(axis=1))
        if rows.size == 0:
            return None
        row = int(rows[0])
        k = int(np.flatnonzero(bad[row])[0])
        return row, "multi-discrete element %d = %d outside [0, %d)" % (
            k, values[row, k], self.nvec[k])

    def unflatten(self, flat):
        return np.array(flat, dtype=np.int64)

    def __repr__(self):
        return "MultiDiscrete(%s)" % self.nvec.tolist()

    def __eq__(self, other):
        return (isinstance(other, MultiDiscrete) and
                np.array_equal(other.nvec, self.nvec))


class Box(Space):
    """Float32 arrays of `shape` with per-element bounds [low, high].

    `low` and `high` are scalars (the same bound everywhere) or arrays of
    `shape`; without `shape`, the shape of `low` is used.
    """

    def __init__(self, low, high, shape=None, seed=None):
        super().__init__(seed)
        if shape is None:
            shape = np.shape(low) if np.ndim(low) > 0 else np.shape(high)
            if shape == ():
                shape = (1,)
        self.shape = tuple(int(d) for d in np.atleast_1d(shape))
        self.dtype = np.float32
        self.low = np.broadcast_to(
            np.asarray(low, dtype=np.float32), self.shape).copy()
        self.high = np.broadcast_to(
            np.asarray(high, dtype=np.float32), self.shape).copy()

    @property
    def flat_size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def sample(self):
        low = self.low.astype(np.float64)
        high = self.high.astype(np.float64)
        # Unbounded sides sample from a unit normal / exponential, as in
        # Gymnasium; bounded ones uniformly.
        lo_inf, hi_inf = np.isinf(low), np.isinf(high)
        value = self._rng.uniform(np.where(lo_inf, 0, low),
                                  np.where(hi_inf, 0, high) + 0.0)
        both = lo_inf & hi_inf
        value = np.where(both, self._rng.normal(size=self.shape), value)
        value = np.where(lo_inf & ~hi_inf,
                         high - self._rng.exponential(size=self.shape), value)
        value = np.where(hi_inf & ~lo_inf,
                         low + self._rng.exponential(size=self.shape), value)
        return np.clip(value, self.low, self.high).astype(np.float32)

    def contains(self, value):
        array = np.asarray(value, dtype=np.float64)
        if array.size != self.flat_size:
            return False
        array = array.reshape(self.shape)
        # NaN fails both comparisons.
        return bool(np.all((array >= self.low) & (array <= self.high)))

    def check_flat(self, values):
        values = values.reshape(-1, self.flat_size)
        low = self.low.reshape(-1)
        high = self.high.reshape(-1)
        inside = (values >= low) & (values <= high)  # False for NaN
        rows = np.flatnonzero(~inside.all(axis=1))
        if rows.size == 0:
            return None
        row = int(rows[0])
        k = int(np.flatnonzero(~inside[row])[0])
        return row, "box element %d = %g outside [%g, %g]" % (
            k, values[row, k], low[k], high[k])

    def unflatten(self, flat):
        return np.array(flat, dtype=np.float32).reshape(self.shape)

    def __repr__(self):
        low, high = self.low.reshape(-1), self.high.reshape(-1)
        if np.all(low == low[0]) and np.all(high == high[0]):
            return "Box(%g, %g, %s)" % (low[0], high[0], self.shape)
        return "Box(%s, %s)" % (self.low.tolist(), self.high.tolist())

    def __eq__(self, other):
        return (isinstance(other, Box) and other.shape == self.shape and
                np.array_equal(other.low, self.low) and
                np.array_equal(other.high, self.high))


def check_well_formed(space):
    """Raises ValueError unless `space` is a usable space."""
    if isinstance(space, Discrete):
        if space.n < 1:
            raise ValueError("Discrete n must be >= 1, got %d" % space.n)
    elif isinstance(space, MultiDiscrete):
        if space.nvec.size == 0 or np.any(space.nvec < 1):
            raise ValueError("MultiDiscrete nvec must be non-empty and >= 1")
    elif isinstance(space, Box):
        if any(d < 1 for d in space.shape):
            raise ValueError("Box shape %s has an empty dimension" %
                             (space.shape,))
        if np.any(np.isnan(space.low)) or np.any(np.isnan(space.high)):
            raise ValueError("Box bounds contain NaN")
        if np.any(space.low > space.high):
            raise ValueError("Box low > high somewhere")
    else:
        raise ValueError("%r is not a Discrete, Box or MultiDiscrete space" %
                         (space,))
