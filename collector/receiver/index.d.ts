// Types for the CommonJS receiver (index.js, which also re-exports decode.js and tree.js).

/** A decoded attribute value: int64 becomes number, bytes a Uint8Array, kvlist a plain object. */
export type AttributeValue =
  | string
  | number
  | boolean
  | Uint8Array
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

export interface DecodedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

export interface DecodedLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

export interface DecodedSpan {
  /** lowercase hex */
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  durationMs: number;
  attributes: Attributes;
  events: DecodedEvent[];
  links: DecodedLink[];
  /** code: 0 unset, 1 ok, 2 error */
  status: { code: number; message: string };
  /** shared by all spans of one ResourceSpans: do not mutate */
  resource: { attributes: Attributes };
  /** shared by all spans of one ScopeSpans: do not mutate */
  scope: { name: string; version: string };
}

export interface ReceivedRequest {
  path: string;
  contentType: string;
  /** 'gzip' or 'identity' (header absent) */
  contentEncoding: string;
  /** body size as sent (compressed) */
  wireBytes: number;
  /** body size after decompression */
  rawBytes: number;
  spanCount: number;
  /** the request headers as Node parsed them (lowercase names) */
  headers: Record<string, string | string[] | undefined>;
}

export interface ReceiverOptions {
  /** 0 (default) picks a free port */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /** OTLP base URL; every trace request is also POSTed, unchanged, to `${forwardTo}/v1/traces` */
  forwardTo?: string;
  /** default true; false only counts (requests) and calls onSpans, for long runs */
  keepSpans?: boolean;
  /** called with each decoded batch, after the response was sent */
  onSpans?: (spans: DecodedSpan[], request: ReceivedRequest) => void;
}

export interface Receiver {
  /** 'http://127.0.0.1:PORT': use as OTEL_EXPORTER_OTLP_ENDPOINT, or `${url}/v1/traces` as exporter url */
  readonly url: string;
  readonly port: number;
  /** successfully decoded /v1/traces requests, in arrival order (live array) */
  readonly requests: ReceivedRequest[];
  /** copy of all spans received so far, in arrival order */
  spans(): DecodedSpan[];
  /** traceId -> spans, in arrival order */
  traces(): Map<string, DecodedSpan[]>;
  /** resolves with all spans once predicate(all spans) is true; rejects after timeoutMs (default 10000) with a summary of what arrived */
  waitFor(predicate: (spans: DecodedSpan[]) => boolean, timeoutMs?: number): Promise<DecodedSpan[]>;
  /** forgets spans and requests */
  clear(): void;
  /** stops listening, drops open connections, rejects pending waitFor calls */
  close(): Promise<void>;
}

export declare const MAX_BODY_BYTES: number;

export declare function startOtlpReceiver(options?: ReceiverOptions): Promise<Receiver>;

/** Decodes an uncompressed ExportTraceServiceRequest body; contentType `application/x-protobuf` (default) or `application/json`. */
export declare function decodeTraceRequest(buffer: Uint8Array, contentType?: string): DecodedSpan[];

/** One tree per trace; '' for no spans. */
export declare function formatTraceTree(spans: DecodedSpan[], options?: { color?: boolean }): string;
