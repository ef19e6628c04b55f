"""The authoring API: typed settings, the registry, spec checks."""

import unittest

import numpy as np

from marl_env import Box, Discrete, Env, EnvSpec, Setting, register
from marl_env import env as env_lib


@register("env_test_game", "a game for these tests")
class Game(Env):
    settings = [Setting("size", 2, "an int"),
                Setting("scale", 1.0, "a double"),
                Setting("hard", False, "a bool"),
                Setting("mode", "fast", "a string"),
                Setting("table", [[1, 2], [3, 4]], "an array")]

    def __init__(self, settings):
        super().__init__(settings)
        self.spec = EnvSpec(["x", "y"], Box(0, 1, (1,)),
                            {"x": Discrete(2), "y": Discrete(3)})


class SettingsTest(unittest.TestCase):

    def test_defaults_and_types(self):
        game = Game.from_settings(scale=2, table=np.eye(3))
        self.assertEqual(game.config["size"], 2)
        self.assertIsInstance(game.config["scale"], float)  # int accepted
        self.assertEqual(game.config["table"].shape, (3, 3))
        self.assertEqual(Game.settings[4].type_name, "array")
        self.assertEqual(game.spec.action_spaces, (Discrete(2), Discrete(3)))

    def test_errors_name_the_problem(self):
        cases = [({"colour": 1}, "unknown setting 'colour'; known: size"),
                 ({"size": 1.5}, "'size' takes int, got double"),
                 ({"hard": 1}, "'hard' takes bool, got int"),
                 ({"size": True}, "'size' takes int, got bool"),
                 ({"mode": 3}, "'mode' takes string, got int"),
                 ({"table": "[[1]]"}, "'table' takes array, got string")]
        for given, message in cases:
            with self.subTest(given=given):
                with self.assertRaises(ValueError) as caught:
                    Game.from_settings(**given)
                self.assertIn(message, str(caught.exception))

    def test_format(self):
        self.assertEqual(env_lib.format_setting_value(np.array([[1, 0.5]])),
                         "[[1,0.5]]")
        self.assertEqual(env_lib.format_setting_value(True), "true")


class RegistryTest(unittest.TestCase):

    def test_registered_and_found(self):
        self.assertIs(env_lib.find("env_test_game"), Game)
        self.assertIn("env_test_game", env_lib.registered())
        self.assertEqual(Game.description, "a game for these tests")
        with self.assertRaises(KeyError) as caught:
            env_lib.find("missing")
        self.assertIn("env_test_game", str(caught.exception))

    def test_name_taken_twice_is_refused(self):
        with self.assertRaises(ValueError):
            @register("env_test_game")
            class Other(Env):  # pylint: disable=unused-variable
                pass

    def test_only_env_subclasses(self):
        with self.assertRaises(TypeError):
            register("env_test_not_an_env")(dict)


class SpecTest(unittest.TestCase):

    def test_checks(self):
        good = EnvSpec(["a"], Discrete(1), Discrete(2), info_keys=["k"])
        good.check()
        self.assertEqual(good.num_agents, 1)
        bad = [EnvSpec([], [], []),
               EnvSpec(["a", "a"], Discrete(1), Discrete(1)),
               EnvSpec(["a"], Discrete(0), Discrete(1)),
               EnvSpec(["a"], Discrete(1), Discrete(1), episode_limit=-1),
               EnvSpec(["a"], Discrete(1), Discrete(1), info_keys=["k", "k"])]
        for spec in bad:
            with self.assertRaises(ValueError):
                spec.check()
        with self.assertRaises(ValueError):
            EnvSpec(["a", "b"], {"a": Discrete(1)}, Discrete(1))
        with self.assertRaises(ValueError):
            EnvSpec(["a", "b"], [Discrete(1)], Discrete(1))


if __name__ == "__main__":
    unittest.main()
