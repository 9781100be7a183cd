# The platform's version (root pom.xml) in PEP 440: 0.1.0-SNAPSHOT is 0.1.0.dev0. A test checks they match.
__version__ = "0.1.0.dev0"
