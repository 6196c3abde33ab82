import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { CircuitBreakerRegistry, type ManualClock } from '../../lib/index.js';
import { createApp, PLATFORMS } from './fixture/app.factory.js';
import { OPEN_MS, THRESHOLD } from './fixture/app.module.js';
import { Dependency } from './fixture/dependency.js';

describe.each(PLATFORMS)('HTTP on %s', (platform) => {
  let app: INestApplication;
  let _clock: ManualClock;
  let dependency: Dependency;
  let registry: CircuitBreakerRegistry;

  afterEach(async () => {
    await app?.close();
  });

  async function start(): Promise<void> {
    ({ app, clock: _clock } = await createApp(platform));
    dependency = app.get(Dependency);
    registry = app.get(CircuitBreakerRegistry);
  }

  const http = () => request(app.getHttpServer());

  it('serves a Promise method, opens after the threshold and answers 503 with Retry-After', async () => {
    await start();
    await http().get('/quotes/a').expect(200, { quote: 'quote:a' });
    dependency.healthy = false;
    for (let i = 0; i < THRESHOLD; i++) await http().get('/quotes/a').expect(500);
    expect(registry.get('quotes').state).toBe('OPEN');
    const callsBefore = dependency.calls;
    const refused = await http().get('/quotes/a').expect(503);
    expect(refused.headers['retry-after']).toBe(String(OPEN_MS / 1_000));
    expect(refused.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
    expect(dependency.calls).toBe(callsBefore);
  });
});
