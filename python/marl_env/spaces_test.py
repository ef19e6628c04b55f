"""Spaces: sample() stays inside, contains() and the packed-row checks the
server uses (check_flat) agree with the bounds, NaN included."""

import math
import unittest

import numpy as np

from marl_env.spaces import Box, Discrete, MultiDiscrete, check_well_formed


class SpacesTest(unittest.TestCase):

    def test_discrete(self):
        space = Discrete(3, seed=1)
        self.assertEqual((space.n, space.shape, space.flat_size), (3, (), 1))
        samples = {space.sample() for _ in range(200)}
        self.assertEqual(samples, {0, 1, 2})
        self.assertEqual({space.sample(mask=[0, 1, 0]) for _ in range(20)},
                         {1})
        for value, inside in ((0, True), (2, True), (3, False), (-1, False),
                              (1.0, True), (1.5, False), ("a", False)):
            self.assertEqual(space.contains(value), inside, value)
        self.assertIsNone(space.check_flat(np.array([[0], [2]])))
        self.assertEqual(space.check_flat(np.array([[0], [3]]))[0], 1)

    def test_box(self):
        space = Box(-1.0, [1.0, 2.0], seed=2)
        self.assertEqual(space.shape, (2,))
        np.testing.assert_array_equal(space.low, [-1, -1])
        for _ in range(100):
            sample = space.sample()
            self.assertEqual(sample.dtype, np.float32)
            self.assertTrue(space.contains(sample))
        self.assertTrue(space.contains([1.0, 2.0]))
        self.assertFalse(space.contains([1.5, 0.0]))
        self.assertFalse(space.contains([math.nan, 0.0]))
        self.assertFalse(space.contains([0.0]))
        rows = np.array([[0, 0], [0, 2.5], [math.nan, 0]], np.float32)
        row, message = space.check_flat(rows)
        self.assertEqual(row, 1)
        self.assertIn("box element 1 = 2.5 outside [-1, 2]", message)
        self.assertEqual(space.check_flat(rows[[0, 2]])[0], 1)

    def test_unbounded_box_samples_finite_values(self):
        space = Box(-np.inf, np.inf, (3,), seed=3)
        self.assertTrue(np.all(np.isfinite(space.sample())))
        half = Box(0.0, np.inf, (2,), seed=3)
        self.assertTrue(np.all(half.sample() >= 0))

    def test_multi_discrete(self):
        space = MultiDiscrete([2, 5], seed=4)
        self.assertEqual((space.shape, space.flat_size), ((2,), 2))
        for _ in range(50):
            self.assertTrue(space.contains(space.sample()))
        self.assertFalse(space.contains([2, 0]))
        row, message = space.check_flat(np.array([[1, 4], [1, 5]]))
        self.assertEqual(row, 1)
        self.assertIn("element 1 = 5 outside [0, 5)", message)

    def test_well_formed(self):
        for space in (Discrete(1), Box(0, 1, (2, 3)), MultiDiscrete([1])):
            check_well_formed(space)
        for space in (Discrete(0), Box(1, 0, (1,)), Box(math.nan, 1, (1,)),
                      MultiDiscrete([]), "not a space"):
            with self.assertRaises(ValueError):
                check_well_formed(space)


if __name__ == "__main__":
    unittest.main()
