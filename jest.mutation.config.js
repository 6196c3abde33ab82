/**
 * The Jest config Stryker's mutation run uses (stryker.config.mjs): the project's config, limited
 * to the specs that exercise lib/core (test/core, test/property). The Nest, Redis, e2e, README and
 * package suites are slow and are not about lib/core.
 */
import base from './jest.config.js';

export default {
  ...base,
  roots: ['<rootDir>/test/core', '<rootDir>/test/property'],
};
