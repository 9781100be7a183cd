// The platform's version (root pom.xml) in semver: 0.1.0-SNAPSHOT is 0.1.0-dev.0; package.json says the same.
// A test checks both against the pom.
export const VERSION = '0.1.0-dev.0';
