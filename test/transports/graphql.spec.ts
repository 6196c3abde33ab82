import { afterEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Injectable, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';

import {
  Args,
  Field,
  GraphQLModule,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import {
  CircuitBreaker,
  CircuitBreakerInterceptor,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  type CircuitBreakerRejection,
  CircuitBreakerRejectionMapper,
  ManualClock,
} from '../../lib/index.js';
import { breakerOptions, Downstream, OPEN_MS, RecordingLogger } from './fixture/common.js';

@ObjectType()
class Product {
  @Field(() => String)
  id!: string;

  @Field(() => String, { nullable: true })
  price?: string | null;

  @Field(() => String, { nullable: true })
  stock?: string | null;
}

/** A second dependency, guarded by the breaker `pricing`, with a fallback. */
@Injectable()
class Pricing {
  @CircuitBreaker('pricing', { fallback: 'unknownPrice' })
  async price(id: string): Promise<string | null> {
    return `price:${id}`;
  }

  unknownPrice(): null {
    return null;
  }
}

@Resolver(() => Product)
class ProductResolver {
  constructor(
    private readonly downstream: Downstream,
    private readonly pricing: Pricing,
  ) {}

  @Query(() => String)
  quote(@Args('id', { type: () => String }) id: string): Promise<string> {
    return this.downstream.quote(id);
  }

  @Query(() => Product)
  product(@Args('id', { type: () => String }) id: string): Product {
    return { id };
  }

  @ResolveField('price', () => String, { nullable: true })
  price(@Parent() product: Product): Promise<string | null> {
    return this.pricing.price(product.id);
  }

  @ResolveField('stock', () => String, { nullable: true })
  stock(@Parent() product: Product): Promise<string> {
    return this.downstream.quote(`stock-of-${product.id}`);
  }
}

@Resolver(() => Product)
@UseInterceptors(CircuitBreakerInterceptor)
class InterceptedProductResolver extends ProductResolver {}

/** Overrides one context's hook only. */
@Injectable()
class TryLaterMapper extends CircuitBreakerRejectionMapper {
  protected override mapGraphql(error: CircuitBreakerRejection): unknown {
    return new GraphQLError(`try later (${error.name})`, { extensions: { code: 'TRY_LATER' } });
  }
}

interface GraphqlReply {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

describe('GraphQL (Apollo, code-first)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(mode: 'filter' | 'interceptor' | 'subclass') {
    const clock = new ManualClock();
    const logger = new RecordingLogger();
    @Module({
      imports: [
        CircuitBreakerModule.forRoot({
          ...breakerOptions(clock),
          httpErrorFilter: mode === 'filter',
        }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          includeStacktraceInErrorResponses: false,
          // Field resolvers run no filter or interceptor unless asked to.
          fieldResolverEnhancers: ['filters', 'interceptors'],
        }),
      ],
      providers: [
        Downstream,
        Pricing,
        mode === 'filter' ? ProductResolver : InterceptedProductResolver,
        ...(mode === 'subclass'
          ? [{ provide: CircuitBreakerRejectionMapper, useClass: TryLaterMapper }]
          : []),
      ],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/graphql`.replace('[::1]', '127.0.0.1');
    const query = async (source: string): Promise<GraphqlReply> => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: source }),
      });
      return (await response.json()) as GraphqlReply;
    };
    return {
      clock,
      logger,
      query,
      downstream: app.get(Downstream),
      registry: app.get(CircuitBreakerRegistry),
    };
  }

  describe.each(['filter', 'interceptor'] as const)('through the %s', (mode) => {
    it('a refused query answers a GraphQLError with SERVICE_UNAVAILABLE and retryAfter', async () => {
      const { query, downstream, clock, logger } = await start(mode);
      expect(await query('{ quote(id: "a") }')).toEqual({ data: { quote: 'quote:a' } });
      downstream.healthy = false;
      expect((await query('{ quote(id: "a") }')).errors?.[0]?.message).toBe('downstream is down');
      const errorsBefore = logger.at('error').length;
      clock.advance(OPEN_MS - 2_500);
      expect(await query('{ quote(id: "a") }')).toEqual({
        data: null,
        errors: [
          {
            message: 'Service unavailable: a dependency is failing, retry later',
            locations: [{ line: 1, column: 3 }],
            path: ['quote'],
            extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'CIRCUIT_OPEN', retryAfter: 3 },
          },
        ],
      });
      expect(logger.at('error')).toHaveLength(errorsBefore);
    });

    it('fields answer partial data: a fallback fills one, a refused nullable one is null', async () => {
      const { query, registry } = await start(mode);
      registry.get('pricing').isolate();
      registry.get('downstream').isolate();
      const reply = await query('{ product(id: "p1") { id price stock } }');
      expect(reply.data).toEqual({ product: { id: 'p1', price: null, stock: null } });
      expect(reply.errors?.map((e) => [e.path, e.extensions])).toEqual([
        [['product', 'stock'], { code: 'SERVICE_UNAVAILABLE', reason: 'CIRCUIT_ISOLATED' }],
      ]);
      registry.get('pricing').reset();
      expect((await query('{ product(id: "p1") { id price } }')).data).toEqual({
        product: { id: 'p1', price: 'price:p1' },
      });
    });
  });

  it('a subclass overriding mapGraphql alone changes the GraphQL answer', async () => {
    const { query, registry } = await start('subclass');
    registry.get('downstream').isolate();
    const reply = await query('{ quote(id: "a") }');
    expect(reply.errors?.map((e) => [e.message, e.extensions])).toEqual([
      ['try later (CircuitOpenError)', { code: 'TRY_LATER' }],
    ]);
  });
});
