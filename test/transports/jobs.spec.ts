import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Injectable, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Cron, Interval, ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
// Observable as a value: the decorator reads the declared return type from its metadata.
import { Observable, throwError } from 'rxjs';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';
import { RecordingLogger } from './fixture/common.js';

@Injectable()
class Jobs {
  healthy = false;
  runs = { interval: 0, cron: 0, event: 0 };

  private work(kind: keyof Jobs['runs']): Promise<void> {
    this.runs[kind]++;
    return this.healthy ? Promise.resolve() : Promise.reject(new Error(`${kind} failed`));
  }

  // Both decorator orders: the skip is decided on the method as finally decorated.
  @Interval(1_000)
  @CircuitBreaker('interval-job')
  syncByInterval(): Promise<void> {
    return this.work('interval');
  }

  @CircuitBreaker('cron-job')
  @Cron('* * * * * *')
  async syncByCron(): Promise<void> {
    await this.work('cron');
  }

  @OnEvent('order.created')
  @CircuitBreaker('event-handler')
  onOrder(): Promise<void> {
    return this.work('event');
  }

  /** Not a job: a refusal reaches its caller as usual. */
  @CircuitBreaker('interval-job')
  plain(): Promise<void> {
    return this.work('interval');
  }
}

describe('scheduled jobs and event handlers', () => {
  let app: INestApplicationContext | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    jest.useRealTimers();
  });

  async function start() {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const clock = new ManualClock();
    const logger = new RecordingLogger();
    @Module({
      imports: [
        CircuitBreakerModule.forRoot({
          defaults: { clock, failureThreshold: 1, openDuration: 60_000 },
        }),
        ScheduleModule.forRoot(),
        EventEmitterModule.forRoot(),
      ],
      providers: [Jobs],
    })
    class AppModule {}
    app = await NestFactory.createApplicationContext(AppModule, { logger, abortOnError: false });
    await app.init();
    return {
      logger,
      jobs: app.get(Jobs),
      registry: app.get(CircuitBreakerRegistry),
      emitter: app.get(EventEmitter2),
    };
  }

  const rejections = (registry: CircuitBreakerRegistry, name: string) =>
    registry.get(name).stats().rejections;

  it('@Interval and @Cron: a refused run is skipped, logged at debug, counted, not logged as an error', async () => {
    const { logger, jobs, registry } = await start();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(jobs.runs).toEqual({ interval: 1, cron: 1, event: 0 });
    // The first runs failed for real: that is an error, and it opened both circuits.
    expect(logger.at('error').sort()).toEqual([
      expect.stringMatching(/^Error: cron failed/),
      expect.stringMatching(/^Error: interval failed/),
    ]);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(jobs.runs).toEqual({ interval: 1, cron: 1, event: 0 });
    expect(rejections(registry, 'interval-job')).toBe(5);
    expect(rejections(registry, 'cron-job')).toBe(5);
    expect(logger.at('error')).toHaveLength(2);
    const skips = logger.at('debug').filter((line) => line.includes('skipped'));
    expect(skips).toHaveLength(10);
    expect(skips[0]).toMatch(
      /^Jobs\.syncBy(Interval|Cron) skipped: breaker "(interval|cron)-job" refused the run/,
    );
  });

  it('@OnEvent: a refused event is skipped, logged at debug, counted, not logged as an error', async () => {
    const { logger, jobs, registry, emitter } = await start();
    await emitter.emitAsync('order.created', { id: 1 });
    expect(logger.at('error')).toEqual([expect.stringMatching(/^event failed/)]);
    for (let i = 0; i < 3; i++) await emitter.emitAsync('order.created', { id: 1 });
    expect(jobs.runs.event).toBe(1);
    expect(rejections(registry, 'event-handler')).toBe(3);
    expect(logger.at('error')).toHaveLength(1);
    expect(logger.at('debug').filter((line) => line.includes('Jobs.onOrder skipped'))).toHaveLength(
      3,
    );
  });

  it('a method that is not a job still rejects a refused call to its caller', async () => {
    const { jobs, registry } = await start();
    registry.get('interval-job').isolate();
    await expect(jobs.plain()).rejects.toMatchObject({ name: 'CircuitOpenError' });
  });
});

@Injectable()
class Shapes {
  @Interval(1_000)
  @CircuitBreaker('shapes')
  syncJob(): string {
    throw new Error('sync failed');
  }

  @OnEvent('shape')
  @CircuitBreaker('shapes')
  streamJob(): Observable<string> {
    return throwError(() => new Error('stream failed'));
  }
}

describe('skipping a refused job run, in each return shape', () => {
  it('a synchronous job returns undefined; an Observable one completes empty; other errors pass', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ defaults: { failureThreshold: 1 } })],
      providers: [Shapes],
    }).compile();
    await moduleRef.init();
    const shapes = moduleRef.get(Shapes);
    expect(() => shapes.syncJob()).toThrow('sync failed');
    expect(moduleRef.get(CircuitBreakerRegistry).get('shapes').state).toBe('OPEN');
    expect(shapes.syncJob()).toBeUndefined();
    const values: unknown[] = [];
    await new Promise<void>((resolve, reject) =>
      shapes
        .streamJob()
        .subscribe({ next: (v) => values.push(v), complete: resolve, error: reject }),
    );
    expect(values).toEqual([]);
    expect(moduleRef.get(CircuitBreakerRegistry).get('shapes').stats().rejections).toBe(2);
    await moduleRef.close();
  });
});
