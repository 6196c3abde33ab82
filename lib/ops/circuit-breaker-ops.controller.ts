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
import { familySummary } from './family-summary.js';
import { UPDATE_STATES, type UpdateState } from './ops.constants.js';
import { OpsEventLog } from './ops-event-log.js';
import { OpsEventStream } from './ops-event-stream.js';
import { requestedBy, takeOverResponse } from './ops-http.js';
import type {
  CircuitBreakerDetails,
  CircuitBreakerFamilySummary,
  CircuitBreakerOpsEvent,
  CircuitBreakerOpsEventType,
} from './ops-payloads.interface.js';

/** A breaker, or a key of a family, that a route names. */
interface Target {
  readonly breaker: Breaker;
  /** Its name: `payments`, `carrier:dhl`. */
  readonly name: string;
  readonly family?: string;
  readonly key?: string;
}

type ManualAnswer = { circuitBreakerName: string; currentState: string; message: string };
type Events = { circuitBreakerEvents: CircuitBreakerOpsEvent[] };

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
 * can use different ones. A family's key is named `<family>:<key>` (or `:family/:key` on the
 * breaker routes); a family's name answers its summary. Nothing here creates a breaker or a key.
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
  list(): {
    circuitBreakers: Record<string, CircuitBreakerDetails>;
    families: Record<string, CircuitBreakerFamilySummary>;
  } {
    const circuitBreakers: Record<string, CircuitBreakerDetails> = {};
    // Existing breakers only: the list never creates one.
    for (const name of Object.keys(this.registry.snapshot())) {
      circuitBreakers[name] = breakerDetails(
        this.registry.get(name),
        this.log.lastTransition(name),
      );
    }
    // A family is one summary, whatever its size: its keys are read one by one.
    const families: Record<string, CircuitBreakerFamilySummary> = {};
    for (const name of Object.keys(this.registry.familySnapshot())) {
      families[name] = familySummary(this.registry.family(name));
    }
    return { circuitBreakers, families };
  }

  @Get('circuitbreakers/:name')
  one(@Param('name') name: string): CircuitBreakerDetails | CircuitBreakerFamilySummary {
    if (!this.registry.has(name) && this.registry.hasFamily(name)) {
      return familySummary(this.registry.family(name));
    }
    return this.details(this.target(name));
  }

  @Get('circuitbreakers/:family/:key')
  member(@Param('family') family: string, @Param('key') key: string): CircuitBreakerDetails {
    return this.details(this.keyOf(family, key));
  }

  @Post('circuitbreakers/:name')
  @HttpCode(200)
  updateState(
    @Param('name') name: string,
    @Body() body: unknown,
    @Req() request: unknown,
  ): Promise<ManualAnswer> {
    return this.manual(this.target(name), body, request);
  }

  @Post('circuitbreakers/:family/:key')
  @HttpCode(200)
  updateMemberState(
    @Param('family') family: string,
    @Param('key') key: string,
    @Body() body: unknown,
    @Req() request: unknown,
  ): Promise<ManualAnswer> {
    return this.manual(this.keyOf(family, key), body, request);
  }

  @Get('circuitbreakerevents')
  allEvents(): Events {
    return { circuitBreakerEvents: this.log.events() };
  }

  @Get('circuitbreakerevents/:name')
  events(@Param('name') name: string): Events {
    return { circuitBreakerEvents: this.eventsOf(name) };
  }

  @Get('circuitbreakerevents/:name/:eventType')
  eventsOfType(@Param('name') name: string, @Param('eventType') eventType: string): Events {
    const type = eventType.toUpperCase();
    if (!EVENT_TYPES.has(type)) {
      this.eventsOf(name); // an unknown name is a 404 first
      throw new BadRequestException(
        `Unknown event type ${describeValue(eventType)}; one of ${[...EVENT_TYPES].join(', ')}`,
      );
    }
    return { circuitBreakerEvents: this.eventsOf(name, type as CircuitBreakerOpsEventType) };
  }

  @Get('streamcircuitbreakerevents')
  streamAll(@Res() response: unknown): void {
    const { raw, headers } = takeOverResponse(response);
    this.stream.connect(raw, undefined, headers);
  }

  @Get('streamcircuitbreakerevents/:name')
  streamOne(@Param('name') name: string, @Res() response: unknown): void {
    const followed = this.isFamily(name) ? name : this.target(name).name;
    const { raw, headers } = takeOverResponse(response);
    this.stream.connect(raw, followed, headers);
  }

  private details(target: Target): CircuitBreakerDetails {
    return breakerDetails(
      target.breaker,
      this.log.lastTransition(target.family ?? target.name, target.key),
    );
  }

  /** The recent events of a breaker, a family (every key's) or one key (`carrier:dhl`). */
  private eventsOf(name: string, type?: CircuitBreakerOpsEventType): CircuitBreakerOpsEvent[] {
    if (this.isFamily(name)) return this.log.events(name, type);
    const target = this.target(name);
    return target.family === undefined
      ? this.log.events(name, type)
      : this.log.events(target.family, type, target.name);
  }

  private async manual(target: Target, body: unknown, request: unknown): Promise<ManualAnswer> {
    const { breaker, name } = target;
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
      target.family,
    );
    const message = `Circuit breaker "${name}" ${done}`;
    this.logger.log(`${message} (${update}, requested by ${who}); now ${breaker.state}`);
    return { circuitBreakerName: name, currentState: breaker.state, message };
  }

  /** Whether `name` is a family (and not a breaker). */
  private isFamily(name: string): boolean {
    return !this.registry.has(name) && this.registry.hasFamily(name);
  }

  /**
   * The breaker `name`, or the key of a family named `<family>:<key>`; never created here: an
   * unknown name answers 404.
   */
  private target(name: string): Target {
    if (this.registry.has(name)) return { breaker: this.registry.get(name), name };
    const at = name.indexOf(':');
    if (at > 0 && this.registry.hasFamily(name.slice(0, at))) {
      return this.keyOf(name.slice(0, at), name.slice(at + 1));
    }
    throw new NotFoundException(`No circuit breaker named ${JSON.stringify(name)}`);
  }

  /** Key `key` of family `family` if it is held (a look-up: no key is created, no use counted). */
  private keyOf(family: string, key: string): Target {
    if (!this.registry.hasFamily(family)) {
      throw new NotFoundException(`No circuit breaker family named ${JSON.stringify(family)}`);
    }
    const breaker = this.registry.family(family).peek(key);
    if (breaker === undefined) {
      throw new NotFoundException(
        `No key ${JSON.stringify(key)} held now in circuit breaker family ${JSON.stringify(family)}`,
      );
    }
    return { breaker, name: breaker.name, family, key };
  }
}
