"""docs/ADDING_AGENTS.md shows the example agent's files in full: every
fenced block marked <!-- file: PATH --> must equal PATH in the repository,
so the guide cannot drift from code that builds and passes its tests."""

import os
import re
import sys
import unittest

MARK = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```\n", re.S)


class AddingAgentsDocTest(unittest.TestCase):

    def test_every_shown_file_is_the_repository_file(self):
        root = os.path.dirname(os.path.abspath(DOC))
        root = os.path.dirname(root)  # docs/ -> the workspace
        with open(DOC) as f:
            shown = MARK.findall(f.read())
        self.assertGreaterEqual(len(shown), 5)
        for path, text in shown:
            with self.subTest(path=path):
                with open(os.path.join(root, path)) as f:
                    self.assertEqual(text, f.read(),
                                     "%s differs from the guide" % path)


if __name__ == "__main__":
    DOC = sys.argv.pop(1)
    unittest.main()
