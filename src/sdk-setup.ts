import { diag, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, getStringFromEnv, getStringListFromEnv, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import type { IdGenerator, Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/*
 * What NodeSDK 0.223 set up for the agent, without NodeSDK: it requires every exporter (gRPC,
 * zipkin, logs, metrics, prometheus), the logs and metrics SDKs and the configuration packages at
 * load time, about 16 MiB of RSS the agent never used. Each piece below is what NodeSDK's start()
 * did with the options the agent gave it (its sdk.js and utils.js), and reads process.env as it did.
 */

export interface SdkOptions {
  instrumentations: Instrumentation[];
  spanProcessors: SpanProcessor[];
  sampler: Sampler;
  idGenerator: IdGenerator;
}

/** Registered with the API; shutdown() shuts the span processors down (flush included), as NodeSDK's did. */
export interface Sdk {
  shutdown(): Promise<void>;
}

export function startSdk(options: SdkOptions): Sdk {
  registerInstrumentations({ instrumentations: options.instrumentations });
  const provider = new NodeTracerProvider({
    resource: detectResource(),
    sampler: options.sampler,
    idGenerator: options.idGenerator,
    spanProcessors: options.spanProcessors,
    // Span limits: the provider reads OTEL_SPAN_* and OTEL_ATTRIBUTE_* itself, as NodeSDK did for it.
  });
  // The AsyncLocalStorage context manager, and the propagator (undefined: tracecontext + baggage).
  provider.register({ propagator: propagatorFromEnv() });
  return { shutdown: () => provider.shutdown() };
}

/**
 * NodeSDK's default resource: service.name `unknown_service:<executable>` and telemetry.sdk.*,
 * merged with the detectors (env: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; process; host).
 * Attributes a detector finds asynchronously (host.id) are awaited before export by the queue.
 */
export function detectResource(): Resource {
  return defaultResource().merge(detectResources({ detectors: resourceDetectors() }));
}

const DETECTORS: ReadonlyMap<string, ResourceDetector> = new Map([
  ['host', hostDetector],
  ['os', osDetector],
  ['serviceinstance', serviceInstanceIdDetector],
  ['process', processDetector],
  ['env', envDetector],
]);

/** OTEL_NODE_RESOURCE_DETECTORS (`all`, `none`, or names), else NodeSDK's default three. */
export function resourceDetectors(): ResourceDetector[] {
  if (!getStringFromEnv('OTEL_NODE_RESOURCE_DETECTORS')) return [envDetector, processDetector, hostDetector];
  const names = getStringListFromEnv('OTEL_NODE_RESOURCE_DETECTORS') ?? [];
  if (names.includes('all')) return [...DETECTORS.values()];
  if (names.includes('none')) return [];
  return names.flatMap((name) => {
    const detector = DETECTORS.get(name);
    if (!detector) diag.warn(`Invalid resource detector "${name}" specified in the environment variable OTEL_NODE_RESOURCE_DETECTORS`);
    return detector ?? [];
  });
}

type B3Module = typeof import('@opentelemetry/propagator-b3');
type JaegerModule = typeof import('@opentelemetry/propagator-jaeger');

// b3 and jaeger are loaded only when named, so the default costs nothing.
const PROPAGATORS: ReadonlyMap<string, () => TextMapPropagator> = new Map([
  ['tracecontext', () => new W3CTraceContextPropagator()],
  ['baggage', () => new W3CBaggagePropagator()],
  ['b3', () => new (require('@opentelemetry/propagator-b3') as B3Module).B3Propagator()],
  ['b3multi', () => {
    const b3 = require('@opentelemetry/propagator-b3') as B3Module;
    return new b3.B3Propagator({ injectEncoding: b3.B3InjectEncoding.MULTI_HEADER });
  }],
  ['jaeger', () => {
    diag.warn('The Jaeger propagator is deprecated and will be removed in a future release. Use the W3C TraceContext propagator ("tracecontext") instead.');
    return new (require('@opentelemetry/propagator-jaeger') as JaegerModule).JaegerPropagator();
  }],
]);

/**
 * OTEL_PROPAGATORS as NodeSDK read it: unset or empty gives undefined (the provider's default,
 * tracecontext + baggage); `none`, or only unknown names, gives null (no propagator registered).
 */
export function propagatorFromEnv(): TextMapPropagator | null | undefined {
  const names = getStringListFromEnv('OTEL_PROPAGATORS');
  if (names == null) return undefined;
  if (names.includes('none')) return null;
  const unique = [...new Set(names)];
  const propagators = unique.flatMap((name) => {
    const make = PROPAGATORS.get(name);
    if (!make) diag.warn(`Propagator "${name}" requested through environment variable is unavailable.`);
    return make ? [make()] : [];
  });
  if (propagators.length === 0) return null;
  return unique.length === 1 ? propagators[0] : new CompositePropagator({ propagators });
}
