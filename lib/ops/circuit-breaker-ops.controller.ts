import {
  BadRequestException,
  Body,
  Get,
  HttpCode,
  Inject,
  Logger,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import { type Breaker, describeValue } from '../core/internal.js';
import { breakerDetails } from './breaker-details.js';
import { UPDATE_STATES, type UpdateState } from './ops.constants.js';
import { OpsEventLog } from './ops-event-log.js';
import { OpsEventStream } from './ops-event-stream.js';
import { requestedBy, takeOverResponse } from './ops-http.js';
import type {
  CircuitBreakerDetails,
  CircuitBreakerOpsEvent,
  CircuitBreakerOpsEventType,
} from './ops-payloads.interface.js';

const EVENT_TYPES: ReadonlySet<string> = new Set<CircuitBreakerOpsEventType>([
  'SUCCESS',
  'ERROR',
  'IGNORED_ERROR',
  'NOT_PERMITTED',
  'STATE_TRANSITION',
  'RESET',
  'FORCED_OPEN_STATE',
  'DISABLED_STATE',
  'TIMEOUT',
]);

/**
 * The ops routes (resilience4j's actuator endpoints). Undecorated as a controller: the module
 * makes a subclass per `forRoot()` with its `path` and guards, so two applications in one process
 * can use different ones.
 * @internal
 */
export class CircuitBreakerOpsController {
  private readonly logger = new Logger('CircuitBreakerOps');

  constructor(
    @Inject(CIRCUIT_BREAKER_REGISTRY) private readonly registry: CircuitBreakerRegistry,
    @Inject(OpsEventLog) private readonly log: OpsEventLog,
    @Inject(OpsEventStream) private readonly stream: OpsEventStream,
  ) {}

  @Get('circuitbreakers')
  list(): { circuitBreakers: Record<string, CircuitBreakerDetails> } {
    const circuitBreakers: Record<string, CircuitBreakerDetails> = {};
    // Existing breakers only: the list never creates one.
    for (const name of Object.keys(this.registry.snapshot())) {
      circuitBreakers[name] = breakerDetails(
        this.registry.get(name),
        this.log.lastTransition(name),
      );
    }
    return { circuitBreakers };
  }

  @Get('circuitbreakers/:name')
  one(@Param('name') name: string): CircuitBreakerDetails {
    return breakerDetails(this.existing(name), this.log.lastTransition(name));
  }

  @Post('circuitbreakers/:name')
  @HttpCode(200)
  async updateState(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: unknown,
  ): Promise<{ circuitBreakerName: string; currentState: string; message: string }> {
    const breaker = this.existing(name);
    const update = (body as { updateState?: unknown } | null | undefined)?.updateState;
    if (typeof update !== 'string' || !Object.hasOwn(UPDATE_STATES, update)) {
      throw new BadRequestException(
        'Expected a body { "updateState": "FORCE_OPEN" | "CLOSE" | "DISABLE" }, received ' +
          (typeof body === 'object' && body !== null
            ? `updateState ${describeValue(update)}`
            : describeValue(body)),
      );
    }
    const { reason, state, done } = UPDATE_STATES[update as UpdateState];
    const who = requestedBy(request);
    await this.log.manual(
      { name, reason, requestedBy: who },
      () => {
        if (reason === 'isolate') breaker.isolate();
        else if (reason === 'disable') breaker.disable();
        else breaker.reset();
      },
      () => breaker.state === state,
    );
    const message = `Circuit breaker "${name}" ${done}`;
    this.logger.log(`${message} (${update}, requested by ${who}); now ${breaker.state}`);
    return { circuitBreakerName: name, currentState: breaker.state, message };
  }

  @Get('circuitbreakerevents')
  allEvents(): { circuitBreakerEvents: CircuitBreakerOpsEvent[] } {
    return { circuitBreakerEvents: this.log.events() };
  }

  @Get('circuitbreakerevents/:name')
  events(@Param('name') name: string): { circuitBreakerEvents: CircuitBreakerOpsEvent[] } {
    this.existing(name);
    return { circuitBreakerEvents: this.log.events(name) };
  }

  @Get('circuitbreakerevents/:name/:eventType')
  eventsOfType(
    @Param('name') name: string,
    @Param('eventType') eventType: string,
  ): { circuitBreakerEvents: CircuitBreakerOpsEvent[] } {
    this.existing(name);
    const type = eventType.toUpperCase();
    if (!EVENT_TYPES.has(type)) {
      throw new BadRequestException(
        `Unknown event type ${describeValue(eventType)}; one of ${[...EVENT_TYPES].join(', ')}`,
      );
    }
    return { circuitBreakerEvents: this.log.events(name, type as CircuitBreakerOpsEventType) };
  }

  @Get('streamcircuitbreakerevents')
  streamAll(@Res() response: unknown): void {
    const { raw, headers } = takeOverResponse(response);
    this.stream.connect(raw, undefined, headers);
  }

  @Get('streamcircuitbreakerevents/:name')
  streamOne(@Param('name') name: string, @Res() response: unknown): void {
    this.existing(name);
    const { raw, headers } = takeOverResponse(response);
    this.stream.connect(raw, name, headers);
  }

  /** The breaker `name`, never created here: an unknown name answers 404. */
  private existing(name: string): Breaker {
    if (!this.registry.has(name)) {
      throw new NotFoundException(`No circuit breaker named ${JSON.stringify(name)}`);
    }
    return this.registry.get(name);
  }
}
