export * from './circuit-breaker-module-options.interface.js';
export * from './circuit-breaker-options.interface.js';
export * from './circuit-breaker-metadata.interface.js';
