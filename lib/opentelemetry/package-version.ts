/**
 * The meter's name and version: this package's. The version is written here rather than read from
 * package.json at run time (a bundle may not ship it); a test checks that the two agree.
 */
export const METER_NAME = 'nestjs-circuit-breaker';
export const METER_VERSION = '0.1.0';
