"""Installs the toonify package.  From a checkout whose library is built (build/libtoonify.so.0),
the package remembers that build directory (toonify/_build_info.py), so `pip install ./python`
works without installing the library; otherwise it uses an installed libtoonify.so.0."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPy(build_py):
    def run(self):
        super().run()
        build_dir = os.path.join(os.path.dirname(HERE), "build")
        if os.path.exists(os.path.join(build_dir, "libtoonify.so.0")):
            target = os.path.join(self.build_lib, "toonify", "_build_info.py")
            with open(target, "w") as f:
                f.write("# Written by setup.py: the checkout's build this package was installed "
                        "from.\nBUILD_DIR = %r\n" % build_dir)


setup(cmdclass={"build_py": BuildPy})
