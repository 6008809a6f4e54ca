import { VERSION } from '../util/version';

/*
 * What the admin API's HTTP worker and the main thread exchange, and the envelope of every answer.
 * Kept apart from the routes so the worker loads none of the configuration code.
 */

/** A request as the admin worker hands it over: the token already checked, the body already read. */
export interface AdminRequest {
  method: string;
  path: string;
  search: string;
  /** The bearer token matched (PATCH only). */
  authorized: boolean;
  tokenConfigured: boolean;
  body?: string;
}

/**
 * States of the word a PATCH shares between the worker and the main thread: the main thread takes
 * the change (PENDING -> TAKEN) before it applies it, the worker cancels it at its deadline
 * (PENDING -> CANCELLED); whoever moves first wins, so a change is never applied after its client
 * was told it was not.
 */
export const CLAIM_PENDING = 0;
export const CLAIM_TAKEN = 1;
export const CLAIM_CANCELLED = 2;

/** An admin API answer before serialization: the HTTP status and the enveloped body. */
export interface AdminReply {
  code: number;
  body: Record<string, unknown>;
}

/** Every admin answer, success or error, wears the report's envelope: `status`, its own fields, `metadata`. */
export function envelope(status: 'success' | 'error', body: Record<string, unknown>): Record<string, unknown> {
  return { status, ...body, metadata: { timestamp: new Date().toISOString(), version: VERSION } };
}

export function ok(body: Record<string, unknown>, code = 200): AdminReply {
  return { code, body: envelope('success', body) };
}

export function fail(code: number, error: string, extra: Record<string, unknown> = {}): AdminReply {
  return { code, body: envelope('error', { error, ...extra }) };
}
